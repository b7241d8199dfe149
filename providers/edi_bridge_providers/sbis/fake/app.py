"""The SBIS fake: a WSGI app speaking SBIS's JSON-RPC on loopback.

Endpoints (as SBIS): ``POST /auth/service/`` (``СБИС.Аутентифицировать``),
``POST /oauth/service/`` (service token), ``POST /service/?srv=1`` (every
other method), ``GET /disk/<token>`` (file links). Control endpoints for tests
and developers are the scaffold's, under ``/_fake/`` (see docs/sbis.md).

Errors come back as SBIS sends them: a JSON-RPC ``error`` object with HTTP 500
for refusals, HTTP 400 for malformed calls, HTTP 401 for a dead session (as a
JSON-RPC error with code -32001, or as a plain string in ``expire_mode=string``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import random
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from edi_bridge.config import flag
from edi_bridge.errors import ValidationError
from edi_bridge.fakes.base import FakeApp, Route, probability
from edi_bridge.fakes.scenario import parse_scenario
from edi_bridge.fakes.server import FakeOptions
from edi_bridge.models import Counterparty

from ..wire import (
    ACTION_SEND,
    AUTH_PATH,
    M_AUTH,
    M_CHANGES,
    M_EXECUTE,
    M_PARTY,
    M_PREPARE,
    M_READ,
    M_WRITE,
    OAUTH_PATH,
    SERVICE_PATH,
    SESSION_HEADER,
    STAGE_SEND,
    TOKEN_HEADER,
    YES,
    as_dict,
    as_list,
    document_uuid,
    parse_datetime,
)
from .views import document_view, event_view, stage_view
from .world import (
    Attachment,
    Document,
    FakeError,
    PartyPlan,
    Signature,
    World,
    digest_matches,
    invalid,
    thumbprint_of,
)

DEFAULTS = {
    "login": "demo",
    "password": "demo-password",
    "app_client_id": "demo-app",
    "app_secret": "demo-app-secret",
    "secret_key": "demo-secret-key",
    "our_inn": "7707083893",
    "our_kpp": "773601001",
    "our_name": "ООО «Поставщик»",
}
_DATE_RE = re.compile(r"\d{2}\.\d{2}\.\d{4}")
Handler = Callable[[dict[str, Any], str], Any]


def _json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _required(obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = obj.get(key)
    if value in (None, "", [], {}):
        raise invalid(f"{where}.{key}", "обязательное поле")
    return value


class SbisFake(FakeApp):
    """SBIS on loopback; see the module docstring and docs/sbis.md."""

    name = "sbis"
    section = "sbis"
    world: World

    def __init__(self, options: FakeOptions | None = None) -> None:
        options = options or FakeOptions()
        extra = dict(options.extra)
        self.options = {k: extra.get(k, v) for k, v in DEFAULTS.items()}
        super().__init__(World(our_inn=self.options["our_inn"], default_scenario=options.scenario))
        self.expire_every = int(extra.get("expire_every", "0") or 0)
        self.expire_mode = extra.get("expire_mode", "rpc")  # "rpc" or "string"
        self.shuffle = flag(extra.get("shuffle"), True)
        self.repeat_rate = probability(extra, "repeat_rate")
        self.sign_extra = flag(extra.get("sign_extra"), False)
        self.rng = random.Random(int(extra["seed"]) if extra.get("seed") else None)
        for key, value in extra.items():
            if key.startswith("scenario."):
                self._plan(key.partition(".")[2], scenario=value)
        self.methods: dict[str, Handler] = {
            M_WRITE: self._write,
            M_PREPARE: self._prepare,
            M_EXECUTE: self._execute,
            M_READ: self._read,
            M_CHANGES: self._changes,
            M_PARTY: self._party,
        }
        self.rpc_log: list[str] = []  # method names in call order, for tests
        self.route("POST", OAUTH_PATH, self._oauth, auth=False)
        # Both JSON-RPC paths check the session themselves: a dead one is a JSON-RPC error.
        self.route("POST", AUTH_PATH, lambda r: self._rpc(r, auth=True), auth=False)
        self.route("POST", SERVICE_PATH.split("?", 1)[0], lambda r: self._rpc(r, auth=False), False)
        self.route("GET", "/disk/", self._download)

    def __repr__(self) -> str:
        return f"<SbisFake documents={len(self.world.documents)}>"

    # -- the scaffold's hooks -------------------------------------------------

    def resolve(self, request: Request) -> Route | None:
        if request.path.startswith("/disk/") and request.method == "GET":
            return self.routes[("GET", "/disk/")]  # file links: /disk/<token>
        return super().resolve(request)

    def authorized(self, request: Request) -> bool:
        return self.world.knows(request.headers.get(SESSION_HEADER)) or self.world.knows(
            request.headers.get(TOKEN_HEADER)
        )

    def unauthorized(self, request: Request) -> Response:
        return _json_response({"error": "Unauthorized"}, 401)

    # -- steering ------------------------------------------------------------

    def settings(self, base_url: str) -> dict[str, str]:
        s = self.options
        return {
            "sbis.base_url": base_url,
            "sbis.login": s["login"],
            "sbis.password": s["password"],
            "sbis.our_inn": s["our_inn"],
            "sbis.our_kpp": s["our_kpp"],
            "sbis.our_name": s["our_name"],
        }

    def add_counterparty(
        self, counterparty: Counterparty, scenario: str | None = None, **plan: Any
    ) -> str:
        """How the counterparty behaves; ``plan``: ``reachable``, ``operator`` (a roaming
        box is another operator's id). Returns its INN, SBIS's key for it."""
        self._plan(
            counterparty.inn,
            scenario=scenario,
            ogrn=counterparty.ogrn,
            full_name=counterparty.signatory.full_name,
            position=counterparty.signatory.position,
            **plan,
        )
        return counterparty.inn

    def _plan(self, inn: str, **plan: Any) -> None:
        if plan.get("scenario"):
            parse_scenario(str(plan["scenario"]))  # refuse a bad scenario up front
        unknown = set(plan) - {f.name for f in dataclasses.fields(PartyPlan)}
        if unknown:
            raise ValidationError("counterparty", f"unknown options {sorted(unknown)}")
        with self.world.lock:
            self.world.plans[inn] = PartyPlan(**plan)

    def documents_for_key(self, idempotency_key: str) -> int:
        """The document behind the key's ``Идентификатор`` and its twins: a second
        document for one send would carry another id but the same number."""
        with self.world.lock:
            doc = self.world.documents.get(document_uuid(idempotency_key))
            if doc is None:
                return 0
            return sum(1 for d in self.world.documents.values() if d.number == doc.number)

    def signatures_for_key(self, idempotency_key: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self.world.lock:
            doc = self.world.documents.get(document_uuid(idempotency_key))
            # The contract is the first attachment that is not a service file (receipts).
            main = next((a for a in doc.attachments if not a.service), None) if doc else None
            for sig in main.signatures if main else []:
                found["ours" if sig.inn == self.world.our_inn else "counterparty"] = sig.data
        return found

    def documents_numbered(self, number: str) -> int:
        with self.world.lock:
            return sum(1 for d in self.world.documents.values() if d.number == number)

    def state(self) -> dict[str, Any]:
        docs = list(self.world.documents.values())
        return {
            **super().state(),
            "documents": len(docs),
            "sent": sum(1 for d in docs if d.sent),
            "states": {d.id: str(d.state) for d in docs},
            "events": len(self.world.events),
        }

    # -- auth ---------------------------------------------------------------

    def _oauth(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return _json_response({"error": "Некорректный запрос"}, 400)
        s = self.options
        given = {k: as_dict(body).get(k) for k in ("app_client_id", "app_secret", "secret_key")}
        if given != {k: s[k] for k in given}:
            return _json_response({"error": "Неверные параметры авторизации"}, 401)
        token = self.world.issue_credential()
        return _json_response({"token": token, "sid": token})

    def _expired(self, request_id: Any) -> Response:
        if self.expire_mode == "string":
            return _json_response({"error": "Unauthorized"}, 401)
        return _json_response(
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": -32001,
                    "message": "Сессия истекла или не найдена",
                    "details": "Требуется повторная авторизация",
                    "type": "error",
                },
                "id": request_id,
            },
            401,
        )

    # -- JSON-RPC -----------------------------------------------------------

    def _rpc(self, request: Request, *, auth: bool) -> Response:
        ctype = request.headers.get("Content-Type", "")
        if "application/json-rpc" not in ctype or "charset=utf-8" not in ctype.lower():
            # Without the charset SBIS reads the body as cp1251 and cannot parse it.
            return self._error(None, FakeError("Parse error", code=-32700, http=400))
        try:
            body = json.loads(request.get_data().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._error(None, FakeError("Parse error", code=-32700, http=400))
        if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or "method" not in body:
            return self._error(None, FakeError("Invalid Request", code=-32600, http=400))
        request_id = body.get("id")
        method = str(body["method"])
        params = as_dict(body.get("params"))
        self.rpc_log.append(method)
        if auth:
            if method != M_AUTH:
                return self._error(request_id, FakeError("Method not found", code=-32601, http=404))
            return self._authenticate(request_id, params)
        self.world.rpc_calls += 1
        if self.expire_every and self.world.rpc_calls % self.expire_every == 0:
            self.world.expire_credentials()  # the session dies mid-run
        if not self.authorized(request):
            return self._expired(request_id)
        handler = self.methods.get(method)
        if handler is None:
            return self._error(request_id, FakeError("Method not found", code=-32601, http=404))
        try:
            with self.world.lock:
                result = handler(params, request.host_url.rstrip("/"))
        except FakeError as exc:
            return self._error(request_id, exc)
        return _json_response({"jsonrpc": "2.0", "result": result, "id": request_id})

    @staticmethod
    def _error(request_id: Any, exc: FakeError) -> Response:
        if exc.http == 503:
            return Response(exc.message, status=503, content_type="text/plain; charset=utf-8")
        return _json_response(
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": exc.code,
                    "message": exc.message,
                    "details": exc.details,
                    "type": "error",
                    "data": {"classid": None, "error_code": exc.code},
                },
                "id": request_id,
            },
            exc.http,
        )

    def _authenticate(self, request_id: Any, params: dict[str, Any]) -> Response:
        given = as_dict(params.get("Параметр"))
        if (given.get("Логин"), given.get("Пароль")) != (
            self.options["login"],
            self.options["password"],
        ):
            return self._error(
                request_id,
                FakeError("Неверный логин или пароль", code=-32001, http=401),
            )
        sid = self.world.issue_credential()
        return _json_response({"jsonrpc": "2.0", "result": sid, "id": request_id})

    # -- methods ------------------------------------------------------------

    def _document(self, params: dict[str, Any]) -> Document:
        doc_in = as_dict(_required(params, "Документ", "params"))
        doc_id = str(_required(doc_in, "Идентификатор", "Документ"))
        doc = self.world.documents.get(doc_id)
        if doc is None:
            raise FakeError("Документ не найден", f"Документ {doc_id} не найден")
        return doc

    def _write(self, params: dict[str, Any], base: str) -> Any:
        doc_in = as_dict(_required(params, "Документ", "params"))
        doc_id = str(doc_in.get("Идентификатор") or uuid.uuid4())
        doc_type = str(_required(doc_in, "Тип", "Документ"))
        date = str(doc_in.get("Дата") or "")
        if date and not _DATE_RE.fullmatch(date):
            raise invalid("Документ.Дата", "формат ДД.ММ.ГГГГ")
        ours = as_dict(_required(doc_in, "НашаОрганизация", "Документ"))
        our_inn = as_dict(ours.get("СвЮЛ") or ours.get("СвФЛ")).get("ИНН")
        if our_inn != self.world.our_inn:
            raise FakeError(
                "Организация не найдена",
                f"НашаОрганизация.ИНН {our_inn!r} не подключена к этому аккаунту",
            )
        party = as_dict(_required(doc_in, "Контрагент", "Документ"))
        card = as_dict(party.get("СвЮЛ") or party.get("СвФЛ"))
        inn = str(card.get("ИНН") or "")
        if not inn:
            raise invalid("Документ.Контрагент", "нужен СвЮЛ или СвФЛ с ИНН")
        if "СвЮЛ" in party and (len(inn) != 10 or not card.get("КПП")):
            raise invalid("Документ.Контрагент.СвЮЛ", "ИНН из 10 цифр и КПП")
        if "СвФЛ" in party and len(inn) != 12:
            raise invalid("Документ.Контрагент.СвФЛ.ИНН", "12 цифр")
        attachments = []
        for n, item in enumerate(as_list(_required(doc_in, "Вложение", "Документ"))):
            att = as_dict(item)
            file = as_dict(_required(att, "Файл", f"Вложение[{n}]"))
            name = str(_required(file, "Имя", f"Вложение[{n}].Файл"))
            try:
                data = base64.b64decode(
                    str(_required(file, "ДвоичныеДанные", f"Вложение[{n}].Файл")), validate=True
                )
            except (binascii.Error, ValueError):
                raise invalid(f"Вложение[{n}].Файл.ДвоичныеДанные", "не base64") from None
            attachments.append(
                Attachment(id=str(att.get("Идентификатор") or uuid.uuid4()), name=name, data=data)
            )
        # flaky:K: the first K writes of a document fail and store nothing.
        attempts = self.world.write_attempts.get(doc_id, 0) + 1
        self.world.write_attempts[doc_id] = attempts
        if attempts <= self.world.scenario_for(inn).failing_calls:
            raise FakeError("Сервис временно недоступен", http=503)
        existing = self.world.documents.get(doc_id)
        if existing is not None:
            existing.writes += 1
            if existing.sent:
                raise FakeError(
                    "Документ уже отправлен", "Изменение отправленного документа невозможно"
                )
            # Same Идентификатор: the draft is updated, not duplicated.
            existing.type, existing.number, existing.date = (
                doc_type,
                str(doc_in.get("Номер", "")),
                date,
            )
            existing.ours, existing.party, existing.party_inn = ours, party, inn
            existing.attachments = attachments
            existing.prepared = False
            return document_view(self.world, base, existing)
        doc = Document(
            id=doc_id,
            type=doc_type,
            number=str(doc_in.get("Номер", "")),
            date=date,
            ours=ours,
            party=party,
            party_inn=inn,
            attachments=attachments,
            writes=1,
        )
        self.world.documents[doc_id] = doc
        return document_view(self.world, base, doc)

    @staticmethod
    def _stage_and_action(doc_in: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        stages = [as_dict(s) for s in as_list(_required(doc_in, "Этап", "Документ"))]
        stage = stages[0]
        actions = [as_dict(a) for a in as_list(_required(stage, "Действие", "Этап"))]
        return stage, actions[0]

    def _prepare(self, params: dict[str, Any], base: str) -> Any:
        doc = self._document(params)
        doc_in = as_dict(params["Документ"])
        stage, action = self._stage_and_action(doc_in)
        if stage.get("Название") not in (STAGE_SEND, None) or action.get("Название") != ACTION_SEND:
            raise FakeError("Действие недоступно", "Доступно только Отправка/Отправить")
        certs = [as_dict(c) for c in as_list(action.get("Сертификат"))]
        if not certs or not certs[0].get("Отпечаток"):
            raise invalid("Этап.Действие.Сертификат.Отпечаток", "обязательное поле")
        if doc.sent:
            raise FakeError("Действие недоступно", "Этап «Отправка» уже выполнен")
        if self.sign_extra and not any(a.name == "Сопроводительное.xml" for a in doc.attachments):
            cover = f'<Сопроводительное Документ="{doc.id}"/>'.encode()
            doc.attachments.append(Attachment(str(uuid.uuid4()), "Сопроводительное.xml", cover))
        doc.prepared = True
        view = document_view(self.world, base, doc)
        view["Этап"] = [stage_view(self.world, base, doc, with_files=True)]
        return view

    def _execute(self, params: dict[str, Any], base: str) -> Any:
        doc = self._document(params)
        doc_in = as_dict(params["Документ"])
        stage, action = self._stage_and_action(doc_in)
        if doc.sent:
            raise FakeError("Действие недоступно", "Этап «Отправка» уже выполнен")
        if stage.get("Идентификатор") not in (None, "", doc.stage_id):
            raise FakeError("Этап не найден", f"Этап {stage.get('Идентификатор')} не найден")
        if action.get("Название") != ACTION_SEND:
            raise FakeError("Действие недоступно", f"Действие {action.get('Название')!r}")
        if not doc.prepared:
            raise FakeError("Действие не подготовлено", "Сначала СБИС.ПодготовитьДействие")
        given = {
            str(as_dict(a).get("Идентификатор")): as_dict(a) for a in as_list(stage.get("Вложение"))
        }
        ours: list[tuple[Attachment, Signature]] = []
        for att in doc.attachments:
            if not att.to_sign or att.service:
                continue
            sig_in = [as_dict(s) for s in as_list(given.get(att.id, {}).get("Подпись"))]
            if not sig_in:
                raise invalid(f"Этап.Вложение[{att.id}].Подпись", "нет подписи вложения")
            file = as_dict(sig_in[0].get("Файл"))
            try:
                data = base64.b64decode(str(file.get("ДвоичныеДанные", "")), validate=True)
                matches = digest_matches(data, att.data)
                thumb = thumbprint_of(data)
            except (binascii.Error, ValueError, TypeError, KeyError):
                raise invalid(f"Этап.Вложение[{att.id}].Подпись", "не подпись CMS") from None
            if not matches:
                raise FakeError("Подпись недействительна", f"Подпись не соответствует {att.name}")
            sig = Signature(
                file_name=str(file.get("Имя") or f"{att.name}.sig"),
                data=data,
                inn=self.world.our_inn,
                fio="",
                thumbprint=thumb,
            )
            ours.append((att, sig))
        for att, sig in ours:
            att.signatures.append(sig)
        doc.sent = True
        doc.state = "sent"
        doc.scenario = self.world.scenario_for(doc.party_inn)
        doc.done = doc.scenario.last_poll == 0
        self.world.add_event(doc, "Отправка", "", tuple(a.id for a, _ in ours))
        return document_view(self.world, base, doc)

    def _read(self, params: dict[str, Any], base: str) -> Any:
        return document_view(self.world, base, self._document(params))

    def _changes(self, params: dict[str, Any], base: str) -> Any:
        flt = as_dict(_required(params, "Фильтр", "params"))
        since_text = flt.get("ДатаВремяС")
        event_id = flt.get("ИдентификаторСобытия")
        if not since_text and not event_id:
            raise invalid("Фильтр.ДатаВремяС", "обязательное поле")
        try:
            since = parse_datetime(str(since_text)) if since_text else None
        except ValueError:
            raise invalid("Фильтр.ДатаВремяС", "формат ДД.ММ.ГГГГ ЧЧ.ММ.СС") from None
        nav = as_dict(flt.get("Навигация"))
        try:
            page = int(nav.get("Страница", 0) or 0)
            size = int(nav.get("РазмерСтраницы", 25) or 25)
        except ValueError:
            raise invalid("Фильтр.Навигация", "целые числа") from None
        if not 1 <= size <= 200 or page < 0:
            raise invalid("Фильтр.Навигация.РазмерСтраницы", "от 1 до 200")
        pending = self.world.after(event_id and str(event_id), since)
        if page == 0 and not pending:
            self.world.advance()
            pending = self.world.after(event_id and str(event_id), since)
        chunk = pending[page * size : (page + 1) * size]
        entries = []
        for event in chunk:
            doc = self.world.documents[event.document_id]
            entry = document_view(self.world, base, doc, events=[event])
            entries.append(entry)
            if self.repeat_rate and self.rng.random() < self.repeat_rate:
                entries.append(entry)  # SBIS may list the same change twice
        if self.shuffle:
            self.rng.shuffle(entries)  # SBIS does not promise an order
        more = len(pending) > (page + 1) * size
        return {"Документ": entries, "Навигация": {"ЕстьЕще": YES if more else "Нет"}}

    def _party(self, params: dict[str, Any], base: str) -> Any:
        member = as_dict(_required(params, "Участник", "params"))
        card = as_dict(member.get("СвЮЛ") or member.get("СвФЛ"))
        inn = str(card.get("ИНН") or "")
        if not inn:
            raise invalid("Участник", "нужен СвЮЛ или СвФЛ с ИНН")
        plan = self.world.plan(inn)
        if not plan.reachable:
            raise FakeError("Контрагент не найден", f"Участник ЭДО с ИНН {inn} не найден")
        kpp = str(card.get("КПП") or "")
        suffix = uuid.uuid5(uuid.NAMESPACE_OID, f"{inn}-{kpp}").hex
        box = {
            "ИдентификаторУчастника": f"{plan.operator}-{suffix}",
            "Оператор": {"Идентификатор": plan.operator, "Название": "Оператор ЭДО"},
            "Роуминг": "Нет" if plan.operator == "2BE" else YES,
            "Основной": YES,
            "СостояниеПодключения": {"Код": "1", "Описание": "Подключен"},
        }
        key = "СвЮЛ" if "СвЮЛ" in member else "СвФЛ"
        return {"Идентификатор": [box], key: card}

    # -- files and control ----------------------------------------------------

    def _download(self, request: Request) -> Response:
        token = request.path.rsplit("/", 1)[-1]
        data = self.world.files.get(token)
        if data is None:
            return Response("Not Found", status=404)
        return Response(data, content_type="application/octet-stream")


__all__ = ["SbisFake", "event_view"]
