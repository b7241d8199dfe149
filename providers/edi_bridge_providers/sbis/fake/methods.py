"""The SBIS fake's JSON-RPC methods: write, prepare and execute the sending stage,
read, list changes, look up a counterparty. Mixed into :class:`.app.SbisFake`."""

from __future__ import annotations

import base64
import binascii
import random
import re
import uuid
from collections.abc import Mapping
from typing import Any

from ..wire import (
    ACTION_SEND,
    M_CHANGES,
    M_EXECUTE,
    M_PARTY,
    M_PREPARE,
    M_READ,
    M_WRITE,
    STAGE_SEND,
    YES,
    as_dict,
    as_list,
    parse_datetime,
)
from . import annulment, service
from .cms import stage_signature
from .party import party_answer
from .views import document_view, prepared_view, stage_view
from .world import (
    Attachment,
    Document,
    FakeError,
    Signature,
    World,
    invalid,
)

_DATE_RE = re.compile(r"\d{2}\.\d{2}\.\d{4}")


def _required(obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = obj.get(key)
    if value in (None, "", [], {}):
        raise invalid(f"{where}.{key}", "обязательное поле")
    return value


class Methods:
    """SBIS's methods over the fake's world (one request at a time, under its lock)."""

    world: World
    rng: random.Random
    shuffle: bool
    repeat_rate: float
    sign_extra: bool

    def method_table(self) -> dict[str, Any]:
        """SBIS's method names and the fake's handlers (``handler(params, base)``)."""
        world = self.world
        return {
            M_WRITE: self._write,
            M_PREPARE: self._prepare,
            M_EXECUTE: self._execute,
            M_READ: self._read,
            M_CHANGES: self._changes,
            M_PARTY: lambda params, _base: party_answer(world, params),
            service.M_SERVICE_INFO: lambda params, _base: service.info(world, params),
            service.M_SERVICE_LIST: lambda params, base: service.listing(world, base, params),
        }

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
        if doc.sent and action.get("Название") == service.ACTION_SERVICE:
            return prepared_view(self.world, base, doc, service.prepare(self.world, doc, stage))
        if doc.sent and action.get("Название") != ACTION_SEND:
            files = annulment.prepare(self.world, doc, stage, action)
            return prepared_view(self.world, base, doc, files)
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
        if doc.sent and action.get("Название") == service.ACTION_SERVICE:
            service.execute(self.world, doc, stage)
            return document_view(self.world, base, doc)
        if doc.sent and action.get("Название") != ACTION_SEND:
            annulment.execute(self.world, doc, stage, action)
            return document_view(self.world, base, doc)
        if doc.sent:
            raise FakeError("Действие недоступно", "Этап «Отправка» уже выполнен")
        if stage.get("Идентификатор") not in (None, "", doc.stage_id):
            raise FakeError("Этап не найден", f"Этап {stage.get('Идентификатор')} не найден")
        if action.get("Название") != ACTION_SEND:
            raise FakeError("Действие недоступно", f"Действие {action.get('Название')!r}")
        if not doc.prepared:
            raise FakeError("Действие не подготовлено", "Сначала СБИС.ПодготовитьДействие")
        ours: list[tuple[Attachment, Signature]] = []
        for att in doc.attachments:
            if not att.to_sign or att.service:
                continue
            data, thumb, sig_name = stage_signature(stage, att.id, att.name, att.data)
            sig = Signature(
                file_name=sig_name,
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
        service.on_sent(self.world, doc)
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


__all__ = ["Methods"]
