"""Malformed CMS input raises only the library's own error, and never crashes verify."""

from __future__ import annotations

import contextlib

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_bridge.errors import SignatureError
from edi_bridge.signing import VerdictStatus, Verifier, parse_signature, throwaway_signer

from .pki import DOCUMENT

VALID = throwaway_signer().sign(DOCUMENT)
UNCHECKED = Verifier(allow_unchecked_chain=True)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_signature_error(data: bytes) -> None:
    with contextlib.suppress(SignatureError):
        parse_signature(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=4)
)
def test_mutated_cms_is_never_valid_and_never_crashes(edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for at, value in edits:
        data[at] = value
    verdict = UNCHECKED.verify(bytes(data), DOCUMENT)
    touched = {at for at, _ in edits if data[at] != VALID[at]}
    if touched & PROTECTED:
        # Any change to the signed attributes or the signature value is fatal.
        assert verdict.status is VerdictStatus.INVALID
    if not touched:
        assert verdict.ok


def _protected_offsets() -> set[int]:
    si = cms.ContentInfo.load(VALID)["content"]["signer_infos"][0]
    offsets: set[int] = set()
    for part in (bytes(si["signed_attrs"].contents), bytes(si["signature"].native)):
        start = VALID.index(part)
        offsets.update(range(start, start + len(part)))
    return offsets


PROTECTED = _protected_offsets()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(VALID) - 1))
def test_truncated_cms_raises_signature_error(cut: int) -> None:
    with pytest.raises(SignatureError):
        parse_signature(VALID[:cut])


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_trailing_garbage_is_refused(tail: bytes) -> None:
    with pytest.raises(SignatureError):
        parse_signature(VALID + tail)


def _copies(count: int, *, certificates: bool = False) -> bytes:
    info = cms.ContentInfo.load(VALID)
    signed = info["content"]
    if certificates:
        cert = signed["certificates"][0]
        signed["certificates"] = cms.CertificateSet([cert] * count)
    else:
        signer = signed["signer_infos"][0]
        signed["signer_infos"] = cms.SignerInfos([signer] * count)
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(True))


def test_a_cms_with_many_copies_of_one_signer_is_refused_before_any_verification() -> None:
    with pytest.raises(SignatureError, match="more than 4 signers"):
        parse_signature(_copies(6))
    verdict = UNCHECKED.verify(_copies(6), DOCUMENT)
    assert verdict.status is VerdictStatus.INVALID


def test_a_cms_carrying_many_certificates_is_refused() -> None:
    with pytest.raises(SignatureError, match="more than 16 certificates"):
        parse_signature(_copies(17, certificates=True))


def test_a_cms_with_a_few_signers_is_still_read() -> None:
    assert len(parse_signature(_copies(2)).signers) == 2
