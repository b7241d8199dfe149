"""Our own МЧД: the settings are read and checked, and a send whose signer is a
person is refused, naming the setting or the rule, unless a fitting МЧД is set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from edi_bridge.errors import ValidationError
from edi_bridge.mchd import Organisation, build_power_of_attorney, synthetic_person
from edi_bridge.models import Counterparty
from edi_bridge.signing import (
    OurPowerOfAttorney,
    check_our_power_of_attorney,
    make_personal_identity,
    make_test_identity,
    our_power_of_attorney,
    subject_name,
)

TODAY = dt.datetime.now(dt.UTC).date()
SIGNER = synthetic_person(31, position="Бухгалтер")


@pytest.fixture(scope="module")
def personal_cert() -> bytes:
    _, cert = make_personal_identity(SIGNER)
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def ours(counterparty: Counterparty) -> Counterparty:
    # Our organisation's requisites: any INN/KPP/OGRN holder will do.
    return counterparty


def _configured(tmp_path: Path, us: Counterparty, **overrides: object) -> OurPowerOfAttorney:
    args: dict[str, object] = {
        "principal": Organisation(us.name, us.inn, us.kpp, us.ogrn),
        "head": synthetic_person(32, position="Директор"),
        "representatives": [SIGNER],
        "issue_date": TODAY - dt.timedelta(days=10),
        "valid_until": TODAY + dt.timedelta(days=100),
    }
    args.update(overrides)
    xml = tmp_path / "poa.xml"
    xml.write_bytes(build_power_of_attorney(**args))  # type: ignore[arg-type]
    sig = tmp_path / "poa.xml.sig"
    sig.write_bytes(b"0")
    return OurPowerOfAttorney(file=xml, signature_file=sig)


def test_no_setting_means_no_power_of_attorney() -> None:
    assert our_power_of_attorney({}, {}) is None


def test_by_reference_settings_are_read_from_the_environment() -> None:
    found = our_power_of_attorney(
        {},
        {
            "EDI_BRIDGE_SIGNING_POWER_OF_ATTORNEY_REGISTRATION_NUMBER": (
                "5E1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B"
            ),
            "EDI_BRIDGE_SIGNING_POWER_OF_ATTORNEY_ISSUER_INN": "7707083893",
        },
    )
    assert found == OurPowerOfAttorney(
        registration_number="5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", issuer_inn="7707083893"
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"registration_number": "5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"}, "issuer_inn"),
        ({"issuer_inn": "7707083893"}, "registration_number"),
        ({"registration_number": "nope", "issuer_inn": "7707083893"}, "registration_number"),
        (
            {"registration_number": "5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", "issuer_inn": "1"},
            "issuer_inn",
        ),
        ({"file": "poa.xml"}, "signature"),
        ({"signature": "poa.sig"}, "file"),
        ({"file": "missing.xml", "signature": "missing.sig"}, "file"),
        ({"registration_number": "x", "file": "y"}, ""),
    ],
)
def test_a_wrong_setting_is_named(settings: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        our_power_of_attorney({f"signing.power_of_attorney.{k}": v for k, v in settings.items()})
    expected = "signing.power_of_attorney" + (f".{field}" if field else "")
    assert caught.value.field == expected


def test_a_personal_signer_without_an_mchd_is_refused_naming_the_setting(
    personal_cert: bytes, ours: Counterparty
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_our_power_of_attorney(personal_cert, ours, None)
    assert caught.value.field == "signing.power_of_attorney"
    assert "names a person" in caught.value.rule
    assert "signing.power_of_attorney.registration_number" in caught.value.rule


def test_the_heads_certificate_needs_no_mchd(ours: Counterparty) -> None:
    _, cert = make_test_identity(
        subject_name(organisation=ours.name, common_name=ours.name, inn_le=ours.inn, ogrn=ours.ogrn)
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    assert check_our_power_of_attorney(der, ours, None) is None


def test_a_fitting_mchd_file_is_accepted(
    personal_cert: bytes, ours: Counterparty, tmp_path: Path
) -> None:
    poa = check_our_power_of_attorney(personal_cert, ours, _configured(tmp_path, ours))
    assert poa is not None
    assert poa.representatives[0].person == SIGNER


def test_by_reference_the_issuer_must_be_us(personal_cert: bytes, ours: Counterparty) -> None:
    number = "5e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    good = OurPowerOfAttorney(registration_number=number, issuer_inn=ours.inn)
    assert check_our_power_of_attorney(personal_cert, ours, good) is None
    other = OurPowerOfAttorney(registration_number=number, issuer_inn="7707083893")
    with pytest.raises(ValidationError) as caught:
        check_our_power_of_attorney(personal_cert, ours, other)
    assert caught.value.field == "signing.power_of_attorney.issuer_inn"
    assert caught.value.rule.startswith("principal:")


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        (
            {"principal": Organisation("ООО «Другое»", "7707083893", "770701001", None)},
            "principal:",
        ),
        ({"representatives": [synthetic_person(33)]}, "representative:"),
        (
            {
                "issue_date": TODAY - dt.timedelta(days=400),
                "valid_until": TODAY - dt.timedelta(days=1),
            },
            "validity: the МЧД is expired",
        ),
    ],
)
def test_an_mchd_that_cannot_be_right_is_refused_naming_the_rule(
    overrides: dict[str, object],
    rule: str,
    personal_cert: bytes,
    ours: Counterparty,
    tmp_path: Path,
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_our_power_of_attorney(personal_cert, ours, _configured(tmp_path, ours, **overrides))
    assert caught.value.field == "signing.power_of_attorney.file"
    assert caught.value.rule.startswith(rule)


def test_an_unreadable_mchd_file_is_refused(
    personal_cert: bytes, ours: Counterparty, tmp_path: Path
) -> None:
    configured = _configured(tmp_path, ours)
    assert configured.file is not None
    configured.file.write_bytes(b"not xml")
    with pytest.raises(ValidationError) as caught:
        check_our_power_of_attorney(personal_cert, ours, configured)
    assert caught.value.field == "signing.power_of_attorney.file"
    assert "not a valid МЧД" in caught.value.rule
