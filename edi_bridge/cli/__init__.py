"""The ``edi-bridge`` command line.

Exit codes are listed in :mod:`edi_bridge.cli.common` and the README. Errors print one
line to stderr; machine-readable output (``--json``) goes to stdout.

A command is registered with one entry in ``COMMANDS``: its name, where it lives, and
the short help ``edi-bridge --help`` shows without importing it, which is the command's
own ``get_short_help_str(limit=70)`` (a test checks that they agree).
"""

from __future__ import annotations

import logging

import click

from .common import DEFAULT_LOCK_WAIT, Obj
from .group import ONLY_HELP, LazyGroup

COMMANDS: dict[str, tuple[str, str]] = {
    "accept": (
        "edi_bridge.cli.attention:accept",
        "Accept a signature a check held: signed, with who and why.",
    ),
    "cancel": (
        "edi_bridge.cli.exchanges:cancel",
        "Cancel a queued/prepared exchange, or close an expired EDI one...",
    ),
    "closing": (
        "edi_bridge.cli.closing:closing",
        "Monthly closing documents: send by each client's channel, track,...",
    ),
    "contract": (
        "edi_bridge.cli.contract:contract",
        "Contracts from DOCX templates with merge fields (docs/contracts.md).",
    ),
    "demo": (
        "edi_bridge.cli.demo:demo",
        "Send a sample contract through the mock and poll until the client...",
    ),
    "doctor": (
        "edi_bridge.cli.doctor:doctor",
        "Check each configured adapter and carrier: settings, reachability,...",
    ),
    "events": (
        "edi_bridge.cli.events:events",
        "Print the durable event log (what changed, in order, with sequence...",
    ),
    "fetch": (
        "edi_bridge.cli.exchanges:fetch",
        "Write the document, each signature and manifest.json (with SHA-256)...",
    ),
    "intake": (
        "edi_bridge.cli.intake:intake",
        "Read a client's application e-mail: print the counterparty JSON, or...",
    ),
    "list": ("edi_bridge.cli.exchanges:list_", "List exchanges, newest first."),
    "mchd": (
        "edi_bridge.cli.mchd:mchd",
        "Machine-readable powers of attorney (МЧД, FNS format EMCHD_1).",
    ),
    "mock": ("edi_bridge.cli.fake:mock", "Fakes of the operators and carriers, for development."),
    "paper": (
        "edi_bridge.cli.paper:paper",
        "The paper route: print pack, dispatch, scan, originals.",
    ),
    "poll": (
        "edi_bridge.cli.exchanges:poll",
        "Send what is queued, apply pending provider events, print what...",
    ),
    "providers": (
        "edi_bridge.cli.exchanges:providers",
        "List installed provider adapters and their capabilities.",
    ),
    "resend": (
        "edi_bridge.cli.exchanges:resend",
        "Send an exchange again (refused for signed or in-flight ones).",
    ),
    "reverify": (
        "edi_bridge.cli.attention:reverify",
        "Check a held counterparty signature again; signed when it now passes.",
    ),
    "revocation": (
        "edi_bridge.cli.revocation:revocation",
        "Answer the counterparty's request to annul a signed document.",
    ),
    "revoke": (
        "edi_bridge.cli.revocation:revoke",
        "Ask the counterparty to annul a signed document...",
    ),
    "send": (
        "edi_bridge.cli.exchanges:send",
        "Send a document for signature; prints the exchange id, its status...",
    ),
    "status": (
        "edi_bridge.cli.exchanges:status",
        "Show an exchange: status, reason, history, signatures.",
    ),
    "upd": ("edi_bridge.cli.closing:upd", "Write and read УПД 5.03 XML files."),
    "verify": (
        "edi_bridge.cli.verify:verify",
        "Verify SIGNATURE (detached CMS: DER, base64 or PEM) over DOCUMENT.",
    ),
    "worker": (
        "edi_bridge.cli.worker:worker",
        "Send queued exchanges and poll providers, several workers per...",
    ),
}

TEST_CERTIFICATE = "throwaway test certificate"


class _QuietUnlessImportant(logging.Filter):
    """Without -v: the library's errors, the test-certificate warning and warnings the
    library marks ``shown`` (a setting the person should know is missing), nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or getattr(record, "shown", False):
            return True
        return TEST_CERTIFICATE in record.getMessage()


class _EchoHandler(logging.Handler):
    """Writes to the current stderr (click's, so test runners capture it too)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:
            self.handleError(record)


def _configure_logging(verbose: int) -> None:
    handler = _EchoHandler()
    if verbose:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("edi-bridge: %(message)s"))
        handler.addFilter(_QuietUnlessImportant())
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _EchoHandler)] + [handler]
    root.setLevel(logging.WARNING - 10 * min(verbose, 2))


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    envvar="EDI_BRIDGE_DB",
    default=None,
    metavar="PATH|URL",
    help="Database file or URL (default ./edi-bridge.db; env EDI_BRIDGE_DB).",
)
@click.option("-v", "--verbose", count=True, help="Log more (-vv: debug).")
@click.option(
    "--lock-wait",
    type=click.FloatRange(min=0),
    default=DEFAULT_LOCK_WAIT,
    show_default=True,
    metavar="S",
    help="Seconds to wait for a SQLite database another process holds locked.",
)
@click.option(
    "--json", "_json", is_flag=True, help="Machine-readable output (same as the command's --json)."
)
@click.version_option(package_name="edi-bridge")
@click.pass_context
def main(ctx: click.Context, db: str | None, verbose: int, lock_wait: float, _json: bool) -> None:
    """Send contracts for signature through EDI operators and track them.

    Global options (--db, -v, --lock-wait, --json) may come before or after the command.
    """
    _configure_logging(verbose)
    ctx.obj = Obj(db, lock_wait=lock_wait)
    if not ctx.meta.get(ONLY_HELP):
        _check_environment()


def _check_environment() -> None:
    """Refuse an ``EDI_BRIDGE_*`` variable nothing reads, for every command, before it
    runs: a misspelt variable would otherwise be ignored by a command that never opens
    the database (``verify``, ``upd build``, ``mock serve``...). Imported here, not at
    the top, so that ``--version`` and ``--help`` stay light."""
    import os

    from .. import config
    from ..errors import ConfigurationError
    from .failure import fail

    try:
        # Variables of the library's own sections only (or none): no need to load the
        # adapters (pydantic, SQLAlchemy), which would add half a second to ``verify``.
        config.check_settings({}, os.environ, {k.section: k for k in config.CORE_SECTIONS})
        return
    except ConfigurationError:
        pass  # an adapter's or carrier's section, or a typo: the full check decides

    from ..registry import default_registry
    from ..workflow.settings_check import check_settings

    try:
        check_settings({}, os.environ, default_registry)
    except ConfigurationError as exc:
        fail(str(exc))


__all__ = ["COMMANDS", "main"]
