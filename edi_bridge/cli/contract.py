"""``edi-bridge contract``: contracts from templates (``render``; more verbs to come)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ValidationError
from ..models import load_counterparty
from .common import handle_errors

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
@click.option("--json", "as_json", is_flag=True, help="Print {path, sha256, pdf, fields}.")
@handle_errors
def render(
    template: Path,
    counterparty_path: Path,
    number: str,
    date_: str,
    price: str | None,
    sets: tuple[str, ...],
    out: Path,
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
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": str(result.path),
                    "sha256": result.sha256,
                    "pdf": result.pdf,
                    "fields": result.fields,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(f"{result.sha256}  {result.path}")
    if result.note:
        click.echo(f"edi-bridge: {result.note}", err=True)
        sys.exit(NO_PDF_EXIT)


__all__ = ["NO_PDF_EXIT", "contract"]
