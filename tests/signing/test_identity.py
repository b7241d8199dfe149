"""Signer identity from the certificate, matched to the counterparty's requisites."""

from __future__ import annotations

import pytest
from asn1crypto import x509 as a509
from cryptography.hazmat.primitives import serialization

from edi_bridge.models import Counterparty
from edi_bridge.signing import (
    Signer,
    VerdictStatus,
    Verifier,
    make_test_identity,
    match_counterparty,
    subject_name,
)
from edi_bridge.signing.identity import SignerIdentity, identity_from_certificate
from edi_bridge.testing import sample_counterparty

from .pki import CA, DOCUMENT, issue_signer

UNCHECKED = Verifier(allow_unchecked_chain=True)


def _identity(**fields: str) -> SignerIdentity:
    _, cert = make_test_identity(subject_name(common_name="x", **fields))
    return identity_from_certificate(
        a509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    )


def test_identity_has_every_russian_attribute() -> None:
    ident = _identity(
        organisation="ООО «Ромашка»",
        surname="Петров",
        given_name="Пётр Петрович",
        title="Директор",
        inn="500100732259",
        inn_le="7707083893",
        ogrn="1027700132195",
        snils="11223344595",
    )
    assert ident.organisation == "ООО «Ромашка»"
    assert ident.full_name == "Петров Пётр Петрович"
    assert ident.title == "Директор"
    assert (ident.inn, ident.inn_le, ident.ogrn, ident.snils) == (
        "500100732259",
        "7707083893",
        "1027700132195",
        "11223344595",
    )
    assert ident.not_before
    assert ident.not_after
    assert ident.not_before < ident.not_after
    assert ident.to_dict()["organisation_inn"] == "7707083893"


def test_old_style_padded_inn_counts_as_organisation_inn() -> None:
    ident = _identity(inn="007707083893")
    assert ident.organisation_inn == "7707083893"
    assert ident.person_inn is None


def test_sole_proprietor_identity_carries_ogrnip() -> None:
    ident = _identity(inn="500100732259", ogrnip="304500116000157")
    assert ident.person_inn == "500100732259"
    assert ident.ogrnip == "304500116000157"


def test_matching_inn_and_ogrn_with_same_signatory_has_no_warning(
    counterparty: Counterparty,
) -> None:
    ident = _identity(
        inn_le=counterparty.inn,
        ogrn=counterparty.ogrn,
        surname="Иванова",
        given_name="Мария  Петровна",
        title="генеральный директор",
    )
    result = match_counterparty(ident, counterparty)
    assert result.matches
    assert result.warnings == ()


def test_other_inn_is_a_mismatch(counterparty: Counterparty) -> None:
    result = match_counterparty(_identity(inn_le="7707083893"), counterparty)
    assert not result.matches
    assert "7707083893" in result.mismatches[0]


def test_other_ogrn_is_a_mismatch(counterparty: Counterparty) -> None:
    ident = _identity(inn_le=counterparty.inn, ogrn="1027700132195")
    assert counterparty.ogrn != "1027700132195"
    assert any("OGRN" in m for m in match_counterparty(ident, counterparty).mismatches)


def test_other_signatory_is_a_warning_not_a_mismatch(counterparty: Counterparty) -> None:
    ident = _identity(
        inn_le=counterparty.inn, ogrn=counterparty.ogrn, surname="Сидоров", given_name="Олег"
    )
    result = match_counterparty(ident, counterparty)
    assert result.matches
    assert any("Сидоров Олег" in w for w in result.warnings)


def test_certificate_of_another_inn_gives_signer_mismatch(
    cas: dict[str, CA], counterparty: Counterparty
) -> None:
    other = sample_counterparty("someone-else")
    assert other.inn != counterparty.inn
    signer = issue_signer(cas["gost256"], "gost256", other)
    verdict = UNCHECKED.verify(signer.sign(DOCUMENT), DOCUMENT, counterparty=counterparty)
    assert verdict.status is VerdictStatus.SIGNER_MISMATCH
    assert not verdict.ok
    assert other.inn in (verdict.reason or "")


@pytest.mark.parametrize("kind", ["rsa", "gost512"])
def test_matching_signer_is_valid_and_named(
    kind: str, signers: dict[str, Signer], counterparty: Counterparty
) -> None:
    verdict = UNCHECKED.verify(signers[kind].sign(DOCUMENT), DOCUMENT, counterparty=counterparty)
    assert verdict.status is VerdictStatus.VALID_CHAIN_UNCHECKED
    assert verdict.ok
    assert verdict.signer is not None
    assert verdict.signer.inn_le == counterparty.inn


def test_different_position_is_recorded_as_warning(
    cas: dict[str, CA], counterparty: Counterparty
) -> None:
    signer = issue_signer(cas["rsa"], "ec", counterparty, title="Главный бухгалтер")
    verdict = UNCHECKED.verify(signer.sign(DOCUMENT), DOCUMENT, counterparty=counterparty)
    assert verdict.ok
    assert any("Главный бухгалтер" in w for w in verdict.warnings)
    assert verdict.to_dict()["warnings"] == list(verdict.warnings)
