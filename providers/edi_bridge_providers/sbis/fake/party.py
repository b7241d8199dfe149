"""The SBIS fake's answer to a counterparty lookup (``СБИС.ИнформацияОКонтрагенте``)."""

from __future__ import annotations

import uuid
from typing import Any

from ..wire import YES, as_dict
from .world import FakeError, World, invalid


def party_answer(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """``СБИС.ИнформацияОКонтрагенте``: the counterparty's EDI box, as the fake plans it."""
    member = as_dict(params.get("Участник"))
    if not member:
        raise invalid("params.Участник", "обязательное поле")
    card = as_dict(member.get("СвЮЛ") or member.get("СвФЛ"))
    inn = str(card.get("ИНН") or "")
    if not inn:
        raise invalid("Участник", "нужен СвЮЛ или СвФЛ с ИНН")
    plan = world.plan(inn)
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


__all__ = ["party_answer"]
