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

from edi_bridge.provider import ProviderEventKind

from .wire import as_dict, as_list, format_datetime, parse_datetime

# Stems of SBIS event names, by what they mean for a document we sent.
_KIND_STEMS: tuple[tuple[ProviderEventKind, tuple[str, ...]], ...] = (
    (ProviderEventKind.REVOKED, ("аннулир",)),
    (ProviderEventKind.REJECTED, ("отклон", "отказ")),
    (ProviderEventKind.SIGNED, ("утвержд", "подписан")),
    (ProviderEventKind.DELIVERED, ("получ", "доставк", "доставлен")),
)
# Events in the same second are applied in their natural order.
_RANK = {
    ProviderEventKind.DELIVERED: 0,
    ProviderEventKind.SIGNED: 1,
    ProviderEventKind.REJECTED: 1,
    ProviderEventKind.REVOKED: 2,
}


def classify(event_name: str) -> ProviderEventKind | None:
    """What an SBIS event name means; ``None`` for our own steps (Отправка…)."""
    name = event_name.strip().lower()
    for kind, stems in _KIND_STEMS:
        if any(name.startswith(stem) or f" {stem}" in name for stem in stems):
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


__all__ = [
    "Cursor",
    "RawEvent",
    "changes_filter",
    "classify",
    "dedupe_sorted",
    "events_of",
    "has_more",
]
