"""Verifying a detached CAdES-BES signature against a document.

:class:`Verifier` never raises on bad signatures; it returns a
:class:`~edi_bridge.signing.verdict.Verdict` (statuses explained there).
Parsing is :mod:`.parse`, the mathematics of one signer :mod:`.mathcheck`, and
who may sign for a counterparty (certificate or МЧД) :mod:`.authority`.

Certificates are checked at a chosen time: ``now`` (the default: valid now and
when signed), ``signing-time`` (archives: valid when signed, as the signature's
own signingTime says) or a given moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from asn1crypto import x509

from ..errors import SignatureError
from ..models import Counterparty
from .algorithms import DIGEST_NAMES, SIGNATURE_ALGORITHMS, digest, new_hash
from .authority import Authority, OperatorPoaStatus, PowersPolicy, check_authority
from .identity import SignerIdentity, identity_from_certificate
from .mathcheck import Invalid, check_signer_math, find_certificate
from .parse import (
    ParsedSignature,
    SignerInfoData,
    decode_signature_bytes,
    parse_signature,
)
from .trust import ChainError, TrustStore, check_validity
from .verdict import Verdict, VerdictStatus

if TYPE_CHECKING:
    from ..mchd.model import PowerOfAttorney

Content = bytes | Path | Iterable[bytes]
At = Literal["now", "signing-time"] | dt.datetime
AT_CHOICES = ("now", "signing-time")


def parse_at(value: str) -> At:
    """``now``, ``signing-time``, or an ISO date (00:00 UTC) or date-time (UTC if naive)."""
    text = value.strip().lower()
    if text in AT_CHOICES:
        return text  # type: ignore[return-value]
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not now, signing-time, YYYY-MM-DD or an ISO date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _chunks(content: Content) -> Iterable[bytes]:
    if isinstance(content, bytes):
        yield content
    elif isinstance(content, Path):
        with content.open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")
    else:
        yield from content


class Verifier:
    """Checks signatures; configure once, call :meth:`verify` per signature.

    ``trust_store``: certificates to build chains to (a :class:`TrustStore`, or
    a path to a directory or PEM bundle). Without it chains are not checked and
    the best outcome is ``valid_chain_unchecked``, which is ``ok`` only with
    ``allow_unchecked_chain=True``. ``at``: ``"now"`` (default), ``"signing-time"``
    or a datetime. ``powers_policy``: the powers an МЧД must grant per document kind.
    """

    def __init__(
        self,
        trust_store: TrustStore | str | Path | None = None,
        *,
        allow_unchecked_chain: bool = False,
        at: At | None = None,
        powers_policy: PowersPolicy | None = None,
    ) -> None:
        if isinstance(trust_store, (str, Path)):
            trust_store = TrustStore.load(trust_store)
        self.trust_store = trust_store
        self.allow_unchecked_chain = allow_unchecked_chain
        self.at: At = at or "now"
        self.powers_policy = powers_policy or PowersPolicy()

    def __repr__(self) -> str:
        return f"<Verifier trust_store={self.trust_store!r} at={self._at_label(self.at)}>"

    def verify(
        self,
        signature: bytes,
        content: Content | None = None,
        *,
        counterparty: Counterparty | None = None,
        extra_certificates: Sequence[x509.Certificate] = (),
        powers_of_attorney: Sequence[PowerOfAttorney | bytes] = (),
        document_kind: str | None = None,
        operator_status: OperatorPoaStatus | None = None,
        at: At | None = None,
    ) -> Verdict:
        """Verify ``signature`` over ``content`` (bytes, a path or chunks).

        With ``counterparty``, the signer must be its head (certificate naming the
        organisation) or a representative under one of ``powers_of_attorney``
        (read models or EMCHD_1 bytes); ``operator_status`` is the operator's own
        verdict on the МЧД, and a negative one wins.
        """
        when = at or self.at
        label = self._at_label(when)
        try:
            parsed = parse_signature(signature)
        except SignatureError as exc:
            return _invalid(str(exc), checked_at=label)
        try:
            verdict = self._verify(parsed, content, extra_certificates, when)
        except Invalid as exc:
            signer = identity_from_certificate(exc.cert) if exc.cert is not None else None
            return _invalid(exc.reason, chain=exc.chain, signer=signer, checked_at=label)
        except SignatureError as exc:
            return _invalid(str(exc), checked_at=label)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            # A part asn1crypto parses on first use turned out malformed.
            return _invalid(f"malformed CMS: {type(exc).__name__}", checked_at=label)
        if counterparty is None and not powers_of_attorney:
            return verdict
        return self._with_authority(
            verdict,
            parsed,
            counterparty,
            powers_of_attorney,
            document_kind,
            operator_status,
            when,
        )

    @staticmethod
    def _at_label(at: At) -> str:
        return at if isinstance(at, str) else at.isoformat()

    def _verify(
        self,
        parsed: ParsedSignature,
        content: Content | None,
        extra_certificates: Sequence[x509.Certificate],
        at: At,
    ) -> Verdict:
        if content is None:
            if parsed.content is None:
                raise Invalid("detached signature: the document is needed to check it")
            content = parsed.content
        digests = self._content_digests(parsed, content)
        # The signer's certificate may come from the signature, the caller or the trust store.
        store = self.trust_store.certificates if self.trust_store is not None else []
        pool = [*parsed.certificates, *extra_certificates, *store]
        identities: list[SignerIdentity] = []
        warnings: list[str] = []
        chain = "not_checked"
        first = parsed.signers[0]
        for n, signer in enumerate(parsed.signers):
            label = f"signer {n + 1}: " if len(parsed.signers) > 1 else ""
            try:
                cert, chain = self._check_signer(signer, digests, pool, at, warnings)
            except Invalid as exc:
                raise Invalid(label + exc.reason, cert=exc.cert, chain=exc.chain) from None
            identities.append(identity_from_certificate(cert))
        status = VerdictStatus.VALID if chain == "checked" else VerdictStatus.VALID_CHAIN_UNCHECKED
        return Verdict(
            status=status,
            ok=self._ok(status),
            reason=None if status is VerdictStatus.VALID else "certificate chain not checked",
            chain=chain,
            signer=identities[0],
            signers=tuple(identities),
            digest_algorithm=DIGEST_NAMES.get(first.digest_oid, first.digest_oid),
            signature_algorithm=_algorithm_name(first.signature_oid),
            signing_time=first.signing_time.isoformat() if first.signing_time else None,
            warnings=tuple(dict.fromkeys(warnings)),
            checked_at=self._at_label(at),
        )

    def _ok(self, status: VerdictStatus) -> bool:
        return status is VerdictStatus.VALID or (
            status is VerdictStatus.VALID_CHAIN_UNCHECKED and self.allow_unchecked_chain
        )

    def _with_authority(
        self,
        verdict: Verdict,
        parsed: ParsedSignature,
        counterparty: Counterparty | None,
        powers_of_attorney: Sequence[PowerOfAttorney | bytes],
        document_kind: str | None,
        operator_status: OperatorPoaStatus | None,
        at: At,
    ) -> Verdict:
        poas, unreadable = _read_all(powers_of_attorney)
        # The МЧД must cover the moment of signing; without a signingTime, the checking time.
        signed = parsed.signers[0].signing_time
        moment = signed or (at if isinstance(at, dt.datetime) else None)
        results: list[Authority] = [
            check_authority(
                identity,
                counterparty,
                powers_of_attorney=poas,
                signing_time=moment or dt.datetime.now(dt.UTC),
                document_kind=document_kind,
                policy=self.powers_policy,
                operator_status=operator_status,
            )
            for identity in verdict.signers
        ]
        result = next((r for r in results if r.ok), results[0])
        warnings = [*verdict.warnings, *result.warnings]
        if unreadable and not poas and result.kind != "certificate":
            # The only МЧД given could not be read: that, not its absence, is the reason.
            result = Authority("mchd_invalid", unreadable[0], "power_of_attorney")
        elif unreadable:
            warnings.extend(unreadable)
        status = verdict.status if result.ok else VerdictStatus(result.status)
        return dataclasses.replace(
            verdict,
            status=status,
            ok=self._ok(status),
            reason=verdict.reason if result.ok else result.reason,
            warnings=tuple(dict.fromkeys(warnings)),
            authority=result.to_dict() or None,
        )

    @staticmethod
    def _content_digests(parsed: ParsedSignature, content: Content) -> dict[str, bytes]:
        oids = list(dict.fromkeys(s.digest_oid for s in parsed.signers))
        try:
            hashers = {oid: new_hash(oid) for oid in oids}
        except SignatureError as exc:
            raise Invalid(str(exc)) from None
        for chunk in _chunks(content):
            for h in hashers.values():
                h.update(chunk)
        digests = {oid: h.digest() for oid, h in hashers.items()}
        if parsed.content is not None and content is not parsed.content:
            own = {oid: digest(oid, parsed.content) for oid in oids}
            if own != digests:
                raise Invalid("the encapsulated content is not the given document")
        return digests

    def _check_signer(
        self,
        signer: SignerInfoData,
        digests: dict[str, bytes],
        pool: Sequence[x509.Certificate],
        at: At,
        warnings: list[str],
    ) -> tuple[x509.Certificate, str]:
        """The signer's certificate, and ``checked`` or ``not_checked`` for its chain."""
        cert = find_certificate(signer, pool)
        if cert is None:
            raise Invalid(
                "the signer's certificate is not in the signature, the extra certificates "
                "or the trust store"
            )
        check_signer_math(signer, cert, digests, warnings)
        moments = self._moments(at, signer.signing_time, warnings)
        try:
            for moment in moments:
                check_validity(cert, moment)
        except ChainError as exc:
            raise Invalid(str(exc), cert=cert) from None
        if self.trust_store is None:
            return cert, "not_checked"
        try:
            self.trust_store.validate(cert, pool, at=moments[0])
        except ChainError as exc:
            raise Invalid(f"certificate chain: {exc}", cert=cert, chain="failed") from None
        return cert, "checked"

    @staticmethod
    def _moments(at: At, signed: dt.datetime | None, warnings: list[str]) -> list[dt.datetime]:
        """The moments the certificate must be valid at; the first also checks the chain."""
        if at == "signing-time":
            if signed is not None:
                return [signed]
            warnings.append("the signature has no signing time: checked at the current time")
            return [dt.datetime.now(dt.UTC)]
        first = dt.datetime.now(dt.UTC) if at == "now" else at
        return [first] if signed is None else [first, signed]


