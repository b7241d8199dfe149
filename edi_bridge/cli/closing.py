"""``edi-bridge upd …`` and ``edi-bridge closing …``: closing documents from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..closing.inputs import build_document, load_upd_input, parse_seller
from ..closing.model import Period
from ..closing.upd import build_upd
from ..closing.upd_buyer import read_closing_xml, summary
from ..errors import ConfigurationError, ValidationError
from ..files import read_bounded
from .common import Obj, handle_errors, pass_obj
from .group import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from ..closing.delivery import Summary


@click.group()
def upd() -> None:
    """Write and read УПД 5.03 XML files."""


@upd.command("build")
@click.argument("input_path", metavar="FILE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory."
)
@click.option("--json", "as_json", is_flag=True, help="Print {path, file_id, size} as JSON.")
@handle_errors
def upd_build(input_path: Path, out: Path, as_json: bool) -> None:
    """Write the УПД described by FILE.json into --out, named after its ИдФайл."""
    spec = load_upd_input(input_path)
    doc = build_document(spec, spec.period, spec.seller, spec.buyer)
    route = spec.buyer.edi[0].participant_id if spec.buyer.edi else spec.buyer.inn
    result = build_upd(
        doc, sender_id=spec.seller.participant_id or spec.seller.inn, recipient_id=route
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / result.file_name
    path.write_bytes(result.content)
    if as_json:
        data = {"path": str(path), "file_name": result.file_name, "size": len(result.content)}
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(str(path))


@upd.command("read")
@click.argument("xml_path", metavar="FILE.xml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the document as JSON.")
@handle_errors
def upd_read(xml_path: Path, as_json: bool) -> None:
    """Show what a УПД (5.03; 5.01 and 5.02 read-only) or a УПД buyer's title holds
    (read safely: no entities, no network, size-bounded)."""
    read = read_closing_xml(read_bounded(xml_path, "FILE.xml", kind="upd"))
    if as_json:
        click.echo(json.dumps(read.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo("\n".join(summary(read)))


def _period(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return str(Period.parse(value))
    except ValidationError as exc:
        raise click.BadParameter(exc.rule) from None


period_option = click.option(
    "--period", required=True, metavar="YYYY-MM", callback=_period, help="The month."
)


@click.group()
def closing() -> None:
    """Monthly closing documents: send by each client's channel, track, archive."""


@closing.command("send")
@period_option
@click.option(
    "--batch",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON Lines: one {counterparty, documents} per line.",
)
@click.option(
    "--seller",
    "seller_path",
    envvar="EDI_BRIDGE_CLOSING_SELLER",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Our organisation's requisites (JSON; env EDI_BRIDGE_CLOSING_SELLER).",
)
@click.option("--concurrency", type=int, default=4, show_default=True, help="Parallel sends.")
@click.option(
    "--lease-seconds",
    type=float,
    default=None,
    help="How long an interrupted run's EDI sends stay held (default 120).",
)
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="E-mail again what an interrupted run may have sent already.",
)
@click.option(
    "--retry-cancelled",
    is_flag=True,
    help="Send again documents whose exchange was cancelled by hand (left alone otherwise).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_obj
@handle_errors
def closing_send(
    obj: Obj,
    period: str,
    batch: Path,
    seller_path: Path,
    concurrency: int,
    lease_seconds: float | None,
    retry_uncertain: bool,
    retry_cancelled: bool,
    as_json: bool,
) -> None:
    """Deliver every document of --batch for --period; safe to run again."""
    from ..closing.delivery import FAILED, ClosingRun, Outcome, Summary, count_batch
    from ..closing.mail import Mailer, SmtpSettings

    seller = parse_seller(read_bounded(seller_path, "--seller", kind="seller"))
    total = count_batch(batch)
    kwargs: dict[str, Any] = {} if lease_seconds is None else {"lease_seconds": lease_seconds}
    outcomes: list[Outcome] = []
    try:
        with obj.bridge(**kwargs) as bridge:
            try:
                mailer: Mailer | None = Mailer(SmtpSettings.from_settings())
            except ConfigurationError:
                mailer = None  # reported per document, only when one needs e-mail
            run = ClosingRun(
                bridge,
                seller,
                mailer=mailer,
                concurrency=concurrency,
                retry_uncertain=retry_uncertain,
                retry_cancelled=retry_cancelled,
            )
            seen: set[str] = set()
            with click.progressbar(length=total, label="closing documents", file=sys.stderr) as bar:

                def progress(outcome: Outcome) -> None:
                    outcomes.append(outcome)
                    if outcome.counterparty not in seen:
                        seen.add(outcome.counterparty)
                        bar.update(1)

                summary = run.run(period, batch, progress)
    except KeyboardInterrupt:
        click.echo("\nedi-bridge: interrupted; what this run did before it stopped:", err=True)
        _print_summary(Summary(list(outcomes)), as_json)
        click.echo(
            "the run is safe to repeat: the same command sends only what is missing, nothing twice",
            err=True,
        )
        raise SystemExit(EXIT_INTERRUPTED) from None
    _print_summary(summary, as_json)
    if any(o.result == FAILED for o in summary.outcomes):
        raise SystemExit(1)


def _print_summary(summary: Summary, as_json: bool) -> None:
    data = summary.as_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"sent {data['sent']}, already sent {data['already_sent']}, "
        f"pending {data['pending']}, failed {len(data['failed'])}, "
        f"cancelled {len(data['cancelled'])}"
    )
    for result in ("failed", "cancelled"):
        for item in data[result]:
            click.echo(f"  {result} {item['counterparty']} № {item['number']}: {item['reason']}")


@closing.command("status")
@period_option
@click.option("--no-poll", is_flag=True, help="Do not ask the providers for news first.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_obj
@handle_errors
def closing_status(obj: Obj, period: str, no_poll: bool, as_json: bool) -> None:
    """Each closing document of --period with its state (awaiting the buyer, signed, …)."""
    from ..closing.archive import period_status

    with obj.bridge() as bridge:
        rows = period_status(bridge, period, poll=not no_poll)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no closing documents for this period")
    for row in rows:
        click.echo(
            f"{row['counterparty_key']:<22} {row['number']:<20} {row['channel']:<6} "
            f"{row['state']:<20} {row['recipient']}"
        )


@closing.command("fetch")
@period_option
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Archive root."
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifests' paths as JSON.")
@pass_obj
@handle_errors
def closing_fetch(obj: Obj, period: str, out: Path, as_json: bool) -> None:
    """Download each EDI closing document of --period with its signatures into --out.

    Signatures are verified at signing time (certificates that expired since still
    verify); each verdict is in the manifest."""
    from ..closing.archive import fetch_period

    with obj.bridge() as bridge:
        manifests = fetch_period(bridge, period, out)
    counts: dict[str, int] = {}
    for path in manifests:
        for document in json.loads(path.read_text(encoding="utf-8"))["documents"]:
            for item in document["files"]:
                if "verdict" in item:
                    status = str(item["verdict"].get("status"))
                    counts[status] = counts.get(status, 0) + 1
    if as_json:
        click.echo(
            json.dumps(
                {
                    "period": period,
                    "manifests": [str(p) for p in manifests],
                    "verified_at": "signing-time",
                    "signatures": counts,
                }
            )
        )
        return
    for path in manifests:
        click.echo(str(path))
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
    click.echo(f"signatures verified at signing time: {summary}")


__all__ = ["closing", "upd"]
