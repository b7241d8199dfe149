"""What the SBIS fake reads from the detached CMS signatures it is given."""

from __future__ import annotations

import hashlib

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


__all__ = ["digest_matches", "thumbprint_of"]
