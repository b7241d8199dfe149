"""A period's closing documents: their state, and an archive of the signed copies.

The archive has one folder per counterparty and period
(``<out>/<counterparty key>/<YYYY-MM>/``), each file of each document under
``<document number>/``, and ``manifest.json`` listing every file with its
SHA-256 and size and every signature with its verdict.

Each signature's ``verdict`` is checked for the archive at signing time (as
``verify --at signing-time``, by ``Bridge.fetch``): certificates that expired
since still verify, and the manifest says so (``verified_at``). The verdict
stored when the signature arrived (the full check against the requisites and
any МЧД, made by the Bridge's ``signature_check``) is kept as
``verdict_on_arrival``. Where no verdict could be made at all, the signature's
``messageDigest`` is compared with the document, which proves the signature
belongs to these bytes but says nothing about who signed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asn1crypto import cms

from .. import safedir
from ..errors import EdiBridgeError
from ..models import Exchange, ExchangeStatus
from .cancelled import reconcile
from .ledger import CANCELLED, Ledger
from .port import Workflow

_STATES = {
    ExchangeStatus.QUEUED: "queued",
    ExchangeStatus.SENT: "awaiting the buyer",
    ExchangeStatus.DELIVERED: "awaiting the buyer",
    ExchangeStatus.SIGNED: "signed",
    # A revocation asked for, or refused: still signed until the other side accepts.
    ExchangeStatus.REVOCATION_REQUESTED: "revocation requested",
    ExchangeStatus.REVOCATION_REJECTED: "signed",
    ExchangeStatus.REJECTED: "rejected",
    ExchangeStatus.REVOKED: "revoked",
    ExchangeStatus.FAILED: "failed",
}
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def _least_advanced(statuses: list[str]) -> str | None:
    """The state of a document is that of its least advanced file."""
    order = [str(s) for s in _STATES]
    known = [s for s in statuses if s in order]
    return _STATES[ExchangeStatus(min(known, key=order.index))] if known else None


FLOW_OPEN = "signed, flow open"


def _flow_finished(bridge: Workflow, exchange: Exchange) -> bool:
    """Signed, and the operator's document flow finished where its adapter follows it
    (``document_flow``); other adapters finish at the signature (docs/closing.md)."""
    if exchange.status != ExchangeStatus.SIGNED or exchange.flow_recorded:
        return True  # not signed: its state says what is left
    return not callable(getattr(bridge.provider(exchange.provider), "document_flow", None))


def period_status(bridge: Workflow, period: str, *, poll: bool = True) -> list[dict[str, Any]]:
    """Every closing document of ``period``, with the state at its channel."""
    if poll:
        bridge.poll()
    rows = []
    ledger = Ledger(bridge.store.engine)
    for row in ledger.for_period(period):
        row = reconcile(bridge, ledger, row)  # an exchange cancelled by hand since
        state = row.status
        open_: list[str] = []
        if row.status == CANCELLED:
            state = "cancelled"
        elif row.channel == "edi":
            exchanges = [bridge.status(i) for i in row.exchange_ids]
            state = _least_advanced([e.status for e in exchanges]) or state
            open_ = [e.id for e in exchanges if not _flow_finished(bridge, e)]
            if state == "signed" and open_:
                state = FLOW_OPEN  # complete only once the operator's flow finished
        elif row.channel == "email":
            state = {"sent": "e-mailed"}.get(row.status, row.status)
        elif row.channel == "paper":
            state = "paper: to be posted"
        rows.append(
            {
                "counterparty_key": row.counterparty_key,
                "counterparty": row.counterparty_name,
                "number": row.number,
                "kind": row.kind,
                "channel": row.channel,
                "provider": row.provider,
                "recipient": row.recipient,
                "state": state,
                "exchanges": list(row.exchange_ids),
                "reason": row.reason,
                "flow_open": open_ if row.channel == "edi" else [],
            }
        )
    return rows


def digest_check(content: bytes, signature: bytes) -> dict[str, Any]:
    """Does the detached CMS ``signature`` cover ``content``? (messageDigest only)."""
    try:
        signed = cms.ContentInfo.load(signature)["content"]
        info = signed["signer_infos"][0]
        algorithm = info["digest_algorithm"]["algorithm"].native
        digest = next(
            a["values"][0].native
            for a in info["signed_attrs"]
            if a["type"].native == "message_digest"
        )
    except (ValueError, KeyError, IndexError, StopIteration, TypeError):
        return {"ok": False, "status": "malformed", "checked": "digest"}
    hasher = _HASHES.get(str(algorithm))
    if hasher is None:
        return {"ok": None, "status": "unchecked", "reason": f"digest {algorithm} not checked"}
    ok = hasher(content).digest() == digest
    return {"ok": ok, "status": "digest_matches" if ok else "digest_mismatch", "checked": "digest"}


def fetch_period(bridge: Workflow, period: str, out: str | Path) -> list[Path]:
    """Write the archive of ``period`` under ``out``; returns the manifests written.

    Each counterparty's folder is built in a fresh temporary folder beside it and
    renamed into place only when complete, so a fetch that fails half-way leaves the
    previous complete archive (or nothing), and nothing already in the target
    (a symlink included) is written through.
    """
    root = Path(out)
    by_folder: dict[Path, list[Any]] = {}
    for row in Ledger(bridge.store.engine).for_period(period):
        if row.channel == "edi" and row.exchange_ids:
            by_folder.setdefault(
                root / safedir.folder_name(row.counterparty_key) / period, []
            ).append(row)
    written = []
    for folder, rows in by_folder.items():
        with safedir.building(folder, "out", root) as staging:
            documents = [_fetch_document(bridge, staging, row) for row in rows]
            manifest = {
                "counterparty": {
                    "key": rows[0].counterparty_key,
                    "name": rows[0].counterparty_name,
                },
                "period": period,
                "verified_at": "signing-time",
                "documents": documents,
            }
            (staging / safedir.MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        written.append(folder / safedir.MANIFEST)
    return written


def _fetch_document(bridge: Workflow, folder: Path, row: Any) -> dict[str, Any]:
    target = folder / safedir.folder_name(row.number)  # folder is fresh: nothing to overwrite
    files: list[dict[str, Any]] = []
    exchanges = []
    # One document may carry several exchanges: their files share the folder, never a name.
    names = {"": safedir.Names(reserved=(safedir.MANIFEST, "provider"))}
    for exchange_id in row.exchange_ids:
        exchange = bridge.status(exchange_id)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            sub = json.loads(bridge.fetch(exchange_id, tmp).read_text(encoding="utf-8"))
            [document] = [e["name"] for e in sub["files"] if e["role"] == "document"]
            content = Path(tmp, document).read_bytes()
            for entry in sub["files"]:
                source = Path(tmp, *entry["name"].split("/"))
                sub_dir, _, name = entry["name"].rpartition("/")
                name = names.setdefault(sub_dir, safedir.Names()).take(name)
                rel = f"{sub_dir}/{name}" if sub_dir else name
                dest = target.joinpath(*rel.split("/"))
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.rename(source, dest)
                item = {
                    "path": dest.relative_to(folder).as_posix(),
                    "role": entry["role"],
                    "sha256": entry["sha256"],
                    "size": entry["size"],
                    "exchange": exchange_id,
                }
                if entry["role"].endswith("signature"):
                    item.update(_verdicts(bridge, exchange, content, dest.read_bytes(), entry, sub))
                files.append(item)
        exchanges.append({"id": exchange_id, "status": exchange.status})
        if exchange.buyer_title is not None:
            # What the buyer's title (archived with role buyer_title) says.
            exchanges[-1]["buyer_title"] = exchange.buyer_title
    return {
        "number": row.number,
        "kind": row.kind,
        "provider": row.provider,
        "state": _least_advanced([e["status"] for e in exchanges]) or row.status,
        "exchanges": exchanges,
        "files": files,
    }


def _verdicts(
    bridge: Workflow,
    exchange: Any,
    content: bytes,
    signature: bytes,
    entry: Mapping[str, Any],
    sub: Mapping[str, Any],
) -> dict[str, Any]:
    """The archive's verdict (at signing time) and the one stored on arrival, if any."""
    out: dict[str, Any] = {}
    digest = hashlib.sha256(signature).hexdigest()
    for stored in sub.get("signatures", []):
        kept = stored.get("verdict")
        # A note that no check ran is not a verdict.
        if stored.get("sha256") == digest and kept and kept.get("status") != "not_checked":
            out["verdict_on_arrival"] = dict(kept)
    if entry.get("verdict") is not None:
        out["verdict"] = dict(entry["verdict"])
    elif "verdict_on_arrival" in out:
        out["verdict"] = out["verdict_on_arrival"]
    # The check judges the counterparty's signer; ours (and a receipt's) get the digest.
    elif bridge.signature_check is not None and entry["role"] == "counterparty_signature":
        try:
            out["verdict"] = dict(bridge.signature_check(exchange, signature))
        except EdiBridgeError as exc:
            out["verdict"] = {"ok": False, "status": "error", "reason": str(exc)}
    else:
        out["verdict"] = digest_check(content, signature)
    return out


__all__ = ["digest_check", "fetch_period", "period_status"]
