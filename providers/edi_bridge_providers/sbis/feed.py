"""Reading ``СБИС.СписокИзменений`` into normalized provider events.

SBIS lists one ``Документ`` entry per event, unordered, and may repeat an
entry on a later page. We read every page of a poll, drop repeated event ids,
and hand the events over in time order. The cursor is the last event's id and
date-time, which is what the next ``Фильтр`` asks from.

The official table of event names and state codes is not published; events
are classified by name (tolerantly, by stem) and the raw document state is kept
with every event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from edi_bridge.provider import EventFile, ProviderEvent, ProviderEventKind

from .wire import YES, as_dict, as_list, format_datetime, parse_datetime

# Stems of SBIS event names, by what they mean for a document we sent. A name about an
# annulment is read first (see :func:`classify`).
# «Уведомление о приеме» / «…об уточнении» are approval / refusal as SBIS's own published
# 1C processing reads its events (saby-integration/vo2_core, ЛентаДокумента).
_KIND_STEMS: tuple[tuple[ProviderEventKind, tuple[str, ...]], ...] = (
    (ProviderEventKind.REJECTED, ("отклон", "отказ", "уведомление об уточнении")),
    (ProviderEventKind.SIGNED, ("утвержд", "подписан", "уведомление о приеме")),
    (ProviderEventKind.DELIVERED, ("получ", "доставк", "доставлен")),
)
# Events in the same second are applied in their natural order.
_RANK = {
    ProviderEventKind.DELIVERED: 0,
    ProviderEventKind.SIGNED: 1,
    ProviderEventKind.REJECTED: 1,
    ProviderEventKind.REVOCATION_REQUESTED: 2,
    ProviderEventKind.REVOCATION_REJECTED: 2,
    ProviderEventKind.REVOKED: 3,
}


# The reason kept when the event carries no comment.
_REASONS = {
    ProviderEventKind.REJECTED: "rejected without a comment",
    ProviderEventKind.REVOKED: "the document was annulled",
    ProviderEventKind.REVOCATION_REQUESTED: "the counterparty asks to annul the document",
    ProviderEventKind.REVOCATION_REJECTED: "the counterparty refused to annul the document",
}


def _has(name: str, stem: str) -> bool:
    return name.startswith(stem) or f" {stem}" in name


def classify(event_name: str) -> ProviderEventKind | None:
    """What an SBIS event name means; ``None`` for our own steps (Отправка…).

    About an annulment: «Получение соглашения об аннулировании» is the counterparty's request
    (confirmed, sbis.ru/help/eng_api/get_inc_doc); our own (``Отправка…``) is not news; a
    refusal of it (``Отклон…``/``Отказ…``, unconfirmed) leaves the document in force; any
    other (``Аннулирование``) is the annulment done.
    """
    name = event_name.strip().lower()
    if _has(name, "аннулир"):
        if name.startswith("получ"):
            return ProviderEventKind.REVOCATION_REQUESTED
        if name.startswith("отправ"):
            return None
        if _has(name, "отклон") or _has(name, "отказ"):
            return ProviderEventKind.REVOCATION_REJECTED
        return ProviderEventKind.REVOKED
    for kind, stems in _KIND_STEMS:
        if any(_has(name, stem) for stem in stems):
            return kind
    return None


@dataclasses.dataclass(frozen=True)
class Cursor:
    event_id: str
    at: str  # SBIS date-time text, as the server wrote it

    def dump(self) -> str:
        return json.dumps({"id": self.event_id, "at": self.at}, ensure_ascii=False)

    @classmethod
    def load(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["id"]), str(data["at"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclasses.dataclass(frozen=True)
class RawEvent:
    """One SBIS event with the document entry it came in."""

    event_id: str
    name: str
    at_text: str
    at: dt.datetime
    comment: str
    event: Mapping[str, Any]
    document: Mapping[str, Any]

    @property
    def kind(self) -> ProviderEventKind | None:
        return classify(self.name)

    @property
    def document_id(self) -> str:
        return str(self.document.get("Идентификатор", ""))

    def sort_key(self) -> tuple[dt.datetime, int, str]:
        kind = self.kind
        return (self.at, _RANK.get(kind, -1) if kind else -1, self.event_id)

    @property
    def concerns_us(self) -> bool:
        """A counterparty's step on a document we sent (not ours, not an incoming one)."""
        direction = str(self.document.get("Направление", ""))
        return self.kind is not None and not direction.startswith("Вход")

    def their_signature_file(self, our_inn: str) -> dict[str, Any] | None:
        """The ``Файл`` of the counterparty's latest signature on the document's files."""
        attachments = as_list(self.event.get("Вложение")) or as_list(self.document.get("Вложение"))
        theirs = [
            as_dict(sig)
            for att in attachments
            if as_dict(att).get("Служебный") != YES
            for sig in as_list(as_dict(att).get("Подпись"))
            if as_dict(as_dict(sig).get("Сертификат")).get("ИНН") != our_inn
        ]
        return as_dict(theirs[-1].get("Файл")) if theirs else None

    def their_attachment(self, our_inn: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The event's file the counterparty signed (an agreement to annul), with the
        ``Файл`` of its signature."""
        for att in as_list(self.event.get("Вложение")):
            found = as_dict(att)
            for sig in as_list(found.get("Подпись")):
                if as_dict(as_dict(sig).get("Сертификат")).get("ИНН") != our_inn:
                    return as_dict(found.get("Файл")), as_dict(as_dict(sig).get("Файл"))
        return None

    def normalized(
        self,
        signature: bytes | None,
        *,
        kind: ProviderEventKind | None = None,
        files: tuple[EventFile, ...] = (),
    ) -> ProviderEvent:
        """The library's event (``kind`` must be set: see :attr:`concerns_us`)."""
        kind = kind or self.kind
        assert kind is not None
        default = _REASONS.get(kind)
        return ProviderEvent(
            event_id=self.event_id,
            kind=kind,
            document_id=self.document_id,
            at=self.at,
            reason=(self.comment or default) if default else None,
            signature=signature,
            raw=self.raw(),
            files=files,
        )

    def raw(self) -> dict[str, Any]:
        """What is kept with the normalized event (no file contents)."""
        return {
            "document": self.document_id,
            "event": {
                "Идентификатор": self.event_id,
                "Название": self.name,
                "ДатаВремя": self.at_text,
                "Комментарий": self.comment,
            },
            "state": as_dict(self.document.get("Состояние")),
        }


def events_of(documents: Iterable[Any]) -> list[RawEvent]:
    """Every event in the ``Документ`` entries of one or more pages."""
    out: list[RawEvent] = []
    for entry in documents:
        document = as_dict(entry)
        for item in as_list(document.get("Событие")):
            event = as_dict(item)
            event_id = str(event.get("Идентификатор") or "")
            at_text = str(event.get("ДатаВремя") or "")
            if not event_id or not at_text:
                continue  # nothing to de-duplicate or order by; not an event
            try:
                at = parse_datetime(at_text)
            except ValueError:
                continue
            out.append(
                RawEvent(
                    event_id=event_id,
                    name=str(event.get("Название") or ""),
                    at_text=at_text,
                    at=at,
                    comment=str(event.get("Комментарий") or ""),
                    event=event,
                    document=document,
                )
            )
    return out


def dedupe_sorted(events: Iterable[RawEvent], after: Cursor | None) -> list[RawEvent]:
    """Unique by event id, in time order, without the cursor's own event."""
    seen: dict[str, RawEvent] = {}
    for event in events:
        if after is not None and event.event_id == after.event_id:
            continue
        seen.setdefault(event.event_id, event)
    return sorted(seen.values(), key=RawEvent.sort_key)


def changes_filter(cursor: Cursor | None, since: str, page: int, page_size: int) -> dict[str, Any]:
    flt: dict[str, Any] = {
        "ДатаВремяС": cursor.at if cursor else since,
        "Навигация": {"Страница": str(page), "РазмерСтраницы": str(page_size)},
    }
    if cursor is not None:
        flt["ИдентификаторСобытия"] = cursor.event_id
    return {"Фильтр": flt}


def has_more(result: Mapping[str, Any]) -> bool:
    nav = as_dict(result.get("Навигация"))
    return str(nav.get("ЕстьЕще", "Нет")).strip().lower() in ("да", "true", "1")


def now_text() -> str:
    return format_datetime(dt.datetime.now(dt.UTC))


StoredFile = tuple[str, str, dict[str, Any], bool]


def stored_files(document: Mapping[str, Any], our_inn: str) -> list[StoredFile]:
    """``(role, name, Файл, is_signature)`` of every file and signature of a read document
    (``СБИС.ПрочитатьДокумент``), names made unique."""
    out: list[StoredFile] = []
    names: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 1
        while candidate in names:
            n += 1
            candidate = f"{n}-{name}"
        names.add(candidate)
        return candidate

    for item in as_list(document.get("Вложение")):
        att = as_dict(item)
        file = as_dict(att.get("Файл"))
        name = str(file.get("Имя") or att.get("Идентификатор") or "file")
        service = att.get("Служебный") == YES
        out.append(("receipt" if service else "document", unique(name), file, False))
        for sig_item in as_list(att.get("Подпись")):
            sig = as_dict(sig_item)
            ours = as_dict(sig.get("Сертификат")).get("ИНН") == our_inn
            role = "our_signature" if ours else "counterparty_signature"
            sig_file = as_dict(sig.get("Файл"))
            sig_name = str(sig_file.get("Имя") or f"{name}.sig")
            out.append(("receipt" if service else role, unique(sig_name), sig_file, True))
    return out


__all__ = [
    "Cursor",
    "RawEvent",
    "StoredFile",
    "changes_filter",
    "classify",
    "dedupe_sorted",
    "events_of",
    "has_more",
    "stored_files",
]
