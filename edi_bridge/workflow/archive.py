"""The archive that ``fetch`` writes: the document, every signature, the
operator's copies under ``provider/`` and ``manifest.json`` with every file's
SHA-256. Names are cleaned and numbered, and the folder is built beside the
target and renamed into place (see :mod:`edi_bridge.safedir`)."""

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
from ..store import Store

PROVIDER_DIR = "provider"


def fetch(store: Store, exchange: Exchange, adapter: Provider | None, out_dir: str | Path) -> Path:
    """Write the document, every signature and ``manifest.json`` into ``out_dir``.

    Files the provider returns (receipts, its copy of the signatures) are added
    under ``provider/`` when ``adapter`` (the exchange's, for EDI) can fetch.
    ``out_dir`` is replaced as a whole once everything is written; it must be new,
    empty or an earlier archive.
    """
    out = Path(out_dir)
    files: list[dict[str, Any]] = []
    if exchange.channel != Channel.EDI:
        adapter = None
    with safedir.building(out, "out") as staging:

        def write(rel: str, role: str, chunks: Iterable[bytes]) -> None:
            target = staging.joinpath(*rel.split("/"))
            digest = hashlib.sha256()
            size = 0
            # The folder is fresh: "x" never follows or overwrites anything.
            with target.open("xb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            files.append({"name": rel, "role": role, "sha256": digest.hexdigest(), "size": size})

        names = safedir.Names(reserved=(safedir.MANIFEST, PROVIDER_DIR))
        document = names.take(safedir.clean_name(exchange.document.file_name, "document"))
        with store.exchange_content(exchange.id) as fh:
            write(document, "document", iter(lambda: fh.read(1 << 20), b""))
        for sig in exchange.signatures:
            name = names.take(safedir.clean_name(sig.file_name, "signature file name"))
            with store.open_blob(sig.sha256) as fh:
                # Files kept from events (a rejection's XML) carry their own role.
                role = {"ours": "our_signature", "counterparty": "counterparty_signature"}.get(
                    sig.role, sig.role
                )
                write(name, role, [fh.read()])
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
            "files": files,
        }
        (staging / safedir.MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return out / safedir.MANIFEST


__all__ = ["PROVIDER_DIR", "fetch"]
