"""GOST R 34.10-2012 byte order, proven by published vectors and an independent check.

Sources of the data below (quoted as facts):

* TK26 "Использование алгоритмов ГОСТ 28147-89, ГОСТ Р 34.11 и ГОСТ Р 34.10 в
  криптографических сообщениях формата CMS" (TK26CMS), SignedData and
  DigestedData examples, as carried in pygost's test suite (pygost/test_cms.py):
  "Test message" signed with the private keys below, 256 bit on
  CryptoPro-XchA, 512 bit on TC26 512 paramSetB; the signatureAlgorithm field
  carries the *key* OID, as CryptoPro does.
* GOST R 34.11-2012, example 1: the 63-byte message "012345678901234567890123
  456789012345678901234567890123456789012" and its 256-bit digest (as printed
  by common implementations, e.g. OpenSSL's GOST engine).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, core, x509
from gostcrypto.gostsignature import CURVES_R_1323565_1_024_2019 as CURVE_TABLE

from edi_bridge.signing import GostPrivateKey, GostSigner, VerdictStatus, Verifier, subject_name
from edi_bridge.signing import algorithms as alg
from edi_bridge.signing.gost import CURVES, as_asn1_name, make_gost_certificate

SIGNED_256 = base64.b64decode(
    """
MIIBBQYJKoZIhvcNAQcCoIH3MIH0AgEBMQ4wDAYIKoUDBwEBAgIFADAbBgkqhkiG
9w0BBwGgDgQMVGVzdCBtZXNzYWdlMYHBMIG+AgEBMFswVjEpMCcGCSqGSIb3DQEJ
ARYaR29zdFIzNDEwLTIwMTJAZXhhbXBsZS5jb20xKTAnBgNVBAMTIEdvc3RSMzQx
MC0yMDEyICgyNTYgYml0KSBleGFtcGxlAgEBMAwGCCqFAwcBAQICBQAwDAYIKoUD
BwEBAQEFAARAkptb2ekZbC94FaGDQeP70ExvTkXtOY9zgz3cCco/hxPhXUVo3eCx
VNwDQ8enFItJZ8DEX4blZ8QtziNCMl5HbA=="""
)
PRIVATE_256 = 0xBFCF1D623E5CDD3032A7C6EABB4A923C46E43D640FFEAAF2C3ED39A8FA399924
CURVE_XCHA = "1.2.643.2.2.36.0"

SIGNED_512 = base64.b64decode(
    """
MIIBSQYJKoZIhvcNAQcCoIIBOjCCATYCAQExDjAMBggqhQMHAQECAwUAMBsGCSqG
SIb3DQEHAaAOBAxUZXN0IG1lc3NhZ2UxggECMIH/AgEBMFswVjEpMCcGCSqGSIb3
DQEJARYaR29zdFIzNDEwLTIwMTJAZXhhbXBsZS5jb20xKTAnBgNVBAMTIEdvc3RS
MzQxMC0yMDEyICg1MTIgYml0KSBleGFtcGxlAgEBMAwGCCqFAwcBAQIDBQAwDAYI
KoUDBwEBAQIFAASBgFyVohNhMHUi/+RAF3Gh/cC7why6v+4jPWVlx1TYlXtV8Hje
hI2Y+rP52/LO6EUHG/XcwCBbUxmRWsbUSRRBAexmaafkSdvv2FFwC8kHOcti+UPX
PS+KRYxT8vhcsBLWWxDkc1McI7aF09hqtED36mQOfACzeJjEoUjALpmJob1V"""
)
PRIVATE_512 = int(
    "3FC01CDCD4EC5F972EB482774C41E66DB7F380528DFE9E67992BA05AEE462435"
    "757530E641077CE587B976C8EEB48C48FD33FD175F0C7DE6A44E014E6BCB074B",
    16,
)
CURVE_512B = "1.2.643.7.1.2.1.2.2"

DIGESTED_256 = base64.b64decode(
    """
