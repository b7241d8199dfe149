"""A counterparty's employee signs with a personal certificate and an МЧД: the
verdict is valid by power of attorney only when the МЧД names that person as
representative, the counterparty as principal, covers the signing time and
grants the powers the policy asks for; the head's certificate needs none."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edi_bridge import Bridge
from edi_bridge.mchd import (
    Organisation,
    Original,
    Person,
    build_power_of_attorney,
    build_redelegation,
    read_power_of_attorney,
    synthetic_organisation,
    synthetic_person,
)
from edi_bridge.models import Counterparty
from edi_bridge.signing import (
    NO_POWER_OF_ATTORNEY,
    OperatorPoaStatus,
    PowersPolicy,
    SignatureChecker,
    SoftwareSigner,
    TrustStore,
    VerdictStatus,
    Verifier,
    diadoc_status,
    make_personal_identity,
)
from edi_bridge.testing import sample_contract

from .pki import CA, DOCUMENT, issue_signer

TODAY = dt.datetime.now(dt.UTC).date()
EMPLOYEE = synthetic_person(21, position="Менеджер по продажам")
HEAD = synthetic_person(22, position="Генеральный директор")


def _principal(counterparty: Counterparty) -> Organisation:
    return Organisation(counterparty.name, counterparty.inn, counterparty.kpp, counterparty.ogrn)


def _poa(
    principal: Organisation,
    representative: Person = EMPLOYEE,
    *,
    start: int = -30,
    end: int = 300,
    powers: tuple[tuple[str, str], ...] | str = (("SIGN_CONTRACTS", "Подписание договоров"),),
    number: str | None = None,
) -> bytes:
    return build_power_of_attorney(
        principal=principal,
        head=HEAD,
        representatives=[representative],
        issue_date=TODAY + dt.timedelta(days=start),
        valid_until=TODAY + dt.timedelta(days=end),
        powers=powers,
        number=number,
    )


@pytest.fixture(scope="module")
def employee_signature(cas: dict[str, CA], counterparty: Counterparty) -> bytes:
    ca = cas["rsa"]
    key, cert = make_personal_identity(
        EMPLOYEE,
        organisation=counterparty.name,
        issuer=ca.name,
        issuer_key=ca.key,  # type: ignore[arg-type]
    )
    return SoftwareSigner(key, cert).sign(DOCUMENT)


@pytest.fixture(scope="module")
def verifier(cas: dict[str, CA]) -> Verifier:
    return Verifier(TrustStore([cas["rsa"].asn1]))


def test_the_heads_certificate_is_valid_by_certificate(
    cas: dict[str, CA], counterparty: Counterparty, verifier: Verifier
) -> None:
    signature = issue_signer(cas["rsa"], "ec", counterparty).sign(DOCUMENT)
    verdict = verifier.verify(signature, DOCUMENT, counterparty=counterparty)
    assert verdict.status is VerdictStatus.VALID
    assert verdict.authority == {"kind": "certificate"}


def test_an_employee_with_a_valid_mchd_is_valid_by_power_of_attorney(
    employee_signature: bytes, counterparty: Counterparty, verifier: Verifier
) -> None:
    document = _poa(_principal(counterparty), number="5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    verdict = verifier.verify(
        employee_signature, DOCUMENT, counterparty=counterparty, powers_of_attorney=[document]
    )
    assert verdict.status is VerdictStatus.VALID, verdict.reason
    assert verdict.ok
    authority = verdict.to_dict()["authority"]
    assert authority["kind"] == "power_of_attorney"
    assert authority["number"] == "5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert authority["principal"][0]["inn"] == counterparty.inn
    assert authority["representative"][0]["snils"] == EMPLOYEE.snils


def test_an_employee_without_an_mchd_is_a_signer_mismatch(
    employee_signature: bytes, counterparty: Counterparty, verifier: Verifier
) -> None:
    verdict = verifier.verify(employee_signature, DOCUMENT, counterparty=counterparty)
    assert verdict.status is VerdictStatus.SIGNER_MISMATCH
    assert verdict.reason == NO_POWER_OF_ATTORNEY
    assert verdict.signer is not None
    assert verdict.signer.snils == EMPLOYEE.snils


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired", "expired"),
        ("not_yet_valid", "not yet valid"),
        ("other_principal", "other principal"),
        ("other_kpp", "principal KPP"),
        ("other_representative", "other representative"),
    ],
)
def test_each_invalid_mchd_is_mchd_invalid_with_the_reason(
    case: str,
    expected: str,
    employee_signature: bytes,
    counterparty: Counterparty,
    verifier: Verifier,
) -> None:
    principal = _principal(counterparty)
    document = {
        "expired": lambda: _poa(principal, start=-400, end=-1),
        "not_yet_valid": lambda: _poa(principal, start=2, end=30),
        "other_principal": lambda: _poa(synthetic_organisation(404)),
        "other_kpp": lambda: _poa(
            Organisation(principal.name, principal.inn, "770201001", principal.ogrn)
        ),
        "other_representative": lambda: _poa(principal, synthetic_person(405)),
    }[case]()
    verdict = verifier.verify(
        employee_signature, DOCUMENT, counterparty=counterparty, powers_of_attorney=[document]
    )
    assert verdict.status is VerdictStatus.MCHD_INVALID
    assert not verdict.ok
    assert expected in (verdict.reason or "")
    assert verdict.authority is not None
    assert verdict.authority["kind"] == "power_of_attorney"


def test_a_required_power_that_is_missing_is_mchd_invalid(
    employee_signature: bytes, counterparty: Counterparty, cas: dict[str, CA]
) -> None:
    policy = PowersPolicy({"contract": frozenset({"SIGN_ALL"})})
    strict = Verifier(TrustStore([cas["rsa"].asn1]), powers_policy=policy)
    document = _poa(_principal(counterparty))
    contract = strict.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[document],
        document_kind="contract",
    )
    assert contract.status is VerdictStatus.MCHD_INVALID
    assert "power missing" in (contract.reason or "")
    # The same МЧД is enough for a kind the policy does not name.
    act = strict.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[document],
        document_kind="act",
    )
    assert act.status is VerdictStatus.VALID


def test_a_text_mchd_passes_a_policy_only_when_it_accepts_text(
    employee_signature: bytes, counterparty: Counterparty, cas: dict[str, CA]
) -> None:
    document = _poa(_principal(counterparty), powers="Подписывать договоры")
    trust = TrustStore([cas["rsa"].asn1])
    required = {"contract": frozenset({"SIGN_CONTRACTS"})}
    for accept, expected in ((False, VerdictStatus.MCHD_INVALID), (True, VerdictStatus.VALID)):
        verdict = Verifier(trust, powers_policy=PowersPolicy(required, accept)).verify(
            employee_signature,
            DOCUMENT,
            counterparty=counterparty,
            powers_of_attorney=[document],
            document_kind="contract",
        )
        assert verdict.status is expected


def test_the_policy_is_read_from_settings() -> None:
    policy = PowersPolicy.from_settings(
        {"mchd.required_powers.contract": "A_CODE, B_CODE"},
        {"EDI_BRIDGE_MCHD_ACCEPT_TEXT_POWERS": "yes"},
    )
    assert policy.required == {"contract": frozenset({"A_CODE", "B_CODE"})}
    assert policy.accept_text


def test_a_negative_operator_status_wins(
    employee_signature: bytes, counterparty: Counterparty, verifier: Verifier
) -> None:
    verdict = verifier.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[_poa(_principal(counterparty))],
        operator_status=diadoc_status("IsNotValid", "МЧД отозвана"),
    )
    assert verdict.status is VerdictStatus.MCHD_INVALID
    assert "operator reports" in (verdict.reason or "")
    assert "МЧД отозвана" in (verdict.reason or "")
    assert verdict.authority is not None
    assert verdict.authority["operator_status"]["status"] == "IsNotValid"


def test_a_positive_operator_status_is_recorded(
    employee_signature: bytes, counterparty: Counterparty, verifier: Verifier
) -> None:
    status = OperatorPoaStatus(True, "IsValid", operator="diadoc")
    verdict = verifier.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[_poa(_principal(counterparty))],
        operator_status=status,
    )
    assert verdict.status is VerdictStatus.VALID
    assert verdict.authority is not None
    assert verdict.authority["operator_status"] == {
        "ok": True,
        "status": "IsValid",
        "operator": "diadoc",
    }


def test_an_unreadable_mchd_is_mchd_invalid_naming_the_element(
    employee_signature: bytes, counterparty: Counterparty, verifier: Verifier
) -> None:
    broken = _poa(_principal(counterparty)).replace(
        'ВерсФорм="EMCHD_1"'.encode(), 'ВерсФорм="EMCHD_9"'.encode()
    )
    verdict = verifier.verify(
        employee_signature, DOCUMENT, counterparty=counterparty, powers_of_attorney=[broken]
    )
    assert verdict.status is VerdictStatus.MCHD_INVALID
    assert "ВерсФорм" in (verdict.reason or "")


def test_a_redelegation_chain_is_valid_when_its_original_holds(
    cas: dict[str, CA], counterparty: Counterparty, verifier: Verifier
) -> None:
    principal = _principal(counterparty)
    original = read_power_of_attorney(_poa(principal))
    deputy = synthetic_person(23, position="Специалист")
    ca = cas["rsa"]
    key, cert = make_personal_identity(deputy, issuer=ca.name, issuer_key=ca.key)  # type: ignore[arg-type]
    signature = SoftwareSigner(key, cert).sign(DOCUMENT)
    leaf = build_redelegation(
        original=Original(principal, original.number, original.issue_date, original.valid_until),
        transferred_by=EMPLOYEE,
        representatives=[deputy],
        issue_date=TODAY - dt.timedelta(days=5),
        valid_until=TODAY + dt.timedelta(days=30),
    )
    verdict = verifier.verify(
        signature, DOCUMENT, counterparty=counterparty, powers_of_attorney=[original, leaf]
    )
    assert verdict.status is VerdictStatus.VALID, verdict.reason
    assert verdict.authority is not None
    assert verdict.authority["number"] != original.number
    alone = verifier.verify(
        signature, DOCUMENT, counterparty=counterparty, powers_of_attorney=[leaf]
    )
    assert alone.status is VerdictStatus.VALID
    assert any("was not supplied" in w for w in alone.warnings)


def test_without_a_trust_store_the_mchd_is_still_checked(
    employee_signature: bytes, counterparty: Counterparty
) -> None:
    unchecked = Verifier(allow_unchecked_chain=True)
    good = unchecked.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[_poa(_principal(counterparty))],
    )
    assert good.status is VerdictStatus.VALID_CHAIN_UNCHECKED
    assert good.chain == "not_checked"
    assert good.authority is not None
    assert good.authority["kind"] == "power_of_attorney"
    bad = unchecked.verify(
        employee_signature,
        DOCUMENT,
        counterparty=counterparty,
        powers_of_attorney=[_poa(synthetic_organisation(406))],
    )
    assert bad.status is VerdictStatus.MCHD_INVALID


def test_the_workflow_checker_takes_an_mchd_and_keeps_its_old_call(
    employee_signature: bytes, counterparty: Counterparty, cas: dict[str, CA], tmp_path: Path
) -> None:
    with Bridge.open(tmp_path / "edi.db") as bridge:
        exchange = bridge.send(counterparty, sample_contract("МЧД-1"), provider="mock")
    checker = SignatureChecker(
        content=lambda _: [DOCUMENT], trust_store=TrustStore([cas["rsa"].asn1])
    )
    assert checker(exchange, employee_signature)["reason"] == NO_POWER_OF_ATTORNEY
    verdict = checker(
        exchange,
        employee_signature,
        powers_of_attorney=[_poa(_principal(counterparty))],
        operator_status=diadoc_status("IsValid"),
    )
    assert verdict["status"] == "valid"
    assert verdict["authority"]["kind"] == "power_of_attorney"
    assert verdict["authority"]["operator_status"]["status"] == "IsValid"
