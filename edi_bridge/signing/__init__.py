"""Signatures: detached CAdES-BES signing and verification.

Signers (all produce a DER CMS SignedData without encapsulated content):

* :class:`SoftwareSigner` — RSA or ECDSA key in memory (PKCS#12 or PEM);
* :class:`GostSigner` — GOST R 34.10-2012 256/512 with Streebog, pure Python
  (the ``gost`` extra);
* :class:`ExternalCommandSigner` — a configured command (such as a CryptoPro
  tool) that holds the qualified key.

:class:`Verifier` checks a signature against a document and returns a
:class:`Verdict`; :class:`SignatureChecker` plugs it into the workflow.
"""

from __future__ import annotations

from .base import DigestSigner, Signer
from .checker import SignatureChecker
from .config import signer_from_settings
from .external import ExternalCommandSigner
from .gost import GostPrivateKey, GostPublicKey, GostSigner, gost_test_identity
from .identity import SignerIdentity, match_counterparty
from .software import (
    OID_INN,
    OID_INN_LE,
    OID_OGRN,
    OID_OGRNIP,
    OID_SNILS,
    SoftwareSigner,
    make_test_identity,
    subject_name,
    throwaway_signer,
)
from .trust import TrustStore
from .verify import Verdict, VerdictStatus, Verifier, parse_signature

__all__ = [
    "OID_INN",
    "OID_INN_LE",
    "OID_OGRN",
    "OID_OGRNIP",
    "OID_SNILS",
    "DigestSigner",
    "ExternalCommandSigner",
    "GostPrivateKey",
    "GostPublicKey",
    "GostSigner",
    "SignatureChecker",
    "Signer",
    "SignerIdentity",
    "SoftwareSigner",
    "TrustStore",
    "Verdict",
    "VerdictStatus",
    "Verifier",
    "gost_test_identity",
    "make_test_identity",
    "match_counterparty",
    "parse_signature",
    "signer_from_settings",
    "subject_name",
    "throwaway_signer",
]
