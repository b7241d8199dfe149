"""What the SBIS fake reads from the detached CMS signatures it is given."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from asn1crypto import cms

DIGESTS = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def digest_matches(signature: bytes, content: bytes) -> bool:
    """Whether a detached CMS carries the content's digest (unknown algorithms pass)."""
    info = cms.ContentInfo.load(signature)
    signed = info["content"]
    for signer in signed["signer_infos"]:
        algo = signer["digest_algorithm"]["algorithm"].native
        attrs = signer["signed_attrs"]
        digest = next(
            (a["values"][0].native for a in attrs if a["type"].native == "message_digest"),
            None,
        )
        hasher = DIGESTS.get(algo)
        if digest is None:
            return False
        if hasher is not None and hasher(content).digest() != digest:
            return False
    return True


def thumbprint_of(signature: bytes) -> str:
    signed = cms.ContentInfo.load(signature)["content"]
    certs = signed["certificates"]
    if not certs:
        return ""
    return hashlib.sha1(certs[0].chosen.dump()).hexdigest().upper()  # noqa: S324


def stage_signature(
    stage: Mapping[str, Any], attachment_id: str, name: str, content: bytes
) -> tuple[bytes, str, str]:
    """Our signature of one attachment, as ``ВыполнитьДействие`` gives it in
    ``Этап.Вложение[].Подпись``: (CMS bytes, certificate thumbprint, file name). Refused as
    SBIS refuses: missing, not CMS, or not over the attachment's content."""
    from ..wire import as_dict, as_list
    from .world import FakeError, invalid

    given = {
        str(as_dict(a).get("Идентификатор")): as_dict(a) for a in as_list(stage.get("Вложение"))
    }
    sig_in = [as_dict(s) for s in as_list(given.get(attachment_id, {}).get("Подпись"))]
    field = f"Этап.Вложение[{attachment_id}].Подпись"
    if not sig_in:
        raise invalid(field, "нет подписи вложения")
    file = as_dict(sig_in[0].get("Файл"))
    try:
        data = base64.b64decode(str(file.get("ДвоичныеДанные", "")), validate=True)
        matches, thumb = digest_matches(data, content), thumbprint_of(data)
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid(field, "не подпись CMS") from None
    if not matches:
        raise FakeError("Подпись недействительна", f"Подпись не соответствует {name}")
    return data, thumb, str(file.get("Имя") or f"{name}.sig")


__all__ = ["digest_matches", "stage_signature", "thumbprint_of"]
