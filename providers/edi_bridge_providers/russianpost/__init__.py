"""Russian Post tracking: ``getOperationHistory`` over SOAP 1.2 with zeep.

The client loads the WSDL shipped with this package (no network fetch of the
contract) and points its port at ``russianpost.url``. Operation types are
mapped by ``OperType/Id`` (the names are kept for people only):

====  ============================  ==================
Id    operation                     normalized
====  ============================  ==================
1     acceptance                    accepted
2     delivery (final)              delivered
3     return                        returned
4     forwarding                    in transit
5     non-delivery (final)          lost
12    failed delivery attempt       delivery failed
else  processing, customs, storage  in transit
====  ============================  ==================

Settings (``EDI_BRIDGE_RUSSIANPOST_*``): ``url``, ``login``, ``password``,
``language`` (RUS), ``timeout`` (seconds, 30), ``rate`` (requests per second, 1;
the free access allows about 100 requests a day).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any, ClassVar

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport as SoapTransport

from edi_bridge.errors import (
    AuthError,
    ConfigurationError,
    ProviderError,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    TransientError,
    UnsafeInput,
)
from edi_bridge.http import (
    TRANSPORT_KEYS,
    RateLimiter,
    Transport,
    is_loopback,
    transport_error,
)
from edi_bridge.paper.carrier import Carrier, CarrierContext, ShipmentStatus, TrackingRecord
from edi_bridge.paper.tracking import check_russian_post

WSDL = Path(__file__).with_name("rtm34.wsdl")
NS = "http://russianpost.org/operationhistory"
DATA_NS = "http://russianpost.org/operationhistory/data"
BINDING = f"{{{NS}}}OperationHistory12PortBinding"
DEFAULT_URL = "https://tracking.russianpost.ru/rtm34"
MOSCOW = dt.timezone(dt.timedelta(hours=3))
OPER_TYPES: dict[int, ShipmentStatus] = {
    1: ShipmentStatus.ACCEPTED,
    2: ShipmentStatus.DELIVERED,
    3: ShipmentStatus.RETURNED,
    4: ShipmentStatus.IN_TRANSIT,
    5: ShipmentStatus.LOST,
    12: ShipmentStatus.DELIVERY_FAILED,
}
_PASSWORD_RE = re.compile(r"(<(?:\w+:)?password>)[^<]*(</(?:\w+:)?password>)")


class _MaskPassword(logging.Filter):
    """zeep logs whole envelopes at debug level; ours carry the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _PASSWORD_RE.sub(r"\1***\2", a.decode("utf-8", "replace"))
                if isinstance(a, bytes)
                else _PASSWORD_RE.sub(r"\1***\2", a)
                if isinstance(a, str)
                else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        return True


logging.getLogger("zeep.transports").addFilter(_MaskPassword())


class _Transport(SoapTransport):
    """Stops non-SOAP error answers (a proxy's 502 page, a 429) before zeep's
    lenient parser would read them as an empty document."""

    def post(self, address: str, message: Any, headers: Any) -> requests.Response:
        response: requests.Response = super().post(address, message, headers)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code != 200 and "xml" not in content_type:
            raise zeep.exceptions.TransportError(status_code=response.status_code)
        return response


def normalize(oper_type: int | None) -> ShipmentStatus:
    return OPER_TYPES.get(oper_type or 0, ShipmentStatus.IN_TRANSIT)


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def records_from_history(barcode: str, history: Any) -> list[TrackingRecord]:
    """TrackingRecords from zeep's ``OperationHistoryData`` (or its record list).

    Each record's ``ItemParameters/Barcode``, when present, must be the barcode asked
    for: a mismatch is a :class:`ProviderError`, not a status.
    """
    items = _get(history, "historyRecord") if not isinstance(history, list) else history
    out: list[TrackingRecord] = []
    for item in items or []:
        answered = _get(item, "ItemParameters", "Barcode")
        if answered and str(answered).strip().upper() != barcode.upper():
            # Another shipment's history must never move this one (the field is optional).
            raise ProviderError(
                f"asked for barcode {barcode}, the answer is about {str(answered).strip()}",
                provider="russianpost",
            )
        type_id = _get(item, "OperationParameters", "OperType", "Id")
        attr_id = _get(item, "OperationParameters", "OperAttr", "Id")
        when = _get(item, "OperationParameters", "OperDate")
        if not isinstance(when, dt.datetime):
            continue  # an operation without a date cannot be ordered
        if when.tzinfo is None:
            when = when.replace(tzinfo=MOSCOW)
        names = [
            _get(item, "OperationParameters", "OperType", "Name"),
            _get(item, "OperationParameters", "OperAttr", "Name"),
        ]
        index = _get(item, "AddressParameters", "OperationAddress", "Index")
        where = _get(item, "AddressParameters", "OperationAddress", "Description")
        place = " ".join(str(p) for p in (index, where) if p) or None
        out.append(
            TrackingRecord(
                record_id=f"{barcode}:{type_id}:{attr_id}:{when.isoformat()}",
                status=normalize(type_id),
                at=when,
                description=" / ".join(str(n) for n in names if n) or f"operation {type_id}",
                place=place,
                raw={"oper_type": type_id, "oper_attr": attr_id},
            )
        )
    return sorted(out, key=lambda r: r.at)


