"""The archive that ``fetch`` writes: the document, every signature, the
operator's copies under ``provider/`` and ``manifest.json`` with every file's
SHA-256. Names are cleaned and numbered, and the folder is built beside the
target and renamed into place (see :mod:`edi_bridge.safedir`).

Every signature file is verified for the archive *at signing time* (``verify --at
signing-time``): an archive outlives its certificates, and a signature that was good
when made stays good there. The verdict is written beside the file in the manifest
(``verdict``, with ``checked_at: signing-time`` and the ``signed_file`` it covers: our
document, or a УПД buyer's title, which the buyer signs instead); the chain is checked
against the trust store of the Bridge's ``signature_check`` when it has one, else it
reads ``not_checked``. Who may sign for the counterparty (certificate or МЧД) was
decided when the signature arrived; that verdict stays under ``signatures``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import safedir
from ..lifecycle import Channel
from ..models import Exchange
from ..provider import Capability, Provider
from ..signing.verify import At, Verifier
from ..store import Store

PROVIDER_DIR = "provider"
#: When an archive checks certificates (``verify --at``).
ARCHIVE_AT: At = "signing-time"
ROLES = {"ours": "our_signature", "counterparty": "counterparty_signature"}
# A rejection's or a revocation's signature covers its own XML, not our document or a
# buyer's title: archived as it came, without a verdict.
_OWN_XML = ("rejection", "revocation")


def _verified(role: str) -> bool:
    base = role.removeprefix("provider_")
    return base.endswith("signature") and not base.startswith(_OWN_XML)


def _verdict(verifier: Verifier, signature: bytes, document: Path, titles: list[Path]) -> Any:
    """The verdict at signing time over our document, or over the buyer's title the
    signature covers instead (a УПД's buyer signs its own title); ``signed_file`` says which."""
    verdict = verifier.verify(signature, document, at=ARCHIVE_AT).to_dict()
    for title in titles if verdict["status"] == "invalid" else ():
        other = verifier.verify(signature, title, at=ARCHIVE_AT).to_dict()
        if other["status"] != "invalid":
            return {**other, "signed_file": title.name}
    return {**verdict, "signed_file": document.name}


def archive_verifier(check: object | None) -> Verifier:
    """The verifier of the Bridge's signature check (its trust store), or a plain one."""
    verifier = getattr(check, "verifier", None)
    return verifier if isinstance(verifier, Verifier) else Verifier()


def fetch(
    store: Store,
    exchange: Exchange,
    adapter: Provider | None,
    out_dir: str | Path,
    check: object | None = None,
) -> Path:
    """Write the document, every signature and ``manifest.json`` into ``out_dir``.

    Files the provider returns (receipts, its copy of the signatures) are added
    under ``provider/`` when ``adapter`` (the exchange's, for EDI) can fetch.
    ``out_dir`` is replaced as a whole once everything is written; it must be new,
    empty or an earlier archive. Each signature file is verified at signing time
    with ``check``'s verifier.
    """
    verifier = archive_verifier(check)
    out = Path(out_dir)
    files: list[dict[str, Any]] = []
    titles: list[Path] = []  # buyer's titles written so far
    if exchange.channel != Channel.EDI:
        adapter = None
    with safedir.building(out, "out") as staging:

        def write(rel: str, role: str, chunks: Iterable[bytes]) -> Path:
            target = staging.joinpath(*rel.split("/"))
            digest = hashlib.sha256()
            size = 0
            # The folder is fresh: "x" never follows or overwrites anything.
            with target.open("xb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            entry: dict[str, Any] = {
                "name": rel,
                "role": role,
                "sha256": digest.hexdigest(),
                "size": size,
            }
            if _verified(role):
                entry["verdict"] = _verdict(verifier, target.read_bytes(), document, titles)
            files.append(entry)
            return target

        names = safedir.Names(reserved=(safedir.MANIFEST, PROVIDER_DIR))
        name = names.take(safedir.clean_name(exchange.document.file_name, "document"))
        with store.exchange_content(exchange.id) as fh:
            document = write(name, "document", iter(lambda: fh.read(1 << 20), b""))
        # The buyer's titles first: a counterparty signature may cover one instead of ours.
        for sig in sorted(exchange.signatures, key=lambda s: s.role != "buyer_title"):
            name = names.take(safedir.clean_name(sig.file_name, "signature file name"))
            with store.open_blob(sig.sha256) as fh:
                # Files kept from events (a rejection's XML, its signature) keep their own role.
                written = write(name, ROLES.get(sig.role, sig.role), [fh.read()])
            if sig.role == "buyer_title":
                titles.append(written)
        if exchange.provider_ref and adapter and adapter.supports(Capability.FETCH):
            theirs = safedir.Names()
            (staging / PROVIDER_DIR).mkdir()
            for item in adapter.fetch(exchange.provider_ref):
                name = theirs.take(safedir.clean_name(item.file_name, "fetched file name"))
                write(f"{PROVIDER_DIR}/{name}", f"provider_{item.role}", item.chunks())
        manifest = {
            "exchange": exchange.id,
            "status": exchange.status,
            "provider": exchange.provider,
            "document": exchange.document.model_dump(mode="json"),
            "signatures": [s.model_dump(mode="json") for s in exchange.signatures],
            "verified_at": ARCHIVE_AT,
            "files": files,
        }
        (staging / safedir.MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return out / safedir.MANIFEST


__all__ = ["ARCHIVE_AT", "PROVIDER_DIR", "archive_verifier", "fetch"]
