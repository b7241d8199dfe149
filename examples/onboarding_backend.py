"""An onboarding backend's integration with edi-bridge, runnable on the mock.

    python examples/onboarding_backend.py [--db PATH]

The backend approves a client, sends its contract for signature, reacts to
the client's signature (activates the account) and to a rejection (tells a
manager), and catches up on changes it missed while it was down.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from edi_bridge import Bridge, Document, DocumentKind, Event, parse_counterparty
from edi_bridge.testing.samples import sample_counterparty_data, sample_pdf

ACTIVATED: set[str] = set()


def on_signed(event: Event) -> None:
    # Callbacks are at-least-once: event.key is unique per change, so an
    # idempotent handler (a set, an upsert) is safe to run twice.
    if event.key not in ACTIVATED:
        ACTIVATED.add(event.key)
        print(f"[backend] contract signed: activating account ({event.exchange_id})")


def on_rejected(event: Event) -> None:
    print(f"[backend] client rejected the contract: {event.reason!r}; telling the manager")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None, help="database (default: a temporary file)")
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "onboarding.db")

    with Bridge.open(db) as bridge:
        bridge.on("signed", on_signed)
        bridge.on("rejected", on_rejected)

        for username, scenario in [("acme", "sign"), ("globex", "reject:Не согласны с ценой")]:
            # The requisites come from the onboarding form, as JSON.
            client = parse_counterparty(sample_counterparty_data(username))
            contract_file = Path(tempfile.mkdtemp()) / f"contract-{username}.pdf"
            contract_file.write_bytes(sample_pdf(f"Contract {username}"))
            contract = Document.from_path(
                contract_file,
                kind=DocumentKind.CONTRACT,
                number=f"{username.upper()}-2026-1",
                date=dt.date.today(),
            )
            exchange = bridge.send(
                client,
                contract,
                idempotency_key=f"onboarding:{username}:contract",  # one contract per approval
                scenario=scenario,  # only the mock plays scenarios
            )
            print(f"[backend] {username}: contract {exchange.id} is {exchange.status}")

        # A worker would call this on an interval; callbacks fire from here.
        for _ in range(3):
            bridge.poll()

        for exchange in bridge.list():
            print(f"[backend] {exchange.id} {exchange.counterparty.username}: {exchange.status}")
        assert len(ACTIVATED) == 1

    # A process that was down reads what it missed from the durable log.
    with Bridge.open(db) as later:
        kinds = [e.kind for e in later.events()]
        print(f"[backend] recorded changes: {kinds}")


if __name__ == "__main__":
    main()
