"""``edi-bridge verify DOCUMENT SIGNATURE``: check a detached signature.

Exit codes: 0 — valid (chain checked against ``--trust-store``, or unchecked
with ``--allow-unchecked-chain``) and, when ``--counterparty`` is given, the
signer matches it; 1 — invalid; 3 — signer mismatch; 4 — valid but the chain
was not checked (no trust store, and ``--allow-unchecked-chain`` not given);
2 — bad usage (unreadable files, bad requisites, bad trust store).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import EdiBridgeError
from ..models import load_counterparty
from ..signing import Verdict, VerdictStatus, Verifier

EXIT_CODES = {
    VerdictStatus.INVALID: 1,
    VerdictStatus.SIGNER_MISMATCH: 3,
    VerdictStatus.VALID_CHAIN_UNCHECKED: 4,
}


def exit_code(verdict: Verdict) -> int:
    return 0 if verdict.ok else EXIT_CODES.get(verdict.status, 1)


def render(verdict: Verdict) -> str:
    lines = [
        f"verdict: {verdict.status.value}" + (f" ({verdict.reason})" if verdict.reason else "")
    ]
    who = verdict.signer
    if who is not None:
        person = ", ".join(p for p in (who.full_name, who.title) if p)
        lines.append(f"signer: {person or '(unnamed)'}")
        org = [who.organisation or ""]
        if who.organisation_inn:
            org.append(f"INN {who.organisation_inn}")
        if who.ogrn:
            org.append(f"OGRN {who.ogrn}")
        if any(org):
            lines.append("organisation: " + ", ".join(p for p in org if p))
        ids = [
            f"{label} {value}"
            for label, value in (
                ("INN", who.person_inn),
                ("OGRNIP", who.ogrnip),
                ("SNILS", who.snils),
            )
            if value
        ]
        if ids:
            lines.append("person: " + ", ".join(ids))
        lines.append(
            f"certificate: serial {who.serial}, issuer {who.issuer or '?'}, "
            f"valid {who.not_before} to {who.not_after}"
        )
    if verdict.signature_algorithm:
        lines.append(f"algorithm: {verdict.signature_algorithm} / {verdict.digest_algorithm}")
    if verdict.signing_time:
        lines.append(f"signing time: {verdict.signing_time}")
    lines.append(f"chain: {verdict.chain.replace('_', ' ')}")
    lines.extend(f"warning: {w}" for w in verdict.warnings)
    return "\n".join(lines)


@click.command("verify")
@click.argument("document", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("signature", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--counterparty",
    "counterparty_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Counterparty requisites (JSON): the signer must match its INN/OGRN.",
)
@click.option(
    "--trust-store",
    type=click.Path(exists=True, path_type=Path),
    envvar="EDI_BRIDGE_SIGNING_TRUST_STORE",
    help="Directory or PEM bundle of trusted CA certificates (env EDI_BRIDGE_SIGNING_TRUST_STORE).",
)
@click.option(
    "--allow-unchecked-chain",
    is_flag=True,
    help="Exit 0 for a good signature even when no trust store checked its chain.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify(
    document: Path,
    signature: Path,
    counterparty_path: Path | None,
    trust_store: Path | None,
    allow_unchecked_chain: bool,
    as_json: bool,
) -> None:
    """Verify SIGNATURE (detached CMS: DER, base64 or PEM) over DOCUMENT."""
    try:
        counterparty = load_counterparty(counterparty_path) if counterparty_path else None
        verifier = Verifier(trust_store, allow_unchecked_chain=allow_unchecked_chain)
    except (EdiBridgeError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    verdict = verifier.verify(signature.read_bytes(), document, counterparty=counterparty)
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(verdict))
    sys.exit(exit_code(verdict))


__all__ = ["exit_code", "render", "verify"]
