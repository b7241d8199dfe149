"""Signatures: detached CAdES-BES signing and verification.

Signers (all produce a DER CMS SignedData without encapsulated content):

* :class:`SoftwareSigner` — RSA or ECDSA key in memory (PKCS#12 or PEM);
* :class:`GostSigner` — GOST R 34.10-2012 256/512 with Streebog, pure Python
  (the ``gost`` extra);
* :class:`ExternalCommandSigner` — a configured command (such as a CryptoPro
  tool) that holds the qualified key.

:class:`Verifier` checks a signature against a document and returns a
:class:`Verdict`; :class:`SignatureChecker` plugs it into the workflow. An
employee's signature is accepted with a valid МЧД (:mod:`.authority`); our own
МЧД is configured and checked before sending by :mod:`.ours`.
"""

from __future__ import annotations

from .authority import (
    NO_POWER_OF_ATTORNEY,
    Authority,
    OperatorPoaStatus,
    PowersPolicy,
    check_authority,
    diadoc_status,
)
from .base import DigestSigner, Signer
from .checker import SignatureChecker
from .config import signer_from_settings
from .external import ExternalCommandSigner
from .gost import GostPrivateKey, GostPublicKey, GostSigner, gost_test_identity
from .identity import SignerIdentity, match_counterparty
from .ours import (
    OurOrganisation,
    OurPowerOfAttorney,
    check_our_power_of_attorney,
    our_authority,
    our_organisation,
    our_power_of_attorney,
)
from .personal import (
    EMPLOYEE_CASES,
    EmployeeSigning,
    employee_signing,
    make_personal_identity,
    personal_signer,
    personal_subject,
)
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
from .verdict import Verdict, VerdictStatus
from .verify import Verifier, parse_at, parse_signature

__all__ = [
    "EMPLOYEE_CASES",
    "NO_POWER_OF_ATTORNEY",
    "OID_INN",
    "OID_INN_LE",
    "OID_OGRN",
    "OID_OGRNIP",
    "OID_SNILS",
    "Authority",
    "DigestSigner",
    "EmployeeSigning",
    "ExternalCommandSigner",
    "GostPrivateKey",
    "GostPublicKey",
    "GostSigner",
    "OperatorPoaStatus",
    "OurOrganisation",
    "OurPowerOfAttorney",
    "PowersPolicy",
    "SignatureChecker",
    "Signer",
    "SignerIdentity",
    "SoftwareSigner",
    "TrustStore",
    "Verdict",
    "VerdictStatus",
    "Verifier",
    "check_authority",
    "check_our_power_of_attorney",
    "diadoc_status",
    "employee_signing",
    "gost_test_identity",
    "make_personal_identity",
    "make_test_identity",
    "match_counterparty",
    "our_authority",
    "our_organisation",
    "our_power_of_attorney",
    "parse_at",
    "parse_signature",
    "personal_signer",
    "personal_subject",
    "signer_from_settings",
    "subject_name",
    "throwaway_signer",
]
