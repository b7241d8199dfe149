"""A fake of Russian Post single-item tracking: SOAP 1.2 on ``/rtm34``.

``GET /rtm34?wsdl`` serves the package's WSDL with the fake's own address;
``POST /rtm34`` answers ``getOperationHistory`` envelopes. Wrong credentials
give an ``AuthorizationFault``; a barcode that fails its check digit, an
``OperationHistoryFault``. Every valid barcode is a shipment played by the
scenario (see :mod:`edi_bridge.paper.scenario`), counting queries per barcode.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree
from werkzeug.wrappers import Request, Response

from edi_bridge.errors import UnsafeInput
from edi_bridge.fakes.base import FakeApp, FakeWorld
from edi_bridge.fakes.server import FakeOptions
from edi_bridge.paper.carrier import ShipmentStatus
from edi_bridge.paper.scenario import ShipmentScenario, parse_shipment_scenario
from edi_bridge.paper.tracking import russian_post_rule
from edi_bridge.safexml import parse_untrusted

from . import DATA_NS, NS, WSDL

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP12_CT = "application/soap+xml; charset=utf-8"
MAX_BODY = 1 << 20
MOSCOW = dt.timezone(dt.timedelta(hours=3))
# (OperType Id, name, OperAttr Id, name) the fake shows for each normalized step.
_OPERATIONS: dict[ShipmentStatus, tuple[int, str, int, str]] = {
    ShipmentStatus.ACCEPTED: (1, "Прием", 1, "Единичный"),
    ShipmentStatus.IN_TRANSIT: (8, "Обработка", 2, "Прибыло в место вручения"),
    ShipmentStatus.DELIVERY_FAILED: (12, "Неудачная попытка вручения", 1, "Временное отсутствие"),
    ShipmentStatus.DELIVERED: (2, "Вручение", 1, "Вручение адресату"),
    ShipmentStatus.RETURNED: (3, "Возврат", 1, "Истек срок хранения"),
    ShipmentStatus.LOST: (5, "Невручение", 1, "Утрачено"),
}


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


class RussianPostFake(FakeApp):
    name = "russianpost"
    section = "russianpost"

    def __init__(
        self,
        scenario: ShipmentScenario,
        *,
        login: str = "fake-login",
        password: str = "fake-password",  # noqa: S107 - the fake's own test credential
    ) -> None:
        super().__init__(FakeWorld())
        self.scenario = scenario
        self.login = login
        self.password = password
        self._shipments: dict[str, tuple[dt.datetime, int]] = {}
        self.answer_number: str | None = None  # set: every answer names this barcode instead
        # The credential travels in every envelope (AuthorizationHeader): no token routes.
        self.route("GET", "/rtm34", self._wsdl, auth=False)
        self.route("POST", "/rtm34", self._handle, auth=False)

    def settings(self, base_url: str) -> dict[str, str]:
        return {
            "russianpost.url": f"{base_url}/rtm34",
            "russianpost.login": self.login,
            "russianpost.password": self.password,
        }

    def _wsdl(self, request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.args}:
            return Response("method not allowed", status=405)
        text = WSDL.read_text(encoding="utf-8").replace(
            "https://tracking.russianpost.ru/rtm34", request.base_url
        )
        return Response(text, content_type="text/xml; charset=utf-8")

    def _handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("method not allowed", status=405)
        if not (request.mimetype or "").startswith("application/soap+xml"):
            # SOAP 1.2 only: a SOAP 1.1 client (text/xml) is refused as the service does.
            return Response("unsupported media type", status=415)
        if (request.content_length or 0) > MAX_BODY:
            return Response("too large", status=413)
        try:
            envelope = parse_untrusted(request.get_data(), limit=MAX_BODY, what="envelope")
        except UnsafeInput:
            return _fault("Sender", "malformed envelope", None, None)
        body = envelope.find(_q(SOAP12, "Body"))
        call = body[0] if body is not None and len(body) else None
        if call is None or call.tag != _q(NS, "getOperationHistory"):
            return _fault("Sender", "unknown operation", None, None)
        login = call.findtext(f"{_q(DATA_NS, 'AuthorizationHeader')}/{_q(DATA_NS, 'login')}")
        password = call.findtext(f"{_q(DATA_NS, 'AuthorizationHeader')}/{_q(DATA_NS, 'password')}")
        if login != self.login or password != self.password:
            return _fault(
                "Sender",
                "Authorization error",
                "AuthorizationFaultReason",
                "Ошибка авторизации: неверный логин или пароль",
            )
        barcode = (
            call.findtext(f"{_q(DATA_NS, 'OperationHistoryRequest')}/{_q(DATA_NS, 'Barcode')}")
            or ""
        ).strip()
        if russian_post_rule(barcode):
            return _fault(
                "Sender",
                f"Unknown barcode {barcode}",
                "OperationHistoryFaultReason",
                f"Отправление {barcode} не найдено",
            )
        return self._history(barcode)

    def _history(self, barcode: str) -> Response:
        with self.world.lock:
            first, queries = self._shipments.get(
                # Operations are stamped in the past so their order is plain.
                barcode,
                (dt.datetime.now(MOSCOW).replace(microsecond=0) - dt.timedelta(days=2), 0),
            )
            queries += 1
            self._shipments[barcode] = (first, queries)
        steps = self.scenario.visible(queries)
        env = etree.Element(_q(SOAP12, "Envelope"), nsmap={"S": SOAP12})
        body = etree.SubElement(env, _q(SOAP12, "Body"))
        response = etree.SubElement(
            body, _q(NS, "getOperationHistoryResponse"), nsmap={"ns7": NS, "ns3": DATA_NS}
        )
        data = etree.SubElement(response, _q(DATA_NS, "OperationHistoryData"))
        for n, step in enumerate(steps):
            type_id, type_name, attr_id, attr_name = _OPERATIONS[step]
            record = etree.SubElement(data, _q(DATA_NS, "historyRecord"))
            address = _sub(record, "AddressParameters")
            destination = _sub(address, "DestinationAddress")
            _sub(destination, "Index", "125009")
            _sub(destination, "Description", "Москва 125009")
            operation = _sub(address, "OperationAddress")
            index, place = ("101000", "Москва Почтамт") if n == 0 else ("125009", "Москва 125009")
            _sub(operation, "Index", index)
            _sub(operation, "Description", place)
            item = _sub(record, "ItemParameters")
            _sub(item, "Barcode", self.answer_number or barcode)
            _sub(item, "ValidRuType", "true" if len(barcode) == 14 else "false")
            _sub(item, "ValidEnType", "false" if len(barcode) == 14 else "true")
            mail_type = _sub(item, "MailType")
            _sub(mail_type, "Id", "2")
            _sub(mail_type, "Name", "Письмо")
            _sub(item, "Mass", "40")
            params = _sub(record, "OperationParameters")
            oper_type = _sub(params, "OperType")
            _sub(oper_type, "Id", str(type_id))
            _sub(oper_type, "Name", type_name)
            oper_attr = _sub(params, "OperAttr")
            _sub(oper_attr, "Id", str(attr_id))
            _sub(oper_attr, "Name", attr_name)
            _sub(params, "OperDate", (first + dt.timedelta(hours=6 * n)).isoformat())
        return Response(
            etree.tostring(env, xml_declaration=True, encoding="UTF-8"), content_type=SOAP12_CT
        )


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(DATA_NS, name))
    if text is not None:
        element.text = text
    return element


def _fault(code: str, reason: str, detail_name: str | None, detail_text: str | None) -> Response:
    env = etree.Element(_q(SOAP12, "Envelope"), nsmap={"S": SOAP12})
    body = etree.SubElement(env, _q(SOAP12, "Body"))
    fault = etree.SubElement(body, _q(SOAP12, "Fault"))
    value = etree.SubElement(etree.SubElement(fault, _q(SOAP12, "Code")), _q(SOAP12, "Value"))
    value.text = f"S:{code}"
    text = etree.SubElement(etree.SubElement(fault, _q(SOAP12, "Reason")), _q(SOAP12, "Text"))
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    if detail_name:
        detail = etree.SubElement(fault, _q(SOAP12, "Detail"))
        reason_el = etree.SubElement(detail, _q(DATA_NS, detail_name), nsmap={"ns3": DATA_NS})
        reason_el.text = detail_text
    # JAX-WS answers every fault with 500, whatever its code.
    return Response(
        etree.tostring(env, xml_declaration=True, encoding="UTF-8"),
        status=500,
        content_type=SOAP12_CT,
    )


def make_fake(options: FakeOptions) -> RussianPostFake:
    extra = options.extra
    return RussianPostFake(
        parse_shipment_scenario(options.scenario),
        login=extra.get("login", "fake-login"),
        password=extra.get("password", "fake-password"),
    )


__all__ = ["RussianPostFake", "make_fake"]
