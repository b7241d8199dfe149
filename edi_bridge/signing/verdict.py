"""The outcome of a signature check: :class:`Verdict` and its :class:`VerdictStatus`.

* ``valid`` — the signature is good for exactly this document, its certificate
  chains to the configured trust store and (when given) the signer may sign for
  the counterparty: by its own certificate or by a valid МЧД;
* ``valid_chain_unchecked`` — the same, but no trust store was configured, so
  who issued the certificate is unknown. It is never reported as plain valid,
  and it is ``ok`` only when the caller allows unchecked chains;
* ``invalid`` — with the reason (document changed, bad signature, unknown
  algorithm, expired certificate, untrusted chain, malformed CMS, …);
* ``signer_mismatch`` — a good signature by someone other than the counterparty
  (including an employee's personal certificate with no МЧД);
* ``mchd_invalid`` — a good signature by an employee whose МЧД does not hold:
  expired or not yet valid, another principal or representative, a power
  missing, or revoked/invalid as the operator reports it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .identity import SignerIdentity


class VerdictStatus(enum.StrEnum):
    VALID = "valid"
    VALID_CHAIN_UNCHECKED = "valid_chain_unchecked"
    INVALID = "invalid"
    SIGNER_MISMATCH = "signer_mismatch"
    MCHD_INVALID = "mchd_invalid"


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check; :meth:`to_dict` is JSON-ready.

    ``chain``: ``checked`` only when a chain check ran and passed, ``failed``
    when it ran and failed, else ``not_checked``. ``checked_at`` says which time
    certificates were checked at (``now``, ``signing-time`` or a date).
    ``authority``: on a signer check, ``{"kind": "certificate"}`` or
    ``{"kind": "power_of_attorney", "number": …, "principal": …, "representative": …}``.
    """

    status: VerdictStatus
    ok: bool
    reason: str | None = None
    chain: str = "not_checked"  # checked | not_checked | failed
    signer: SignerIdentity | None = None
    signers: tuple[SignerIdentity, ...] = ()
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    signing_time: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    authority: dict[str, Any] | None = None
    checked_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": self.ok,
            "status": self.status.value,
            "reason": self.reason,
            "chain": self.chain,
            "warnings": list(self.warnings),
        }
        if self.signer is not None:
            data["signer"] = self.signer.to_dict()
        if len(self.signers) > 1:
            data["signers"] = [s.to_dict() for s in self.signers]
        for key in (
            "digest_algorithm",
            "signature_algorithm",
            "signing_time",
            "authority",
            "checked_at",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


__all__ = ["Verdict", "VerdictStatus"]