def _read_all(items: Sequence[PowerOfAttorney | bytes]) -> tuple[list[PowerOfAttorney], list[str]]:
    """Read МЧД given as bytes (lazily: the reader loads lxml); keep the refusals."""
    poas: list[PowerOfAttorney] = []
    refused: list[str] = []
    for item in items:
        if not isinstance(item, bytes):
            poas.append(item)
            continue
        from ..mchd.model import InvalidPowerOfAttorney
        from ..mchd.reader import read_power_of_attorney

        try:
            poas.append(read_power_of_attorney(item))
        except InvalidPowerOfAttorney as exc:
            refused.append(f"the МЧД cannot be read: {exc}")
    return poas, refused


def _algorithm_name(oid: str) -> str:
    family, _ = SIGNATURE_ALGORITHMS.get(oid, (oid, None))
    return {"gost256": "gost3410-2012-256", "gost512": "gost3410-2012-512"}.get(family, family)


def _invalid(
    reason: str,
    *,
    chain: str = "not_checked",
    signer: SignerIdentity | None = None,
    checked_at: str | None = None,
) -> Verdict:
    return Verdict(
        status=VerdictStatus.INVALID,
        ok=False,
        reason=reason,
        chain=chain,
        signer=signer,
        signers=(signer,) if signer else (),
        checked_at=checked_at,
    )


__all__ = [
    "AT_CHOICES",
    "At",
    "Content",
    "ParsedSignature",
    "SignerInfoData",
    "Verdict",
    "VerdictStatus",
    "Verifier",
    "decode_signature_bytes",
    "parse_at",
    "parse_signature",
]
