"""Intake of the sample applications: each format and layout, missing fields, forgeries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge.cli import main
from edi_bridge.errors import EdiBridgeError, UnsafeInput, ValidationError
from edi_bridge.intake import Limits, intake_message
from edi_bridge.testing.applications import Company, application_form, build_email, card_text

from .samples import ACCOUNT, SAMPLES, SENDER, Sample

pytest.importorskip("docx", reason="the intake extra (python-docx) is not installed")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample_application_gives_the_expected_outcome(sample: Sample) -> None:
    raw = sample.build()
    if sample.outcome == "refused":
        with pytest.raises(EdiBridgeError) as info:
            intake_message(raw, account_email=ACCOUNT, username=sample.username)
        for word in sample.fields:
            assert word in str(info.value)
        return
    result = intake_message(raw, account_email=ACCOUNT, username=sample.username)
    assert result.complete is (sample.outcome == "complete"), result.problems
    assert {p.field for p in result.problems} == set(sample.fields)


def test_complete_application_maps_every_card_value_onto_the_counterparty() -> None:
    company = Company("map", director="Кузнецов Олег Викторович", position="Директор")
    raw = build_email(sender=SENDER, body=application_form() + card_text(company))
    cp = intake_message(raw, account_email=ACCOUNT).counterparty
    assert cp is not None
    assert (cp.name, cp.inn, cp.kpp, cp.ogrn) == (
        company.name,
        company.inn,
        company.kpp,
        company.ogrn,
    )
    assert (cp.signatory.full_name, cp.signatory.position) == (company.director, "Директор")
    assert cp.contract_postal_address == company.postal_address
    assert (cp.contact.name, cp.contact.phone) == ("Сидоров Пётр Ильич", "+7 916 000-22-33")
    assert cp.contact.email == company.email
    assert cp.closing_documents.email == "buh@romashka-test.example"
    assert cp.vat_payer is True
    assert cp.username == "romashka"
    assert cp.edi == []


def test_genitive_signatory_in_a_card_is_read_back_in_the_nominative() -> None:
    sample = next(s for s in SAMPLES if s.name == "s03-docx-lines-v-lice")
    cp = intake_message(sample.build(), account_email=ACCOUNT).counterparty
    assert cp is not None
    assert (cp.signatory.position, cp.signatory.full_name) == (
        "Директор",
        "Кузнецов Олег Викторович",
    )


def test_reply_asks_for_exactly_what_is_missing_or_wrong() -> None:
    sample = next(s for s in SAMPLES if s.name == "s08-txt-card-missing-fields")
    result = intake_message(sample.build(), account_email=ACCOUNT)
    reply = result.reply_text
    asked = [line for line in reply.splitlines() if line.startswith("- ")]
    assert asked == [
        "- являетесь ли вы плательщиком НДС (да/нет);",
        "- ФИО контактного (ответственного) лица;",
        "- e-mail для закрывающих документов;",
    ]
    wrong = next(s for s in SAMPLES if s.name == "s09-wrong-inn-check-digit")
    reply = intake_message(wrong.build(), account_email=ACCOUNT).reply_text
    assert "- ИНН: указанное значение неверно (не сходится контрольная цифра);" in reply
    conflict = next(s for s in SAMPLES if s.name == "s11-conflicting-inn")
    reply = intake_message(conflict.build(), account_email=ACCOUNT).reply_text
    assert "- ИНН: в заявке указаны разные значения («" in reply


def test_sender_comparison_ignores_case_and_display_name() -> None:
    raw = build_email(
        sender='"Кто угодно" <CLIENT@romashka-test.EXAMPLE>',
        body=application_form() + card_text(Company("case")),
    )
    assert intake_message(raw, account_email="client@romashka-test.example").complete


def test_forged_sender_refusal_names_both_addresses() -> None:
    sample = next(s for s in SAMPLES if s.name == "s12-forged-from")
    with pytest.raises(ValidationError) as info:
        intake_message(sample.build(), account_email=ACCOUNT)
    assert info.value.field == "message.From"
    assert "client@romashka-test.example.evil" in str(info.value)
    assert "client@romashka-test.example " in str(info.value) + " "


def test_oversize_message_is_refused_before_parsing() -> None:
    raw = build_email(sender=SENDER, body="x" * 5000)
    with pytest.raises(UnsafeInput, match="larger than 4096 bytes"):
        intake_message(raw, account_email=ACCOUNT, limits=Limits(max_message_bytes=4096))


def test_too_many_attachments_and_oversize_attachment_are_refused() -> None:
    many = build_email(sender=SENDER, body="x", attachments=[(f"{i}.bin", b"1") for i in range(4)])
    with pytest.raises(UnsafeInput, match="more than 3 attachments"):
        intake_message(many, account_email=ACCOUNT, limits=Limits(max_attachments=3))
    big = build_email(sender=SENDER, body="x", attachments=[("card.txt", b"a" * 20000)])
    with pytest.raises(UnsafeInput, match=r"attachment card.txt: larger than 10000 bytes"):
        intake_message(big, account_email=ACCOUNT, limits=Limits(max_attachment_bytes=10000))


def test_html_body_is_read_as_text_and_its_script_is_dropped() -> None:
    sample = next(s for s in SAMPLES if s.name == "s07-html-table")
    result = intake_message(sample.build(), account_email=ACCOUNT)
    assert result.complete
    assert "alert" not in json.dumps(result.as_json(), ensure_ascii=False)


def test_cli_prints_the_counterparty_json_for_a_complete_application(tmp_path: Path) -> None:
    eml = tmp_path / "app.eml"
    eml.write_bytes(SAMPLES[1].build())
    result = CliRunner().invoke(main, ["intake", str(eml), "--account-email", ACCOUNT])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "Общество с ограниченной ответственностью «Василёк-Тест»"
    assert data["edi"][0]["operator"] == "diadoc"


def test_cli_lists_problems_writes_the_reply_and_exits_nonzero(tmp_path: Path) -> None:
    eml = tmp_path / "app.eml"
    eml.write_bytes(next(s for s in SAMPLES if s.name.startswith("s08")).build())
    reply = tmp_path / "reply.txt"
    result = CliRunner().invoke(
        main, ["intake", str(eml), "--account-email", ACCOUNT, "--reply", str(reply)]
    )
    assert result.exit_code == 1
    assert "contact.name: missing: required" in result.stdout
    assert "e-mail для закрывающих документов" in reply.read_text(encoding="utf-8")


def test_cli_refuses_a_forged_sender_in_one_line(tmp_path: Path) -> None:
    eml = tmp_path / "app.eml"
    eml.write_bytes(next(s for s in SAMPLES if s.name.startswith("s12")).build())
    result = CliRunner().invoke(main, ["intake", str(eml), "--account-email", ACCOUNT, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "message.From" in lines[0]
    assert "registered address" in lines[0]


def test_importing_the_library_and_cli_loads_no_format_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, edi_bridge, edi_bridge.cli, edi_bridge.intake, edi_bridge.contracts\n"
        "mods = ('docx', 'openpyxl', 'pdfplumber', 'docxtpl', 'pytrovich', 'pymorphy3',"
        " 'imap_tools')\n"
        "print([m for m in mods if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nested_attached_messages_are_bounded_before_the_parser_recurses() -> None:
    inner = "Content-Type: text/plain\r\n\r\nx\r\n"
    for _ in range(3000):
        inner = f"Content-Type: message/rfc822\r\n\r\n{inner}"
    raw = f"From: {SENDER}\r\nSubject: deep\r\n{inner}".encode()
    with pytest.raises(UnsafeInput, match="more than 30 multipart parts"):
        intake_message(raw, account_email=ACCOUNT)


@pytest.mark.parametrize(
    ("edi", "expected"),
    [
        ("нет", "no routes"),
        ("да", "missing"),
        ("Диадок", "missing"),
        ("СБИС, ID 2BE-0000000000-0001", "sbis"),
    ],
)
def test_edi_answer_gives_routes_or_asks_for_the_participant_id(edi: str, expected: str) -> None:
    raw = build_email(sender=SENDER, body=application_form(edi=edi) + card_text(Company("edi")))
    result = intake_message(raw, account_email=ACCOUNT)
    if expected == "missing":
        assert [(p.field, p.kind) for p in result.problems] == [("edi", "missing")]
        assert "оператора ЭДО и идентификатор участника ЭДО" in result.reply_text
    else:
        assert result.counterparty is not None
        assert [r.operator for r in result.counterparty.edi] == (
            [] if expected == "no routes" else [expected]
        )
