"""How the mock and the operator fakes play the counterparty.

A scenario is a short string, the same for every fake:

========================  ==============================================
``sign`` (default)        delivered and signed on the first poll
``sign-after:N``          delivered on the first poll, signed on the N-th
``reject:REASON``         delivered and rejected with REASON on the first poll
``silent``                never answers
``flaky:K``               the first K calls for the document fail with a
                          transient error, then it behaves like ``sign``
``revoke``                signed on the first poll; on the second it asks
                          to annul the document (a revocation request)
``reject-revocation:R``   signs like ``sign``, and refuses our revocation
                          request with reason R
========================  ==============================================

Our own revocation request is answered on the next poll: accepted, refused under
``reject-revocation:R``, left unanswered under ``silent``.
"""

from __future__ import annotations

import dataclasses
import enum

from ..errors import ValidationError


class Play(enum.StrEnum):
    DELIVERED = "delivered"
    SIGNED = "signed"
    REJECTED = "rejected"
    REVOKED = "revoked"  # the counterparty asks to annul (where the operator has requests)
    # The counterparty's answer to our revocation request.
    REVOCATION_ACCEPTED = "revocation_accepted"
    REVOCATION_REJECTED = "revocation_rejected"


SCENARIO_HELP = (
    "sign, sign-after:N, reject:REASON, silent, flaky:K, revoke, reject-revocation:REASON "
    "or an employee's signature "
    "(sign-employee, sign-employee-expired-mchd, sign-employee-other-principal, "
    "sign-employee-other-representative, sign-employee-no-mchd)"
)
# The counterparty signs through an employee with a personal certificate, plus the МЧД
# (valid, or wrong in the named way) the fake issues; otherwise like ``sign``.
EMPLOYEE_SCENARIOS = (
    "sign-employee",
    "sign-employee-expired-mchd",
    "sign-employee-other-principal",
    "sign-employee-other-representative",
    "sign-employee-no-mchd",
)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    count: int = 0  # N of sign-after, K of flaky
    reason: str = ""

    def __str__(self) -> str:
        if self.name in ("sign-after", "flaky"):
            return f"{self.name}:{self.count}"
        if self.name in ("reject", "reject-revocation"):
            return f"{self.name}:{self.reason}"
        return self.name

    @property
    def employee_case(self) -> str | None:
        """The employee case (``sign-employee…``), or None when the head signs."""
        return self.name if self.name in EMPLOYEE_SCENARIOS else None

    @property
    def failing_calls(self) -> int:
        """How many calls for a document fail before it works (flaky:K)."""
        return self.count if self.name == "flaky" else 0

    def due(self, poll: int) -> list[tuple[Play, str | None]]:
        """What the counterparty does at its ``poll``-th poll (counting from 1)."""
        if self.name == "silent" or poll < 1:
            return []
        out: list[tuple[Play, str | None]] = []
        if poll == 1:
            out.append((Play.DELIVERED, None))
        signs_at_once = ("sign", "flaky", "reject-revocation", *EMPLOYEE_SCENARIOS)
        if (self.name in signs_at_once and poll == 1) or (
            self.name == "sign-after" and poll == max(1, self.count)
        ):
            out.append((Play.SIGNED, None))
        elif self.name == "reject" and poll == 1:
            out.append((Play.REJECTED, self.reason))
        elif self.name == "revoke":
            if poll == 1:
                out.append((Play.SIGNED, None))
            elif poll == 2:
                out.append((Play.REVOKED, "the counterparty revoked its signature"))
        return out

    def revocation_answer(self) -> tuple[Play, str | None] | None:
        """How the counterparty answers our revocation request (None: it never does)."""
        if self.name == "silent":
            return None
        if self.name == "reject-revocation":
            return Play.REVOCATION_REJECTED, self.reason
        return Play.REVOCATION_ACCEPTED, None

    @property
    def last_poll(self) -> int:
        """After this poll nothing more happens."""
        return {"sign-after": max(1, self.count), "revoke": 2, "silent": 0}.get(self.name, 1)


def parse_scenario(text: str | None) -> Scenario:
    """Read a scenario string; raises ValidationError naming the rule."""
    value = (text or "sign").strip()
    name, sep, arg = value.partition(":")
    if name in ("sign", "silent", "revoke", *EMPLOYEE_SCENARIOS) and not sep:
        return Scenario(name)
    if name in ("sign-after", "flaky"):
        if not arg.isdigit() or (name == "sign-after" and int(arg) < 1):
            raise ValidationError("scenario", f"{name} needs a whole number: {name}:N")
        return Scenario(name, count=int(arg))
    if name in ("reject", "reject-revocation"):
        if not arg.strip():
            raise ValidationError("scenario", f"{name} needs a reason: {name}:REASON")
        return Scenario(name, reason=arg.strip())
    raise ValidationError("scenario", f"unknown scenario {value!r}; expected {SCENARIO_HELP}")


__all__ = ["EMPLOYEE_SCENARIOS", "SCENARIO_HELP", "Play", "Scenario", "parse_scenario"]