class RussianPostCarrier(Carrier):
    name = "russianpost"
    title = "Russian Post"
    tracks = True
    settings_keys: ClassVar[frozenset[str] | None] = TRANSPORT_KEYS | {
        "url",
        "language",
        "login",
        "password",
    }

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        cfg = context.config
        self.url = cfg.get("url") or DEFAULT_URL
        self.language = cfg.get("language") or "RUS"
        self._login = cfg.get("login")
        self._password = cfg.get("password")
        # The shared transport keys (timeout, retry_attempts, rate, tls_verify); one
        # request at a time, as the tracking service asks.
        shared = Transport.from_config(
            "russianpost", cfg, self.url, rate=1.0, max_connections=1, retry_attempts=3
        )
        self.timeout = shared.timeout
        if not self.url.startswith("https://") and not is_loopback(self.url):
            raise ConfigurationError(f"russianpost: plain HTTP only to loopback, not {self.url}")
        self.retry = context.retry or shared.retry_policy()
        self.limiter = RateLimiter(shared.rate, 1)
        self.session = requests.Session()
        self.session.verify = shared.tls_verify
        transport = _Transport(
            session=self.session, timeout=self.timeout, operation_timeout=self.timeout
        )
        # SOAP answers never carry a DTD: refuse any (and with it every entity).
        settings = zeep.Settings(strict=False, xsd_ignore_sequence_order=True, forbid_dtd=True)
        self.client = zeep.Client(str(WSDL), transport=transport, settings=settings)
        self.service = self.client.create_service(BINDING, self.url)

    def __repr__(self) -> str:
        return f"<RussianPostCarrier {self.url}>"

    def check_tracking(self, number: str) -> str:
        return check_russian_post(number)

    def track(self, tracking: str) -> list[TrackingRecord]:
        barcode = self.check_tracking(tracking)
        if not self._login or not self._password:
            raise ConfigurationError(
                "russianpost: set EDI_BRIDGE_RUSSIANPOST_LOGIN and EDI_BRIDGE_RUSSIANPOST_PASSWORD"
            )
        history = self.retry.call(lambda: self._call(barcode), what=f"russianpost {barcode}")
        return records_from_history(barcode, history)

    def _call(self, barcode: str) -> Any:
        with self.limiter:
            try:
                return self.service.getOperationHistory(
                    OperationHistoryRequest={
                        "Barcode": barcode,
                        "MessageType": 0,
                        "Language": self.language,
                    },
                    AuthorizationHeader={"login": self._login, "password": self._password},
                )
            except zeep.exceptions.Fault as exc:
                raise _fault_error(exc) from None
            except zeep.exceptions.TransportError as exc:
                raise _transport_error(exc) from None
            except requests.RequestException as exc:
                raise transport_error(exc, "getOperationHistory", self.timeout, self.name) from None
            except (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden):
                raise UnsafeInput(
                    "russianpost: the answer declares a DTD or XML entities; refused"
                ) from None
            except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError) as exc:
                raise ProviderError(f"unreadable answer: {exc}", provider=self.name) from None

    def close(self) -> None:
        self.session.close()


def _fault_error(exc: zeep.exceptions.Fault) -> ProviderError:
    kind = None
    detail = exc.detail
    if detail is not None:
        for child in detail.iterchildren():
            if isinstance(child.tag, str):
                kind = etree.QName(child).localname
                break
    message = (exc.message or "fault").strip()
    if kind == "AuthorizationFaultReason":
        return AuthError(f"authorization refused: {message}", provider="russianpost")
    if kind == "OperationHistoryFaultReason":
        return ProviderNotFound(message, provider="russianpost", code=kind)
    return RejectedRequest(message, provider="russianpost", code=kind)


def _transport_error(exc: zeep.exceptions.TransportError) -> ProviderError:
    status = exc.status_code
    if status == 429:
        return RateLimited("rate limited", provider="russianpost")
    if status >= 500:
        return TransientError("server error", provider="russianpost", status=status)
    return RejectedRequest("request refused", provider="russianpost", status=status)


__all__ = ["WSDL", "RussianPostCarrier", "normalize", "records_from_history"]
