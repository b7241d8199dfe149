"""How the mock and the operator fakes play the counterparty.

A scenario is a short string, the same for every fake:

========================  ==============================================
``sign`` (default)        delivered and signed on the first poll
``sign-after:N``          delivered on the first poll, signed on the N-th
``reject:REASON``         delivered and rejected with REASON on the first poll
``silent``                never answers
``flaky:K``               the first K calls for the document fail with a
                          transient error, then it behaves like ``sign``
``revoke``                signed on the first poll, revoked on the second
========================  ==============================================
"""

from __future__ import annotations

import dataclasses
import enum

from ..errors import ValidationError


class Play(enum.StrEnum):
    DELIVERED = "delivered"
    SIGNED = "signed"
    REJECTED = "rejected"
    REVOKED = "revoked"


SCENARIO_HELP = (
    "sign, sign-after:N, reject:REASON, silent, flaky:K, revoke or an employee's signature "
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
        if self.name == "reject":
            return f"reject:{self.reason}"
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
        if (self.name in ("sign", "flaky", *EMPLOYEE_SCENARIOS) and poll == 1) or (
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
    if name == "reject":
        if not arg.strip():
            raise ValidationError("scenario", "reject needs a reason: reject:REASON")
        return Scenario(name, reason=arg.strip())
    raise ValidationError("scenario", f"unknown scenario {value!r}; expected {SCENARIO_HELP}")


__all__ = ["EMPLOYEE_SCENARIOS", "SCENARIO_HELP", "Play", "Scenario", "parse_scenario"]
