"""The archive that ``fetch`` writes: the document, every signature, the
operator's copies and ``manifest.json`` with every file's SHA-256.

Every signature file is verified for the archive *at signing time* (``verify --at
signing-time``): an archive outlives its certificates, and a signature that was good
when made stays good there. The verdict is written beside the file in the manifest
(``verdict``, with ``checked_at: signing-time``); the chain is checked against the trust
store of the Bridge's ``signature_check`` when it has one, else it reads
``not_checked``. Who may sign for the counterparty (certificate or МЧД) was decided
when the signature arrived; that verdict stays under ``signatures``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..lifecycle import Channel
from ..models import Exchange, check_file_name
from ..provider import Capability, Provider
from ..signing.verify import At, Verifier
from ..store import Store

#: When an archive checks certificates (``verify --at``).
ARCHIVE_AT: At = "signing-time"


ROLES = {"ours": "our_signature", "buyer_title": "buyer_title"}


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
    under ``provider/`` when ``adapter`` (the exchange's, for EDI) can fetch. Each
    signature file is verified at signing time with ``check``'s verifier.
    """
    verifier = archive_verifier(check)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    titles: list[Path] = []  # buyer's titles written so far

    def write(rel: str, role: str, chunks: Iterable[bytes]) -> None:
        parts = rel.split("/")
        for part in parts:
            check_file_name(part, "fetched file name")
        target = out.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with target.open("wb") as fh:
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
        if role.endswith("signature"):
            entry["verdict"] = _verdict(verifier, target.read_bytes(), document, titles)
        files.append(entry)

    document = out / exchange.document.file_name
    with store.exchange_content(exchange.id) as fh:
        write(exchange.document.file_name, "document", iter(lambda: fh.read(1 << 20), b""))
    seen: set[str] = set()
    # The buyer's titles first: a counterparty signature may cover one instead of ours.
    for sig in sorted(exchange.signatures, key=lambda s: s.role != "buyer_title"):
        name = sig.file_name
        if name in seen:
            name = f"{sig.sha256[:8]}-{name}"
        seen.add(name)
        with store.open_blob(sig.sha256) as fh:
            role = ROLES.get(sig.role, f"{sig.role}_signature")
            write(name, role, [fh.read()])
        if sig.role == "buyer_title":
            titles.append(out / name)
    if exchange.channel != Channel.EDI:
        adapter = None
    if exchange.provider_ref and adapter and adapter.supports(Capability.FETCH):
        for item in adapter.fetch(exchange.provider_ref):
            write(f"provider/{item.file_name}", f"provider_{item.role}", item.chunks())
    manifest = {
        "exchange": exchange.id,
        "status": exchange.status,
        "provider": exchange.provider,
        "document": exchange.document.model_dump(mode="json"),
        "signatures": [s.model_dump(mode="json") for s in exchange.signatures],
        "verified_at": ARCHIVE_AT,
        "files": files,
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


__all__ = ["ARCHIVE_AT", "archive_verifier", "fetch"]
