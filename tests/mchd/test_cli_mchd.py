"""``edi-bridge mchd read`` summarises a valid МЧД and refuses an invalid one with
exit 1 and the reason; ``edi-bridge verify --power-of-attorney`` checks an
employee's signature with it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from edi_bridge.cli import main
from edi_bridge.mchd import Organisation, Person, build_power_of_attorney, synthetic_person
from edi_bridge.signing import personal_signer
from edi_bridge.testing.samples import sample_counterparty, sample_counterparty_data


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_read_prints_number_dates_parties_and_powers(
    document: bytes, tmp_path: Path, xsd: Path, principal: Organisation, employee: Person
) -> None:
    (tmp_path / "poa.xml").write_bytes(document)
    code, out, _ = _run("mchd", "read", tmp_path / "poa.xml", "--schema", xsd)
    assert code == 0
    assert "0b6f5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b" in out
    assert "2026-01-15 to 2027-01-14" in out
    assert f"INN {principal.inn}" in out
    assert employee.full_name in out
    assert "SYNTHETIC_SIGN_DOCS" in out
    assert f"schema: checked against {xsd.name}" in out


def test_read_json_is_the_model(document: bytes, tmp_path: Path) -> None:
    (tmp_path / "poa.xml").write_bytes(document)
    code, out, _ = _run("mchd", "read", tmp_path / "poa.xml", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["number"] == "0b6f5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
    assert data["schema_checked"] is False


def test_read_an_invalid_document_exits_1_with_the_reason(document: bytes, tmp_path: Path) -> None:
    broken = document.replace('НомДовер="0b6f'.encode(), 'НомДовер="zz6f'.encode())
    (tmp_path / "poa.xml").write_bytes(broken)
    code, out, err = _run("mchd", "read", tmp_path / "poa.xml")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "Довер/СвДов/@НомДовер" in err
    assert "not a GUID" in err


def test_verify_accepts_an_employee_with_the_mchd_and_refuses_without(
    tmp_path: Path, employee: Person
) -> None:
    data = sample_counterparty_data("cli-mchd")
    counterparty = sample_counterparty("cli-mchd")
    (tmp_path / "cp.json").write_text(json.dumps(data, ensure_ascii=False))
    (tmp_path / "doc").write_bytes(b"contract")
    (tmp_path / "doc.sig").write_bytes(personal_signer(employee).sign(b"contract"))
    today = dt.date.today()
    poa = build_power_of_attorney(
        principal=Organisation(
            counterparty.name, counterparty.inn, counterparty.kpp, counterparty.ogrn
        ),
        head=synthetic_person(51),
        representatives=[employee],
        issue_date=today - dt.timedelta(days=3),
        valid_until=today + dt.timedelta(days=30),
    )
    (tmp_path / "poa.xml").write_bytes(poa)
    base: list[str | Path] = [
        tmp_path / "doc",
        tmp_path / "doc.sig",
        "--counterparty",
        tmp_path / "cp.json",
    ]
    code, out, _ = _run("verify", *base, "--allow-unchecked-chain")
    assert code == 3
    assert "personal certificate without a power of attorney" in out
    code, out, _ = _run(
        "verify", *base, "--allow-unchecked-chain", "--power-of-attorney", tmp_path / "poa.xml"
    )
    assert code == 0, out
    assert "authority: power of attorney" in out
    other = build_power_of_attorney(
        principal=Organisation(
            counterparty.name, counterparty.inn, counterparty.kpp, counterparty.ogrn
        ),
        head=synthetic_person(51),
        representatives=[synthetic_person(52)],
        issue_date=today - dt.timedelta(days=3),
        valid_until=today + dt.timedelta(days=30),
    )
    (tmp_path / "other.xml").write_bytes(other)
    code, out, _ = _run("verify", *base, "--power-of-attorney", tmp_path / "other.xml", "--json")
    assert code == 6
    assert json.loads(out)["status"] == "mchd_invalid"


def test_read_says_when_a_document_has_expired(
    tmp_path: Path, principal: Organisation, head: Person, employee: Person
) -> None:
    today = dt.date.today()
    old = build_power_of_attorney(
        principal=principal,
        head=head,
        representatives=[employee],
        issue_date=today - dt.timedelta(days=60),
        valid_until=today - dt.timedelta(days=1),
    )
    (tmp_path / "old.xml").write_bytes(old)
    code, out, _ = _run("mchd", "read", tmp_path / "old.xml")
    assert code == 0
    assert "expired: valid until" in out


def test_verify_with_an_mchd_but_no_counterparty_checks_it_against_its_own_principal(
    tmp_path: Path, principal: Organisation, head: Person, employee: Person
) -> None:
    today = dt.date.today()
    (tmp_path / "doc").write_bytes(b"act")
    (tmp_path / "doc.sig").write_bytes(personal_signer(employee).sign(b"act"))
    for name, rep in (("mine.xml", employee), ("theirs.xml", head)):
        (tmp_path / name).write_bytes(
            build_power_of_attorney(
                principal=principal,
                head=head,
                representatives=[rep],
                issue_date=today - dt.timedelta(days=1),
                valid_until=today + dt.timedelta(days=1),
            )
        )
    args: list[str | Path] = ["verify", tmp_path / "doc", tmp_path / "doc.sig"]
    code, out, _ = _run(
        *args, "--allow-unchecked-chain", "--power-of-attorney", tmp_path / "mine.xml"
    )
    assert code == 0, out
    assert "no counterparty given" in out
    assert f"principal: {principal.name}" in out
    code, out, _ = _run(
        *args, "--allow-unchecked-chain", "--power-of-attorney", tmp_path / "theirs.xml"
    )
    assert code == 6
    assert "other representative" in out
