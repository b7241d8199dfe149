"""``edi-bridge verify DOCUMENT SIGNATURE``: check a detached signature.

Exit codes: 0 — valid (chain checked against ``--trust-store``, or unchecked
with ``--allow-unchecked-chain``) and, when ``--counterparty`` is given, the
signer may sign for it (its own certificate, or an МЧД given with
``--power-of-attorney``); 1 — invalid; 3 — signer mismatch; 4 — valid but the
chain was not checked (no trust store, and ``--allow-unchecked-chain`` not
given); 6 — the МЧД does not hold (``mchd_invalid``); 2 — bad usage (unreadable
files, bad requisites, bad trust store, bad ``--at``).

``--at`` chooses when certificates must have been valid: ``now`` (default: now
and at signing), ``signing-time`` (archives: at the signature's signingTime
only) or a date or date-time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import EdiBridgeError
from ..files import read_bounded
from ..models import load_counterparty
from ..signing import PowersPolicy, Verdict, VerdictStatus, Verifier, parse_at
from ..signing.trust import load_certificates

EXIT_CODES = {
    VerdictStatus.INVALID: 1,
    VerdictStatus.SIGNER_MISMATCH: 3,
    VerdictStatus.VALID_CHAIN_UNCHECKED: 4,
    VerdictStatus.MCHD_INVALID: 6,
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
    lines.extend(_authority_lines(verdict))
    if verdict.signature_algorithm:
        lines.append(f"algorithm: {verdict.signature_algorithm} / {verdict.digest_algorithm}")
    if verdict.signing_time:
        lines.append(f"signing time: {verdict.signing_time}")
    lines.append(f"chain: {verdict.chain.replace('_', ' ')}")
    if verdict.checked_at:
        lines.append(f"certificates checked at: {verdict.checked_at}")
    lines.extend(f"warning: {w}" for w in verdict.warnings)
    return "\n".join(lines)


def _authority_lines(verdict: Verdict) -> list[str]:
    authority = verdict.authority
    if not authority:
        return []
    if authority.get("kind") == "certificate":
        return ["authority: certificate (the signer's own)"]
    lines = [f"authority: power of attorney {authority.get('number', '(unread)')}"]
    if "valid_until" in authority:
        lines[0] += f" ({authority['issue_date']} to {authority['valid_until']})"
    for label, key in (("principal", "principal"), ("representative", "representative")):
        for party in authority.get(key, []):
            ids = ", ".join(
                f"{k.upper()} {party[k]}" for k in ("inn", "kpp", "ogrn", "snils") if k in party
            )
            name = party.get("name") or party.get("person") or "(unnamed)"
            lines.append(f"  {label}: {name}" + (f" ({ids})" if ids else ""))
    status = authority.get("operator_status")
    if status:
        lines.append(
            f"  operator status: {status['status']}"
            + (f" ({status['text']})" if status.get("text") else "")
        )
    return lines


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
@click.option(
    "--power-of-attorney",
    "powers_of_attorney",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The signer's МЧД (EMCHD_1 XML); repeat for a re-delegation chain.",
)
@click.option(
    "--kind",
    "document_kind",
    help="Document kind, for the mchd.required_powers.<kind> policy (e.g. contract).",
)
@click.option(
    "--extra-certs",
    "extra_certs",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Certificates (PEM or DER) to look for the signer's among; repeatable.",
)
@click.option(
    "--at",
    "at_text",
    default="now",
    show_default=True,
    metavar="signing-time|now|DATE",
    help="When certificates must have been valid: now (and at signing), signing-time, or a date.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def verify(
    document: Path,
    signature: Path,
    counterparty_path: Path | None,
    trust_store: Path | None,
    allow_unchecked_chain: bool,
    powers_of_attorney: tuple[Path, ...],
    document_kind: str | None,
    extra_certs: tuple[Path, ...],
    at_text: str,
    as_json: bool,
) -> None:
    """Verify SIGNATURE (detached CMS: DER, base64 or PEM) over DOCUMENT."""
    try:
        at = parse_at(at_text)
        counterparty = load_counterparty(counterparty_path) if counterparty_path else None
        verifier = Verifier(
            trust_store,
            allow_unchecked_chain=allow_unchecked_chain,
            at=at,
            powers_policy=PowersPolicy.from_settings(),
        )
        extra = [
            c
            for path in extra_certs
            for c in load_certificates(read_bounded(path, "--extra-certs", kind="certificate"))
        ]
        poas = [
            read_bounded(p, "--power-of-attorney", kind="power_of_attorney")
            for p in powers_of_attorney
        ]
        cms = read_bounded(signature, "signature")
    except (EdiBridgeError, OSError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    verdict = verifier.verify(
        cms,
        document,
        counterparty=counterparty,
        extra_certificates=extra,
        powers_of_attorney=poas,
        document_kind=document_kind,
    )
    if as_json:
        click.echo(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(verdict))
    sys.exit(exit_code(verdict))


__all__ = ["exit_code", "render", "verify"]
