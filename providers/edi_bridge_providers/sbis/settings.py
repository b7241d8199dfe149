"""SBIS settings, read from the ``sbis`` config section (``EDI_BRIDGE_SBIS_*``).

Two ways to sign in, chosen by which keys are set:

* ``login`` + ``password``: a session from ``СБИС.Аутентифицировать``;
* ``app_client_id`` + ``app_secret`` + ``secret_key``: a service token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from edi_bridge.errors import ConfigurationError, ValidationError
from edi_bridge.http import TRANSPORT_KEYS, Transport
from edi_bridge.requisites import check_inn, check_kpp

DEFAULT_BASE_URL = "https://online.sbis.ru"
TRANSPORT = Transport(timeout=30.0, rate=20.0, max_connections=5)
MASK = "***"
# Seconds before an open document flow is asked about again: SBIS answers one document per
# call and allows 5 in flight, so asking every open flow on every poll would crowd out sends.
DOCFLOW_INTERVAL = 300.0


def _number(config: Mapping[str, str], key: str, default: float) -> float:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"sbis.{key}", "must be a number") from None


def _interval(config: Mapping[str, str]) -> float:
    value = _number(config, "docflow_interval", DOCFLOW_INTERVAL)
    if not value >= 0:  # also refuses NaN
        raise ValidationError("sbis.docflow_interval", "must be 0 (every poll) or more seconds")
    return value


@dataclasses.dataclass(frozen=True)
class SbisSettings:
    base_url: str
    our_inn: str
    our_kpp: str | None
    our_name: str
    login: str | None = dataclasses.field(default=None, repr=False)
    password: str | None = dataclasses.field(default=None, repr=False)
    app_client_id: str | None = dataclasses.field(default=None, repr=False)
    app_secret: str | None = dataclasses.field(default=None, repr=False)
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    certificate_thumbprint: str | None = None
    regulation: str | None = None  # Регламент.Название, when the account uses one
    doc_types: Mapping[str, str] = dataclasses.field(default_factory=dict)
    page_size: int = 100
    max_pages: int = 50
    changes_since: str = "01.01.2020 00.00.00"
    docflow_interval: float = DOCFLOW_INTERVAL
    transport: Transport = dataclasses.field(default_factory=lambda: TRANSPORT)

    @property
    def auth_mode(self) -> str:
        return "login" if self.login else "service"

    def __repr__(self) -> str:
        who = f"login={MASK}" if self.login else f"app_client_id={MASK}"
        return f"SbisSettings(base_url={self.base_url!r}, our_inn={self.our_inn!r}, {who})"

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> SbisSettings:
        base_url = (config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        login, password = config.get("login"), config.get("password")
        client_id = config.get("app_client_id")
        app_secret, secret_key = config.get("app_secret"), config.get("secret_key")
        if login or password:
            if not (login and password):
                raise ConfigurationError("sbis: set both sbis.login and sbis.password")
        elif not (client_id and app_secret and secret_key):
            raise ConfigurationError(
                "sbis: set sbis.login + sbis.password, or sbis.app_client_id + "
                "sbis.app_secret + sbis.secret_key (EDI_BRIDGE_SBIS_*)"
            )
        our_inn = config.get("our_inn") or ""
        rule = check_inn(our_inn)
        if rule:
            raise ValidationError("sbis.our_inn", rule)
        our_kpp = config.get("our_kpp") or None
        if len(our_inn) == 10:
            rule = check_kpp(our_kpp or "")
            if rule:
                raise ValidationError("sbis.our_kpp", rule)
        our_name = (config.get("our_name") or "").strip()
        if not our_name:
            raise ValidationError("sbis.our_name", "required: our organisation's name")
        doc_types = {
            key[len("doc_type_") :]: value
            for key, value in config.items()
            if key.startswith("doc_type_") and value
        }
        return cls(
            base_url=base_url,
            our_inn=our_inn,
            our_kpp=our_kpp,
            our_name=our_name,
            login=login or None,
            password=password or None,
            app_client_id=client_id or None,
            app_secret=app_secret or None,
            secret_key=secret_key or None,
            certificate_thumbprint=(config.get("certificate_thumbprint") or None),
            regulation=config.get("regulation") or None,
            doc_types=doc_types,
            page_size=max(1, min(200, int(_number(config, "page_size", 100)))),
            max_pages=max(1, int(_number(config, "max_pages", 50))),
            changes_since=config.get("changes_since") or "01.01.2020 00.00.00",
            docflow_interval=_interval(config),
            # SBIS allows at most 5 parallel requests per session.
            transport=Transport.from_config(
                "sbis",
                config,
                base_url,
                max_connections_limit=5,
                **dataclasses.asdict(TRANSPORT),
            ),
        )


# Every key from_config reads; Bridge refuses others in explicit settings.
KEYS = TRANSPORT_KEYS | {
    "base_url",
    "login",
    "password",
    "app_client_id",
    "app_secret",
    "secret_key",
    "our_inn",
    "our_kpp",
    "our_name",
    "certificate_thumbprint",
    "regulation",
    "doc_type_*",
    "page_size",
    "max_pages",
    "changes_since",
    "docflow_interval",
}

__all__ = ["DEFAULT_BASE_URL", "KEYS", "SbisSettings"]
