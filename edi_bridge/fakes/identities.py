"""Throwaway signing identities for the counterparties the fakes play.

The certificate carries the counterparty's INN, OGRN (or OGRNIP), name and
signatory, the way a qualified certificate would, so that signature checks
against the requisites pass on the fakes. Keys are made once per process and
counterparty.
"""

from __future__ import annotations

import functools

from ..signing import SoftwareSigner, make_test_identity, subject_name


@functools.lru_cache(maxsize=256)
def counterparty_signer(
    inn: str,
    ogrn: str | None = None,
    organisation: str | None = None,
    full_name: str | None = None,
    position: str | None = None,
) -> SoftwareSigner:
    parts = (full_name or "").split()
    surname = parts[0] if parts else None
    given = " ".join(parts[1:]) or None
    is_org = len(inn) == 10
    key, cert = make_test_identity(
        subject_name(
            organisation=organisation,
            common_name=organisation or full_name or inn,
            surname=surname,
            given_name=given,
            title=position,
            inn_le=inn if is_org else None,
            inn=None if is_org else inn,
            ogrn=ogrn if is_org else None,
            ogrnip=None if is_org else ogrn,
        )
    )
    return SoftwareSigner(key, cert)


__all__ = ["counterparty_signer"]
