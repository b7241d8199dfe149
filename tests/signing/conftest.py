"""Session-wide throwaway PKI (GOST keys are slow to make in pure Python)."""

from __future__ import annotations

import pytest

from edi_bridge.models import Counterparty
from edi_bridge.signing import Signer
from edi_bridge.testing import sample_counterparty

from .pki import CA, DOCUMENT, KINDS, issue_signer, make_ca


@pytest.fixture(scope="session")
def counterparty() -> Counterparty:
    return sample_counterparty("signing")


@pytest.fixture(scope="session")
def cas() -> dict[str, CA]:
    # RSA and ECDSA leaves hang off an RSA CA; GOST leaves off a GOST CA of their size.
    return {kind: make_ca(kind) for kind in ("rsa", "gost256", "gost512")}


@pytest.fixture(scope="session")
def signers(cas: dict[str, CA], counterparty: Counterparty) -> dict[str, Signer]:
    issuer = {"rsa": "rsa", "ec": "rsa", "gost256": "gost256", "gost512": "gost512"}
    return {k: issue_signer(cas[issuer[k]], k, counterparty) for k in KINDS}


@pytest.fixture(scope="session")
def signed(signers: dict[str, Signer]) -> dict[str, bytes]:
    """One signature per kind over DOCUMENT."""
    return {k: s.sign(DOCUMENT) for k, s in signers.items()}
