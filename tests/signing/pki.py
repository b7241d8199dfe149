"""Throwaway PKI for the signature tests: CAs and signers for RSA, ECDSA and GOST."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import x509 as a509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from edi_bridge.models import Counterparty
from edi_bridge.signing import (
    GostPrivateKey,
    GostSigner,
    Signer,
    SoftwareSigner,
    gost_test_identity,
    make_test_identity,
    subject_name,
)
from edi_bridge.signing.software import PrivateKey

KINDS = ["rsa", "ec", "gost256", "gost512"]


@dataclass
class CA:
    name: x509.Name
    kind: str
    key: PrivateKey | GostPrivateKey
    der: bytes

    @property
    def asn1(self) -> a509.Certificate:
        return a509.Certificate.load(self.der)

    def pem(self) -> bytes:
        return x509.load_der_x509_certificate(self.der).public_bytes(serialization.Encoding.PEM)


def make_ca(kind: str, label: str = "Тестовый УЦ") -> CA:
    name = subject_name(organisation=label, common_name=f"{label} {kind}", inn_le="7707083893")
    if kind.startswith("gost"):
        gkey, gcert = gost_test_identity(name, bits=int(kind[4:]), ca=True, days=3650)
        return CA(name, kind, gkey, bytes(gcert.dump()))
    key, cert = make_test_identity(name, key_type=kind, ca=True, days=3650)
    return CA(name, kind, key, cert.public_bytes(serialization.Encoding.DER))


def issue_signer(ca: CA, kind: str, counterparty: Counterparty, **subject: str | None) -> Signer:
    """A signer with a certificate issued by ``ca`` for the counterparty's requisites."""
    surname, _, given = counterparty.signatory.full_name.partition(" ")
    fields: dict[str, str | None] = {
        "organisation": counterparty.name,
        "common_name": counterparty.name,
        "surname": surname,
        "given_name": given,
        "title": counterparty.signatory.position,
        "inn_le": counterparty.inn if counterparty.is_organisation else None,
        "inn": None if counterparty.is_organisation else counterparty.inn,
        "ogrn": counterparty.ogrn if counterparty.is_organisation else None,
        "ogrnip": None if counterparty.is_organisation else counterparty.ogrn,
        "snils": "11223344595",
    }
    fields.update(subject)
    name = subject_name(**fields)  # type: ignore[arg-type]
    if kind.startswith("gost"):
        assert isinstance(ca.key, GostPrivateKey)
        gkey, gcert = gost_test_identity(
            name, bits=int(kind[4:]), issuer=ca.name, issuer_key=ca.key
        )
        return GostSigner(gkey, gcert)
    assert not isinstance(ca.key, GostPrivateKey)
    key, cert = make_test_identity(name, key_type=kind, issuer=ca.name, issuer_key=ca.key)
    return SoftwareSigner(key, cert)


DOCUMENT = "Договор поставки № 1\n".encode() * 50
