"""Our signer, built once from the settings, and the guards that go with it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping

from .. import config
from ..errors import ConfigurationError
from ..signing import (
    OurPowerOfAttorney,
    Signer,
    our_authority,
    signer_from_settings,
    throwaway_signer,
)
from ..signing.identity import SignerIdentity
from ..signing.ours import signer_identity

log = logging.getLogger("edi_bridge")


class Signing:
    """The signer of our documents: the one given, else ``signing.*``, else a throwaway."""

    def __init__(self, settings: Mapping[str, str] | None, signer: Signer | None) -> None:
        self._settings = settings
        self.built = signer
        self.test_certificate = False  # set when we fall back to the throwaway one
        self._identity: tuple[bytes, SignerIdentity] | None = None
        self._variables: dict[str, str] | None = None

    @property
    def signer(self) -> Signer:
        if self.built is None:
            # signing.* settings or EDI_BRIDGE_SIGNING_* variables name the signer.
            self.built = signer_from_settings(self._settings)
            kind = config.SIGNING.read(self._settings).get("kind", "")
            self.test_certificate = kind.strip().lower() == "test"
        if self.built is None:
            log.warning("no signer configured: signing with a throwaway test certificate")
            self.built = throwaway_signer()
            self.test_certificate = True
        return self.built

    def for_adapters(self) -> Signer:
        """Our signer as adapters get it: the built one, or one resolved on first use. An
        adapter is often built (for routing) before anything is signed; the receipts it
        signs while polling must still be signed, by the signer the Bridge signs with."""
        return self.built if self.built is not None else DeferredSigner(self)

    def our_power_of_attorney(self) -> OurPowerOfAttorney | None:
        # Asked twice per send; reading the certificate and scanning the whole
        # environment for EDI_BRIDGE_* variables were the costly parts. The certificate
        # is read once per signer and the variables once per Bridge (as each adapter
        # reads its section once); the settings and the МЧД's dates are still checked
        # on every call.
        certificate = self.signer.certificate
        if self._identity is None or self._identity[0] is not certificate:
            self._identity = (certificate, signer_identity(certificate))
        return our_authority(self._identity[1], self._settings, self._environ())

    def _environ(self) -> dict[str, str]:
        if self._variables is None:
            self._variables = {
                k: v for k, v in os.environ.items() if k.startswith(config.ENV_PREFIX)
            }
        return self._variables

    def refuse_test_certificate(self, name: str, endpoint: str | None) -> None:
        """A real operator must never get a contract signed by a throwaway certificate."""
        # On every send: the variables as read once per Bridge, not the whole environment.
        allowed = config.SIGNING.read(self._settings, self._environ()).get("allow_test_certificate")
        if config.flag(allowed):
            return
        from ..http import is_loopback  # the HTTP stack loads with an HTTP adapter only

        if endpoint is None or is_loopback(endpoint):
            return  # the mock, or a fake on this machine
        self.signer  # noqa: B018  (built now: that tells which certificate it is)
        if not self.test_certificate:
            return
        raise ConfigurationError(
            f"refusing to send to {name} at {endpoint} signed with the built-in throwaway "
            "test certificate: configure our signature (signing.kind with signing.pkcs12, "
            "or signing.key and signing.certificate, or signing.command), or set "
            "signing.allow_test_certificate=true to send it anyway"
        )


class DeferredSigner(Signer):
    """Our signer, resolved when first used (see :meth:`Signing.for_adapters`)."""

    def __init__(self, signing: Signing) -> None:
        self._signing = signing

    @property
    def certificate(self) -> bytes:
        return self._signing.signer.certificate

    def sign_stream(self, chunks: Iterable[bytes]) -> bytes:
        return self._signing.signer.sign_stream(chunks)

    def __repr__(self) -> str:
        return f"<DeferredSigner {self._signing.built!r}>"


__all__ = ["DeferredSigner", "Signing"]
