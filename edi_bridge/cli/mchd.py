"""``edi-bridge mchd read FILE``: what a machine-readable power of attorney says.

Exit codes: 0 — the document was read (it may still be expired: the summary says
so); 1 — it is not a valid EMCHD_1 document (the line names the element and the
rule); 2 — the file cannot be read or the schema setting is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigurationError
from ..mchd.model import MOSCOW, InvalidPowerOfAttorney, Person, PowerOfAttorney, Principal
from ..mchd.rules import format_snils


def _person(who: Person) -> str:
    ids = [
        f"SNILS {format_snils(who.snils)}" if who.snils else "",
        f"INN {who.inn}" if who.inn else "",
    ]
    text = ", ".join(p for p in (who.full_name, who.position) if p)
    ids_text = ", ".join(i for i in ids if i)
    return f"{text} ({ids_text})" if ids_text else text


def _principal(p: Principal) -> str:
    if p.organisation is not None:
        org = p.organisation
        ids = [f"{k} {v}" for k, v in (("INN", org.inn), ("KPP", org.kpp), ("OGRN", org.ogrn)) if v]
        text = f"{org.name} ({', '.join(ids)})"
    else:
        text = _person(p.person) if p.person else "(unnamed)"
        if p.ogrnip:
            text += f", OGRNIP {p.ogrnip}"
    heads = "; ".join(_person(h) for h in p.heads)
    return text + (f"; signed for by {heads}" if heads else "")


def in_force(poa: PowerOfAttorney, today: dt.date) -> str:
    problem = poa.validity_problem(today)
    return "in force" if problem is None else problem


def render(poa: PowerOfAttorney, *, schema: Path | None, today: dt.date) -> str:
    kind = "revocable" if poa.revocable else "irrevocable"
    lines = [
        f"МЧД {poa.number} ({poa.format_version}), internal number {poa.internal_number}",
        f"valid: {poa.issue_date.isoformat()} to {poa.valid_until.isoformat()}; "
        f"today ({today.isoformat()}): {in_force(poa, today)}",
        f"kind: {kind}; re-delegation: {poa.redelegation.value}",
    ]
    lines += [f"principal: {_principal(p)}" for p in poa.principals]
    for rep in poa.representatives:
        if rep.person is not None:
            lines.append(f"representative: {_person(rep.person)}")
        elif rep.organisation is not None:
            org = rep.organisation
            lines.append(
                f"representative: {org.name} (INN {org.inn or '-'}, OGRN {org.ogrn or '-'})"
            )
    if poa.powers.machine_readable:
        for power in poa.powers.items:
            limits = "".join(
                f"; {r.name}: {r.value_name or r.value_text or r.value_code}"
                for r in power.restrictions
            )
            lines.append(f"power: {power.code} — {power.name}{limits}")
    if poa.powers.text:
        lines.append(f"powers (text): {poa.powers.text}")
    d = poa.delegation
    if d is not None:
        lines.append(
            f"re-delegation of: {d.original_number or '(number not given)'} "
            f"({d.original_issue_date.isoformat()} to {d.original_valid_until.isoformat()})"
        )
        lines += [f"passed on by: {_principal(t)}" for t in d.transferred_by]
    lines.append(f"registry: {poa.registry}")
    lines.append(
        f"schema: checked against {schema.name}"
        if schema
        else "schema: not checked (set EDI_BRIDGE_MCHD_SCHEMA to the EMCHD_1 XSD)"
    )
    return "\n".join(lines)


@click.group("mchd")
def mchd() -> None:
    """Machine-readable powers of attorney (МЧД, FNS format EMCHD_1)."""


@mchd.command("read")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--schema",
    type=click.Path(exists=True, path_type=Path),
    envvar="EDI_BRIDGE_MCHD_SCHEMA",
    help="The EMCHD_1 XSD (file or directory) to validate against (env EDI_BRIDGE_MCHD_SCHEMA).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole document as JSON.")
def read(file: Path, schema: Path | None, as_json: bool) -> None:
    """Check FILE and print what it grants, to whom, for whom and until when."""
    from ..mchd.reader import read_power_of_attorney

    try:
        poa = read_power_of_attorney(file, schema=schema)
    except InvalidPowerOfAttorney as exc:
        click.echo(f"edi-bridge: invalid МЧД: {exc}", err=True)
        sys.exit(1)
    except (ConfigurationError, OSError) as exc:
        click.echo(f"edi-bridge: {exc}", err=True)
        sys.exit(2)
    today = dt.datetime.now(MOSCOW).date()
    if as_json:
        data: dict[str, Any] = poa.to_dict()
        data["today"] = in_force(poa, today)
        data["schema_checked"] = schema is not None
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(render(poa, schema=schema, today=today))


__all__ = ["in_force", "mchd", "render"]
