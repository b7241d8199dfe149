"""``edi-bridge intake``: an application e-mail (or an IMAP folder) to a counterparty."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ValidationError
from .common import handle_errors


@click.command()
@click.argument("message", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--account-email", metavar="ADDR", help="The account's registered address.")
@click.option("--username", help="The account's username in the service.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@click.option(
    "--reply",
    "reply_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the reply asking for what is missing to this file.",
)
@click.option(
    "--imap",
    "imap_url",
    metavar="URL",
    help="Read a mailbox instead: imap[s]://user@host[:port] "
    "(password in the URL or EDI_BRIDGE_IMAP_PASSWORD).",
)
@click.option("--folder", default="INBOX", show_default=True, help="IMAP folder (--imap).")
@click.option(
    "--accounts",
    "accounts_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON object {username: registered e-mail} (--imap).",
)
@handle_errors
def intake(
    message: Path | None,
    account_email: str | None,
    username: str | None,
    as_json: bool,
    reply_path: Path | None,
    imap_url: str | None,
    folder: str,
    accounts_path: Path | None,
) -> None:
    """Read a client's application e-mail: print the counterparty JSON, or what is missing.

    Exits 1 when the application is refused (sender, hostile input) or incomplete.
    """
    if imap_url:
        _mailbox(imap_url, folder, accounts_path)
        return
    if message is None or not account_email:
        raise ValidationError("intake", "give MESSAGE.eml and --account-email (or --imap URL)")
    from ..intake import Limits, intake_message

    with message.open("rb") as fh:
        # One byte past the bound is enough for the size check to refuse it.
        raw = fh.read(Limits().max_message_bytes + 1)
    result = intake_message(raw, account_email=account_email, username=username)
    if reply_path is not None and not result.complete:
        reply_path.write_text(result.reply_text + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    elif result.counterparty is not None:
        click.echo(result.counterparty.model_dump_json(indent=2))
    else:
        click.echo(f"application incomplete: {len(result.problems)} problem(s)")
        for p in result.problems:
            click.echo(f"  {p.field}: {p.kind}: {p.rule}")
        if reply_path is None:
            click.echo("\n--- reply ---")
            click.echo(result.reply_text)
    if not result.complete:
        sys.exit(1)


def _mailbox(url: str, folder: str, accounts_path: Path | None) -> None:
    from ..intake.imap import process_mailbox

    if accounts_path is None:
        raise ValidationError("accounts", "--imap needs --accounts FILE ({username: e-mail})")
    try:
        accounts = json.loads(accounts_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValidationError("accounts", f"not valid JSON ({exc})") from None
    if not isinstance(accounts, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in accounts.items()
    ):
        raise ValidationError("accounts", "must be a JSON object of username → e-mail")
    outcomes = process_mailbox(
        url,
        folder,
        accounts,
        on_outcome=lambda o: click.echo(json.dumps(o.as_json(), ensure_ascii=False)),
    )
    click.echo(f"processed {len(outcomes)} message(s)", err=True)


__all__ = ["intake"]
