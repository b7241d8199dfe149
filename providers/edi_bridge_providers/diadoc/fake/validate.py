"""Checks the fake applies to a MessageToPost, answering 400 like the real API."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from asn1crypto import cms

MAX_DOCUMENTS = 40
MAX_DOCUMENT_SIZE = 70 * 1024 * 1024
SUPPORTED_TYPES = frozenset({"Contract", "Nonformalized", "UniversalTransferDocument"})
UTD_FUNCTIONS = frozenset({"СЧФ", "СЧФДОП", "ДОП"})
UTD_VERSIONS = frozenset({"utd970_05_03_01"})
_PRICE_RE = re.compile(r"\d+([.,]\d{1,2})?")


class ApiError(Exception):
    """An error answer: status, ``X-Diadoc-ErrorCode`` and a text body."""

    def __init__(self, status: int, code: str, text: str) -> None:
        self.status = status
        self.code = code
        self.text = text
        super().__init__(f"{status} {code}: {text}")


def bad(text: str, code: str = "DiadocApi.BadRequest") -> ApiError:
    return ApiError(400, code, text)


def b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise bad(f"{field} is required (base64)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{field} is not valid base64") from None


def metadata(attachment: Mapping[str, Any], index: int) -> dict[str, str]:
    items = attachment.get("Metadata") or []
    if not isinstance(items, list):
        raise bad(f"DocumentAttachments[{index}].Metadata must be a list of {{Key, Value}}")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("Key"), str):
            raise bad(f"DocumentAttachments[{index}].Metadata items need Key and Value")
        out[item["Key"]] = str(item.get("Value") or "")
    return out


def check_formalized(type_id: str, attachment: Mapping[str, object], index: int) -> None:
    """A УПД names its function and format version, as the API requires."""
    if type_id != "UniversalTransferDocument":
        return
    where = f"DocumentAttachments[{index}]"
    if attachment.get("Function") not in UTD_FUNCTIONS:
        raise bad(f"{where}.Function must be one of {sorted(UTD_FUNCTIONS)} for {type_id}")
    if attachment.get("Version") not in UTD_VERSIONS:
        raise bad(f"{where}.Version must be one of {sorted(UTD_VERSIONS)} for {type_id}")


def check_metadata(type_id: str, meta: Mapping[str, str], index: int) -> None:
    where = f"DocumentAttachments[{index}].Metadata"
    if not meta.get("FileName"):
        raise bad(f"{where}: FileName is required")
    if type_id == "Contract":
        for key in ("DocumentNumber", "DocumentDate"):
            if not meta.get(key):
                raise bad(f"{where}: {key} is required for {type_id}")
    if meta.get("DocumentDate"):
        try:
            dt.datetime.strptime(meta["DocumentDate"], "%d.%m.%Y")
        except ValueError:
            raise bad(f"{where}: DocumentDate must be dd.MM.yyyy") from None
    price = meta.get("ContractPrice")
    if price and not _PRICE_RE.fullmatch(price):
        raise bad(f"{where}: ContractPrice must be a decimal number")


def check_signature(signature: bytes, content: bytes, index: int) -> None:
    """A detached CMS SignedData whose messageDigest matches the content (when the
    digest algorithm is one hashlib knows; GOST digests are taken on trust)."""
    where = f"DocumentAttachments[{index}].SignedContent.Signature"
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise bad(f"{where}: must be a detached signature")
        signer = signed["signer_infos"][0]
        algorithm = signer["digest_algorithm"]["algorithm"].native
        digest = None
        for attr in signer["signed_attrs"]:
            if attr["type"].native == "message_digest":
                digest = attr["values"][0].native
    except ApiError:
        raise
    except Exception:  # asn1crypto raises many types on malformed input
        raise bad(
            f"{where}: not a CMS SignedData structure", "DiadocApi.InvalidSignature"
        ) from None
    known = algorithm in ("sha256", "sha384", "sha512", "sha1") and digest is not None
    if known and hashlib.new(algorithm, content).digest() != digest:
        raise bad(f"{where}: does not match the content", "DiadocApi.InvalidSignature")


def required_arg(request: Any, name: str) -> str:
    """A query parameter Diadoc requires (a 400 naming it otherwise)."""
    value = request.args.get(name)
    if not value:
        raise bad(f"query parameter {name} is required")
    return str(value)


__all__ = [
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_SIZE",
    "SUPPORTED_TYPES",
    "ApiError",
    "b64",
    "bad",
    "check_metadata",
    "check_signature",
    "metadata",
    "required_arg",
]
