"""The configured signer, from settings keys or ``EDI_BRIDGE_SIGNING_*`` variables.

=======================  ===================================  ==============================
key                      environment variable                 meaning
=======================  ===================================  ==============================
``signing.kind``         ``EDI_BRIDGE_SIGNING_KIND``          ``software``, ``command`` or ``test``
``signing.pkcs12``       ``EDI_BRIDGE_SIGNING_PKCS12``        software: PKCS#12 file
``signing.key``          ``EDI_BRIDGE_SIGNING_KEY``           software: PEM private key
``signing.certificate``  ``EDI_BRIDGE_SIGNING_CERTIFICATE``   certificate (software, command)
``signing.password``     ``EDI_BRIDGE_SIGNING_PASSWORD``      software: key or PKCS#12 password
``signing.command``      ``EDI_BRIDGE_SIGNING_COMMAND``       command: the command line
``signing.pin``          ``EDI_BRIDGE_SIGNING_PIN``           command: fills ``{pin}``
``signing.timeout``      ``EDI_BRIDGE_SIGNING_TIMEOUT``       command: seconds (default 60)
=======================  ===================================  ==============================
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import config
from ..errors import ConfigurationError
from .base import Signer
from .external import ExternalCommandSigner
from .software import SoftwareSigner, throwaway_signer

SECTION = "signing"


def signer_from_settings(
    settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> Signer | None:
    """The signer the settings describe, or None when ``signing.kind`` is not set."""
    cfg = config.SIGNING.read(settings, environ)
    kind = cfg.get("kind", "").strip().lower()
    if not kind:
        return None
    if kind == "test":
        return throwaway_signer()
    if kind == "software":
        password = cfg.get("password") or None
        if cfg.get("pkcs12"):
            return SoftwareSigner.from_pkcs12(cfg["pkcs12"], password)
        if cfg.get("key") and cfg.get("certificate"):
            return SoftwareSigner.from_pem(cfg["key"], cfg["certificate"], password)
        raise ConfigurationError(
            "signing.kind=software needs signing.pkcs12, or signing.key and signing.certificate"
        )
    if kind == "command":
        if not cfg.get("command"):
            raise ConfigurationError("signing.kind=command needs signing.command")
        try:
            timeout = float(cfg.get("timeout") or 60)
        except ValueError:
            raise ConfigurationError("signing.timeout must be a number of seconds") from None
        return ExternalCommandSigner(
            cfg["command"],
            timeout=timeout,
            certificate=cfg.get("certificate") or None,
            pin=cfg.get("pin") or None,
        )
    raise ConfigurationError(f"signing.kind must be software, command or test (got {kind!r})")


__all__ = ["SECTION", "signer_from_settings"]