MIGdBgkqhkiG9w0BBwWggY8wgYwCAQAwDAYIKoUDBwEBAgIFADBXBgkqhkiG9w0B
BwGgSgRI0eUg4uXy8OgsINHy8Ojh7uboIOLt8/boLCDi5f7y+iDxIOzu8P8g8fLw
5evg7Ogg7eAg9fDg4fD7/yDv6/rq+yDI4+7w5eL7BCCd0v5OkECeXah/U5dtdAWw
wMrGKPxmmnQdUAY8VX6PUA=="""
)
DIGESTED_512 = base64.b64decode(
    """
MIG0BgkqhkiG9w0BBwWggaYwgaMCAQAwDAYIKoUDBwEBAgMFADBOBgkqhkiG9w0B
BwGgQQQ/MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAx
MjM0NTY3ODkwMTIzNDU2Nzg5MDEyBEAbVNAaSvW51cw9htaNKFRisZq8JHUiLzXA
hRIr5Lof+gCtMPh2ezqCOExldPAkwxHipIEzKwjvf0F5eJHBZG9I"""
)


@pytest.mark.parametrize(
    ("raw", "oid"), [(DIGESTED_256, alg.STREEBOG256), (DIGESTED_512, alg.STREEBOG512)]
)
def test_streebog_matches_published_cms_digests(raw: bytes, oid: str) -> None:
    # DigestedData stores the digest in CMS byte order: ours must be identical.
    digested = cms.ContentInfo.load(raw)["content"]
    content = digested["encap_content_info"]["content"].native
    assert digested["digest_algorithm"]["algorithm"].dotted == oid
    assert alg.digest(oid, content) == digested["digest"].native


def test_streebog_256_standard_example() -> None:
    message = b"012345678901234567890123456789012345678901234567890123456789012"
    expected = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
    # The digest bytes as implementations print them for this message (the
    # standard itself writes message and digest as numbers, bytes reversed).
    assert alg.digest(alg.STREEBOG256, message).hex() == expected
    assert alg.digest(alg.STREEBOG256, message + b"3").hex() != expected


def _certificate_for_vector(raw: bytes, bits: int, private: int, curve: str) -> x509.Certificate:
    """A certificate with the vector's issuer, serial and public key."""
    sid = cms.ContentInfo.load(raw)["content"]["signer_infos"][0]["sid"].chosen
    key = GostPrivateKey(bits, private, curve)
    ca = GostPrivateKey.generate(256)
    return make_gost_certificate(
        sid["issuer"], key.public_key, issuer=sid["issuer"], issuer_key=ca,
        serial=sid["serial_number"].native,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "bits", "private", "curve"),
    [(SIGNED_256, 256, PRIVATE_256, CURVE_XCHA), (SIGNED_512, 512, PRIVATE_512, CURVE_512B)],
)
def test_published_gost_cms_vector_verifies(
    raw: bytes, bits: int, private: int, curve: str
) -> None:
    cert = _certificate_for_vector(raw, bits, private, curve)
    verifier = Verifier(allow_unchecked_chain=True)
    verdict = verifier.verify(raw, None, extra_certificates=[cert])
    assert verdict.status is VerdictStatus.VALID_CHAIN_UNCHECKED, verdict.reason
    assert verdict.ok
    assert "no signed attributes: not CAdES-BES" in verdict.warnings
    # The same vector against another content, or with one bit of r or s flipped, fails.
    assert not verifier.verify(raw, b"Test messagE", extra_certificates=[cert]).ok
    value = bytes(cms.ContentInfo.load(raw)["content"]["signer_infos"][0]["signature"].native)
    for at in (1, len(value) - 2):
        bad = bytearray(value)
        bad[at] ^= 0x80
        tampered = raw.replace(value, bytes(bad))
        assert not verifier.verify(tampered, None, extra_certificates=[cert]).ok


# -- independent check: textbook GOST R 34.10-2012 verification ---------------


