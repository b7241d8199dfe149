"""Our МЧД on Diadoc: the attachment every signature of ours carries, and prevalidation.

:func:`signature_power_of_attorney` is the one call for any signature we make after the
document itself (receipts here; rejections and revocations): it gives the
``PowerOfAttorneyToPost`` to put in ``SignedContent.PowerOfAttorney`` (``ReceiptAttachment``,
``XmlSignatureRejectionAttachment``, ``RevocationRequestAttachment``) or in
``DocumentSignature.PowerOfAttorney`` (PostMessagePatch), or None when our signer is the
head. It raises ValidationError, naming the setting, when our МЧД cannot be right.

:func:`prevalidate` asks ``POST /PrevalidatePowerOfAttorney`` (query ``boxId``,
``registrationNumber``, ``issuerInn``; body ``PowerOfAttorneyPrevalidateRequest
{ConfidantCertificate{Content{Content}}}``; answer ``PowerOfAttorneyPrevalidateResult
{PrevalidateStatus}``) before a PostMessage when ``diadoc.prevalidate_power_of_attorney``
is set; anything but ``IsValid`` refuses the send with Diadoc's reason, before it is posted.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from edi_bridge.errors import ProviderNotFound, RejectedRequest
from edi_bridge.provider import ProviderContext
from edi_bridge.signing import OurPowerOfAttorney
from edi_bridge.signing.parse import parse_signature

from .client import DiadocClient
from .conformance import build
from .wire import power_of_attorney_to_post

SETTING = "diadoc.prevalidate_power_of_attorney"


def signature_power_of_attorney(context: ProviderContext) -> dict[str, Any] | None:
    """Diadoc's ``PowerOfAttorneyToPost`` for a signature of ours (None: the head signs)."""
    ours = context.power_of_attorney() if context.power_of_attorney is not None else None
    return None if ours is None else power_of_attorney_to_post(ours)


def _full_id(poa: OurPowerOfAttorney) -> tuple[str, str]:
    """The МЧД's registration number and issuer INN (read from the file when by content)."""
    if poa.by_reference:
        return str(poa.registration_number), str(poa.issuer_inn)
    from edi_bridge.mchd.reader import read_power_of_attorney  # lxml, only when asked

    read = read_power_of_attorney(poa.content())
    return read.number, read.principals[0].inn or ""


def _reason(status: Mapping[str, Any]) -> str:
    parts = [str(status.get("StatusNamedId") or "UnknownStatus")]
    if status.get("StatusText"):
        parts.append(str(status["StatusText"]))
    parts += [f"{e.get('Code')}: {e.get('Text')}" for e in status.get("Errors") or []]
    return "; ".join(parts)


def prevalidate(client: DiadocClient, box: str, poa: OurPowerOfAttorney, signature: bytes) -> None:
    """Refuse (RejectedRequest naming the setting and Diadoc's reason) unless ``IsValid``.

    The certificate asked about is the one our signature carries."""
    number, issuer = _full_id(poa)
    certificate = parse_signature(signature).certificates[0].dump()
    request = build(
        "PowerOfAttorneyPrevalidateRequest",
        ConfidantCertificate=build(
            "ConfidantCertificateToPrevalidate",
            Content=build("Content_v3", Content=base64.b64encode(certificate).decode("ascii")),
        ),
    )
    try:
        answer = client.prevalidate_power_of_attorney(box, number, issuer, request)
    except ProviderNotFound as exc:
        # Diadoc answers 404 when it finds no such МЧД for the employee.
        raise RejectedRequest(
            f"{SETTING}: Diadoc did not find our МЧД {number} (issuer INN {issuer}): {exc}",
            provider="diadoc",
        ) from None
    status = answer.get("PrevalidateStatus") or {}
    if status.get("StatusNamedId") != "IsValid":
        raise RejectedRequest(
            f"{SETTING}: Diadoc's prevalidation refused our МЧД {number}: {_reason(status)}",
            provider="diadoc",
        )


__all__ = ["SETTING", "prevalidate", "signature_power_of_attorney"]
