"""The signature assembled around cached signer parts is byte for byte what
asn1crypto builds from scratch (the reference below), for every key kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from asn1crypto import cms, core, x509

from edi_bridge.signing import Signer, base
from edi_bridge.signing import cms as assembly
from edi_bridge.signing.verify import Verifier

from .pki import DOCUMENT, KINDS


def reference_signed_data(
    *,
    content_digest: bytes,
    cert_der: bytes,
    digest_oid: str,
    cert_hash: bytes,
    signature_oid: str,
    sign: Callable[[bytes], bytes],
    signature_parameters: core.Asn1Value | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """The whole ContentInfo built by asn1crypto, nothing cached."""
    cert = x509.Certificate.load(cert_der)
    attrs = assembly.signed_attributes(content_digest, cert, digest_oid, cert_hash, signing_time)
    sig_alg: dict[str, object] = {"algorithm": signature_oid}
    if signature_parameters is not None:
        sig_alg["parameters"] = signature_parameters
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": digest_oid},
            "signed_attrs": attrs,
            "signature_algorithm": sig_alg,
            "signature": sign(attrs.dump()),
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_oid}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC),
        dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    ],
)
def test_assembled_signature_equals_the_asn1crypto_reference(
    kind: str, when: dt.datetime, signers: dict[str, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[bytes, bytes]] = []

    def both(**kw: Any) -> bytes:
        # The same attributes must get the same signature value (ECDSA is randomized).
        memo: dict[bytes, bytes] = {}
        sign = kw.pop("sign")

        def once(der: bytes) -> bytes:
            return memo.setdefault(der, sign(der))

        kw["signing_time"] = when
        ours = assembly.detached_signed_data(sign=once, **kw)
        built.append((ours, reference_signed_data(sign=once, **kw)))
        return ours

    monkeypatch.setattr(base, "detached_signed_data", both)
    signers[kind].sign(DOCUMENT)
    signers[kind].sign(DOCUMENT + b"!")  # a second signature from the cached parts
    assert len(built) == 2
    assert [ours for ours, _ in built] == [ref for _, ref in built]


@pytest.mark.parametrize("kind", KINDS)
def test_assembled_signatures_verify(kind: str, signers: dict[str, Signer]) -> None:
    for content in (DOCUMENT, DOCUMENT + b"!"):
        verdict = Verifier(allow_unchecked_chain=True).verify(signers[kind].sign(content), content)
        assert verdict.ok, verdict.reason
