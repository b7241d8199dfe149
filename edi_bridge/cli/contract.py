"""``edi-bridge contract``: contracts from templates (``render``) and their versions
(``versions``, ``diff``, ``agree``)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from ..errors import ValidationError
from ..models import load_counterparty
from .common import Obj, handle_errors, pass_obj

NO_PDF_EXIT = 3
"""Exit code when a PDF was asked for and only the DOCX could be written."""


@click.group()
def contract() -> None:
    """Contracts from DOCX templates with merge fields (docs/contracts.md)."""


@contract.command()
@click.argument("template", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--counterparty",
    "counterparty_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Counterparty JSON.",
)
@click.option("--number", required=True, help="Contract number.")
@click.option("--date", "date_", required=True, metavar="YYYY-MM-DD", help="Contract date.")
@click.option("--price", help="Contract price, e.g. 120000.00.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Set or override a merge field (repeatable), e.g. legal_address=….",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .docx, or .pdf (needs LibreOffice).",
)
@click.option("--draft", help="Record the render as the next version of this draft.")
@click.option("--after-exchange", help="With --draft: the rejected exchange this version answers.")
@click.option("--json", "as_json", is_flag=True, help="Print {path, sha256, pdf, fields}.")
@pass_obj
@handle_errors
def render(
    obj: Obj,
    template: Path,
    counterparty_path: Path,
    number: str,
    date_: str,
    price: str | None,
    sets: tuple[str, ...],
    out: Path,
    draft: str | None,
    after_exchange: str | None,
    as_json: bool,
) -> None:
    """Merge a counterparty into TEMPLATE.docx and write --out.

    Exits 3 when a PDF was asked for, LibreOffice is not installed and the DOCX was
    written instead.
    """
    from ..contracts import render_contract

    overrides: dict[str, str] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError("--set", f"{item!r} must be FIELD=VALUE")
        overrides[key.strip()] = value
    if after_exchange and not draft:
        raise ValidationError("--after-exchange", "needs --draft")
    counterparty = load_counterparty(counterparty_path)
    result = render_contract(
        template,
        counterparty,
        number=number,
        date=date_,
        price=price,
        out=out,
        overrides=overrides,
    )
    version = None
    if draft:
        from ..contracts import Drafts

        with obj.bridge() as bridge:
            version = (
                Drafts(bridge.store)
                .add_rendered(draft, result, after_exchange=after_exchange)
                .version
            )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": str(result.path),
                    "sha256": result.sha256,
                    "pdf": result.pdf,
                    "fields": result.fields,
                    **({"draft": draft, "version": version} if draft else {}),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(f"{result.sha256}  {result.path}")
        if draft:
            click.echo(f"recorded as {draft} v{version}")
    if result.note:
        click.echo(f"edi-bridge: {result.note}", err=True)
        sys.exit(NO_PDF_EXIT)


@contract.command()
@click.argument("draft")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of versions.")
@pass_obj
@handle_errors
def versions(obj: Obj, draft: str, as_json: bool) -> None:
    """List the versions of a draft: number, hash, agreed, the exchange it answers."""
    from ..contracts import Drafts

    with obj.bridge() as bridge:
        found = Drafts(bridge.store).versions(draft)
    if as_json:
        data = [v.as_json() for v in found]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for v in found:
        mark = "agreed" if v.agreed else "-"
        after = f" after {v.after_exchange_id}" if v.after_exchange_id else ""
        click.echo(f"v{v.version}  {v.sha256[:16]}  {mark}{after}")


@contract.command()
@click.argument("draft")
@click.argument("before", type=click.IntRange(min=1))
@click.argument("after", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print [{field, before, after}].")
@pass_obj
@handle_errors
def diff(obj: Obj, draft: str, before: int, after: int, as_json: bool) -> None:
    """Show the merge fields that changed between two versions of a draft."""
    from ..contracts import Drafts

    with obj.bridge() as bridge:
        changes = Drafts(bridge.store).diff(draft, before, after)
    if as_json:
        data = [dataclasses.asdict(c) for c in changes]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not changes:
        click.echo(f"v{before} and v{after} have the same fields")
    for c in changes:
        click.echo(f"{c.field}:\n  - {c.before!r}\n  + {c.after!r}")


@contract.command()
@click.argument("draft")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print the agreed version.")
@pass_obj
@handle_errors
def agree(obj: Obj, draft: str, version: int, as_json: bool) -> None:
    """Mark a version of a draft as agreed: the one that goes out (send --draft)."""
    from ..contracts import Drafts

    with obj.bridge() as bridge:
        agreed = Drafts(bridge.store).agree(draft, version)
    if as_json:
        click.echo(json.dumps(agreed.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{draft} v{agreed.version} agreed ({agreed.sha256})")


__all__ = ["NO_PDF_EXIT", "contract"]
