"""From a client's application e-mail to a signed contract, runnable on the mock.

    python examples/onboarding_from_email.py [--db PATH] [--workdir DIR]

1. A client e-mails its application with a company card (DOCX) attached, from the
   address registered in its account.
2. Intake checks the sender, reads the card and the form, and validates the result.
3. The contract is rendered from the example template (examples/contracts/).
4. It is sent for signature on the mock, which plays a client who signs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

from edi_bridge import Bridge, Document, DocumentKind, Event
from edi_bridge.contracts import render_contract
from edi_bridge.intake import intake_message
from edi_bridge.testing.applications import (
    Company,
    application_form,
    build_email,
    card_docx_table,
)

TEMPLATE = Path(__file__).resolve().parent / "contracts" / "service_contract.docx"
ACCOUNT_EMAIL = "director@vasilek-test.example"  # from the account settings
USERNAME = "vasilek"


def sample_application() -> bytes:
    """What the client sends: the application form in the body, its card attached."""
    company = Company(
        "vasilek",
        # The mock signs as the client with the name as the certificate's CN, which
        # X.509 bounds to 64 bytes: a short form keeps the sample within it.
        name="ООО «Василёк-Тест»",
        short_name="ООО «Василёк-Тест»",
        director="Соколова Елена Андреевна",
        email="office@vasilek-test.example",
    )
    body = application_form(username=USERNAME, closing_email="buh@vasilek-test.example")
    return build_email(
        sender=f"Елена Соколова <{ACCOUNT_EMAIL}>",
        body=body,
        attachments=[("Карточка предприятия.docx", card_docx_table(company))],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None, help="database (default: a temporary file)")
    parser.add_argument("--workdir", default=None, help="where files go (default: temporary)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="onboarding-"))
    work.mkdir(parents=True, exist_ok=True)
    db = args.db or str(work / "onboarding.db")

    raw = sample_application()
    (work / "application.eml").write_bytes(raw)
    result = intake_message(raw, account_email=ACCOUNT_EMAIL, username=USERNAME)
    if result.counterparty is None:
        print("[intake] incomplete; the reply would ask for:\n" + result.reply_text)
        raise SystemExit(1)
    client = result.counterparty
    (work / "counterparty.json").write_text(client.model_dump_json(indent=2), encoding="utf-8")
    print(
        f"[intake] {client.name}, INN {client.inn}, signatory {client.signatory.full_name} "
        f"({client.signatory.position}); from {', '.join(result.sources)}"
    )

    number = f"{USERNAME.upper()}-{dt.date.today():%Y}-1"
    rendered = render_contract(
        TEMPLATE,
        client,
        number=number,
        date=dt.date.today(),
        price="120000.00",
        out=work / f"contract-{USERNAME}.docx",
    )
    print(
        f"[render] {rendered.path.name} sha256 {rendered.sha256[:16]}… "
        f"«в лице {rendered.fields['signatory_position_genitive']} "
        f"{rendered.fields['signatory_name_genitive']}»"
    )

    signed: list[str] = []

    def on_signed(event: Event) -> None:
        signed.append(event.exchange_id)
        print(f"[backend] contract signed ({event.exchange_id}): activating {USERNAME}")

    with Bridge.open(db) as bridge:
        bridge.on("signed", on_signed)
        document = Document.from_path(
            rendered.path,
            kind=DocumentKind.CONTRACT,
            number=number,
            date=dt.date.today(),
            price="120000.00",
        )
        exchange = bridge.send(
            client,
            document,
            idempotency_key=f"onboarding:{USERNAME}:contract",
            provider="mock",  # the client named no EDI operator; the mock plays one
            scenario="sign",
        )
        print(f"[send] {exchange.id} is {exchange.status}")
        for _ in range(5):
            if signed:
                break
            bridge.poll()
        final = bridge.status(exchange.id)
        print(f"[done] {final.id}: {final.status}")
        print(json.dumps({"status": final.status, "counterparty": client.inn}))
        if final.status != "signed":
            raise SystemExit(1)


if __name__ == "__main__":
    main()