def _independent_verify(cert_der: bytes, signature: bytes, signed: bytes, curve: str) -> bool:
    """Verification written from the standard's formulas, sharing no code with the library
    beyond the curve constants and Streebog (proven above by published digests)."""
    params = CURVE_TABLE[CURVES[curve]]
    p, q = params["p"], params["q"]
    a, b = params.get("a", 0), params.get("b", 0)
    gx, gy = params.get("x", 0), params.get("y", 0)
    assert (gy * gy - gx**3 - a * gx - b) % p == 0, "base point off the curve"
    n = len(signature) // 2
    spki = x509.Certificate.load(cert_der)["tbs_certificate"]["subject_public_key_info"]
    bits = core.load(spki.dump())[1].contents[1:]  # generic parse; skip unused-bits byte
    point = core.OctetString.load(bits).native
    qx, qy = int.from_bytes(point[:n], "little"), int.from_bytes(point[n:], "little")

    def add(p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        if p1[0] == p2[0] and (p1[1] + p2[1]) % p == 0:
            return None
        if p1 == p2:
            lam = (3 * p1[0] * p1[0] + a) * pow(2 * p1[1], -1, p)
        else:
            lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, p)
        x3 = (lam * lam - p1[0] - p2[0]) % p
        return x3, (lam * (p1[0] - x3) - p1[1]) % p

    def mul(k: int, pt: tuple[int, int]) -> tuple[int, int] | None:
        acc: tuple[int, int] | None = None
        addend: tuple[int, int] | None = pt
        while k:
            if k & 1:
                acc = add(acc, addend)
            addend = add(addend, addend)
            k >>= 1
        return acc

    s, r = int.from_bytes(signature[:n], "big"), int.from_bytes(signature[n:], "big")
    if not (0 < r < q and 0 < s < q):
        return False
    oid = alg.STREEBOG256 if n == 32 else alg.STREEBOG512
    e = int.from_bytes(alg.digest(oid, signed), "little") % q or 1
    v = pow(e, -1, q)
    c = add(mul(s * v % q, (gx, gy)), mul((-r * v) % q, (qx, qy)))
    return c is not None and c[0] % q == r


@pytest.mark.parametrize(("bits", "curve"), [(256, "1.2.643.7.1.2.1.1.2"), (512, CURVE_512B)])
def test_our_gost_signatures_verify_independently(bits: int, curve: str) -> None:
    key = GostPrivateKey.generate(bits, curve)
    name = subject_name(common_name="Проверка", inn_le="7707083893")
    cert = make_gost_certificate(name, key.public_key, issuer_key=key)
    raw = GostSigner(key, cert).sign(b"contract body")
    si = cms.ContentInfo.load(raw)["content"]["signer_infos"][0]
    attrs = si["signed_attrs"]
    contents = bytes(attrs.contents)
    signed = b"\x31" + _der_len(len(contents)) + contents
    value = bytes(si["signature"].native)
    assert _independent_verify(bytes(cert.dump()), value, signed, curve)
    assert not _independent_verify(bytes(cert.dump()), value, signed + b"\x00", curve)
    # The certificate's own signature (over the TBS) follows the same rules.
    tbs = cert["tbs_certificate"].dump()
    assert _independent_verify(bytes(cert.dump()), cert["signature_value"].native, tbs, curve)
    assert as_asn1_name(name) == cert.subject


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


OPENSSL = shutil.which("openssl") or "openssl"


def _openssl_has_gost() -> bool:
    if shutil.which("openssl") is None:
        return False
    probe = subprocess.run(
        [OPENSSL, "engine", "gost"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _openssl_has_gost(), reason="OpenSSL GOST engine not installed")
@pytest.mark.parametrize("bits", [256, 512])
def test_openssl_gost_engine_accepts_our_signatures(tmp_path: Path, bits: int) -> None:
    key = GostPrivateKey.generate(bits)
    cert = make_gost_certificate(
        subject_name(common_name="Проверка"), key.public_key, issuer_key=key
    )
    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"contract body\n")
    sig = tmp_path / "doc.sig"
    sig.write_bytes(GostSigner(key, cert).sign(doc.read_bytes()))
    run = subprocess.run(
        [OPENSSL, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
         "-in", str(sig), "-content", str(doc), "-noverify", "-out", str(tmp_path / "out")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    doc.write_bytes(b"contract body!\n")
    run = subprocess.run(
        [OPENSSL, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
         "-in", str(sig), "-content", str(doc), "-noverify", "-out", str(tmp_path / "out")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode != 0
