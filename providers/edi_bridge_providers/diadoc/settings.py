"""Diadoc settings, read from the ``diadoc`` config section.

Every key has an environment variable ``EDI_BRIDGE_DIADOC_<KEY>`` (see
:mod:`edi_bridge.config`). Secrets (password, client secret, refresh token)
never appear in the repr.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from edi_bridge.config import env_name
from edi_bridge.errors import ConfigurationError
from edi_bridge.http import TRANSPORT_KEYS, Transport
from edi_bridge.retry import RetryPolicy

HOSTS = {
    "production": "https://diadoc-api.kontur.ru",
    "staging": "https://diadoc-api-staging.kontur.ru",
}
SHELF_THRESHOLD = 500 * 1024  # bodies above this go through the shelf
PART_SIZE = 3 * 1024 * 1024  # shelf part size (Diadoc's documented 3 MB)
MAX_DOCUMENT_SIZE = 70 * 1024 * 1024  # Diadoc's limit per document
# Seconds before an open document flow is asked about again (GetDocflows): receipts and
# confirmations move in minutes to days, and the feed already brings the counterparty's
# answers; 0 asks on every poll.
DOCFLOW_INTERVAL = 300.0
SECRET_KEYS = ("password", "client_secret", "refresh_token")
TRANSPORT = Transport(timeout=60.0, rate=100.0, max_connections=4)
# Every key from_config reads; Bridge refuses others in explicit settings.
KEYS = TRANSPORT_KEYS | {
    "base_url",
    "host",
    "auth",
    "api_client_id",
    "login",
    "password",
    "token_url",
    "client_id",
    "client_secret",
    "refresh_token",
    "scope",
    "box_id",
    "inn",
    "contract_type",
    "shelf_threshold",
    "part_size",
    "max_document_size",
    "prevalidate_power_of_attorney",
    "docflow_interval",
}


def _number(cfg: Mapping[str, str], key: str, default: float, *, zero: bool = False) -> float:
    raw = cfg.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"diadoc.{key} ({env_name('diadoc.' + key)}) must be a number, got {raw!r}"
        ) from None
    if value < 0 or (value == 0 and not zero) or value != value:
        raise ConfigurationError(f"diadoc.{key} must be {'0 or more' if zero else 'positive'}")
    return value


def _flag(cfg: Mapping[str, str], key: str) -> bool:
    raw = (cfg.get(key) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"diadoc.{key} ({env_name('diadoc.' + key)}) must be true or false")


@dataclasses.dataclass(frozen=True, repr=False)
class DiadocSettings:
    base_url: str
    auth: str  # "password" or "oidc"
    api_client_id: str | None = None
    login: str | None = None
    password: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    box_id: str | None = None
    inn: str | None = None
    transport: Transport = dataclasses.field(default_factory=lambda: TRANSPORT)
    contract_type: str = "Договор"
    shelf_threshold: int = SHELF_THRESHOLD
    part_size: int = PART_SIZE
    max_document_size: int = MAX_DOCUMENT_SIZE
    # PrevalidatePowerOfAttorney before each PostMessage that carries our МЧД.
    prevalidate_power_of_attorney: bool = False
    docflow_interval: float = DOCFLOW_INTERVAL

    def __repr__(self) -> str:
        shown = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in SECRET_KEYS and value:
                value = "***"
            shown.append(f"{field.name}={value!r}")
        return f"DiadocSettings({', '.join(shown)})"

    def retry_policy(self) -> RetryPolicy:
        return self.transport.retry_policy()

    @classmethod
    def from_config(cls, cfg: Mapping[str, str]) -> DiadocSettings:
        """Build from a config section; raises ConfigurationError naming the key."""

        def get(key: str) -> str | None:
            value = cfg.get(key)
            return value.strip() if value and value.strip() else None

        base_url = get("base_url")
        host = (get("host") or "production").lower()
        if base_url is None:
            if host not in HOSTS:
                raise ConfigurationError(
                    f"diadoc.host ({env_name('diadoc.host')}) must be one of "
                    f"{', '.join(HOSTS)} (or set diadoc.base_url), got {host!r}"
                )
            base_url = HOSTS[host]
        auth = get("auth") or ("oidc" if get("client_id") and not get("login") else "password")
        auth = auth.lower()
        if auth == "password":
            missing = [k for k in ("api_client_id", "login", "password") if not get(k)]
        elif auth == "oidc":
            missing = [k for k in ("token_url", "client_id") if not get(k)]
            if not get("client_secret") and not get("refresh_token"):
                missing.append("client_secret or refresh_token")
        else:
            raise ConfigurationError(f"diadoc.auth must be 'password' or 'oidc', got {auth!r}")
        if missing:
            names = ", ".join(f"diadoc.{k} ({env_name('diadoc.' + k.split()[0])})" for k in missing)
            raise ConfigurationError(f"diadoc: {auth} authentication needs {names}")
        transport = Transport.from_config("diadoc", cfg, base_url, **dataclasses.asdict(TRANSPORT))
        return cls(
            base_url=base_url.rstrip("/"),
            auth=auth,
            api_client_id=get("api_client_id"),
            login=get("login"),
            password=get("password"),
            token_url=get("token_url"),
            client_id=get("client_id"),
            client_secret=get("client_secret"),
            refresh_token=get("refresh_token"),
            scope=get("scope"),
            box_id=get("box_id"),
            inn=get("inn"),
            transport=transport,
            contract_type=get("contract_type") or "Договор",
            shelf_threshold=int(_number(cfg, "shelf_threshold", SHELF_THRESHOLD)),
            part_size=int(_number(cfg, "part_size", PART_SIZE)),
            max_document_size=int(_number(cfg, "max_document_size", MAX_DOCUMENT_SIZE)),
            prevalidate_power_of_attorney=_flag(cfg, "prevalidate_power_of_attorney"),
            docflow_interval=_number(cfg, "docflow_interval", DOCFLOW_INTERVAL, zero=True),
        )


__all__ = [
    "DOCFLOW_INTERVAL",
    "HOSTS",
    "KEYS",
    "MAX_DOCUMENT_SIZE",
    "PART_SIZE",
    "SHELF_THRESHOLD",
    "DiadocSettings",
]
