"""The SBIS fake's annulment (аннулирование): our request, the counterparty's, the answers.

As SBIS (see :mod:`edi_bridge_providers.sbis.revocation` for the sources): a signed document
offers the stage «Аннулирование» with the action «Аннулировать»; preparing it gives the
agreement file to sign, executing it takes our signature and the reason as the action's
``Комментарий``. The counterparty's request is the event «Получение соглашения об
аннулировании»; accepted, the document is «Аннулирован по соглашению».

The fake's own choices (*unconfirmed*): the stage offered to answer the counterparty's
request («Утверждение» with «Утвердить» / «Отклонить», the latter needing a comment), the
agreement file's name and content, the name of the event for our own request («Отправка
соглашения об аннулировании»), the counterparty's answers to ours («Аннулирование» when it
accepts, «Отклонение» with its reason when it refuses), a refusal asking nothing to sign,
and that our own answers add no event.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from edi_bridge.fakes.page import THEY_ASKED, WE_ASKED
from edi_bridge.fakes.scenario import Play

from ..revocation import ACTION_ANNUL, ACTION_APPROVE, ACTION_REJECT, STAGE_ANNUL
from ..wire import YES, as_dict, as_list, format_datetime
from .cms import stage_signature

if TYPE_CHECKING:
    from .world import Attachment, Document, World

OURS, THEIRS = "ours", "theirs"
STAGE_APPROVE = "Утверждение"
EV_THEIR_REQUEST = "Получение соглашения об аннулировании"  # SBIS's name (get_inc_doc)
EV_OUR_REQUEST = "Отправка соглашения об аннулировании"  # unconfirmed
EV_ACCEPTED = "Аннулирование"  # unconfirmed as the name of the answer
EV_REFUSED = "Отклонение"  # unconfirmed as the name of the answer
CAN_ASK = (Play.SIGNED, Play.REVOCATION_REJECTED)


def _fail(message: str, details: str) -> Exception:
    from .world import FakeError

    return FakeError(message, details)


def _invalid(field: str, rule: str) -> Exception:
    from .world import invalid

    return invalid(field, rule)


def stages(doc: Document) -> list[dict[str, Any]]:
    """The annulment stages the document offers us now (``Документ.Этап``)."""
    if doc.annulment == THEIRS:
        actions = [
            {"Название": ACTION_APPROVE, "ТребуетПодписания": YES, "ТребуетКомментария": "Нет"},
            {"Название": ACTION_REJECT, "ТребуетПодписания": "Нет", "ТребуетКомментария": YES},
        ]
        return [
            {"Идентификатор": doc.annul_stage_id, "Название": STAGE_APPROVE, "Действие": actions}
        ]
    if doc.sent and doc.annulment is None and doc.state in CAN_ASK:
        action = {"Название": ACTION_ANNUL, "ТребуетПодписания": YES, "ТребуетКомментария": YES}
        return [
            {"Идентификатор": doc.annul_stage_id, "Название": STAGE_ANNUL, "Действие": [action]}
        ]
    return []


def agreement(world: World, doc: Document, inn: str, reason: str) -> Attachment:
    """The agreement to annul, as the fake writes it (its own format)."""
    from .world import Attachment

    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<СоглашениеОбАннулировании Документ={quoteattr(doc.id)} Инициатор={quoteattr(inn)} "
        f"ДатаВремя={quoteattr(format_datetime(world.now()))} Причина={quoteattr(reason)}/>\n"
    ).encode()
    n = sum(1 for a in doc.attachments if a.name.startswith("Соглашение_об_аннулировании"))
    name = f"Соглашение_об_аннулировании_{n + 1}.xml"
    return Attachment(id=str(uuid.uuid4()), name=name, data=body, to_sign=False)


def prepare(
    world: World, doc: Document, stage: dict[str, Any], action: dict[str, Any]
) -> list[Attachment]:
    """``ПодготовитьДействие`` on an annulment stage: the files to sign."""
    name = str(action.get("Название") or "")
    offered = {str(a["Название"]) for s in stages(doc) for a in s["Действие"]}
    if name not in offered or stage.get("Название") not in (
        None,
        *(s["Название"] for s in stages(doc)),
    ):
        raise _fail("Действие недоступно", f"Действие {name!r} недоступно на этом этапе")
    certs = [as_dict(c) for c in as_list(action.get("Сертификат"))]
    if not certs or not certs[0].get("Отпечаток"):
        raise _invalid("Этап.Действие.Сертификат.Отпечаток", "обязательное поле")
    comment = str(action.get("Комментарий") or "").strip()
    if name in (ACTION_ANNUL, ACTION_REJECT) and not comment:
        raise _invalid("Этап.Действие.Комментарий", "обязательное поле")
    doc.prepared_action = name
    if name == ACTION_ANNUL:
        doc.pending = agreement(world, doc, world.our_inn, comment)
    elif name == ACTION_APPROVE:
        doc.pending = next(a for a in reversed(doc.attachments) if a.name.startswith("Соглашение"))
    else:
        doc.pending = None
    return [doc.pending] if doc.pending is not None else []


def execute(world: World, doc: Document, stage: dict[str, Any], action: dict[str, Any]) -> None:
    """``ВыполнитьДействие`` on a prepared annulment stage."""
    from .world import Signature

    name = str(action.get("Название") or "")
    if doc.prepared_action != name:
        raise _fail("Действие не подготовлено", "Сначала СБИС.ПодготовитьДействие")
    if stage.get("Идентификатор") not in (None, "", doc.annul_stage_id):
        raise _fail("Этап не найден", f"Этап {stage.get('Идентификатор')} не найден")
    pending = doc.pending
    if pending is not None:
        data, thumb, sig_name = stage_signature(stage, pending.id, pending.name, pending.data)
        pending.signatures.append(Signature(sig_name, data, world.our_inn, "", thumb))
    comment = str(action.get("Комментарий") or "").strip()
    doc.prepared_action, doc.pending = None, None
    if name == ACTION_ANNUL:
        assert pending is not None
        doc.attachments.append(pending)
        doc.annulment, doc.state = OURS, WE_ASKED
        world.add_event(doc, EV_OUR_REQUEST, comment, (pending.id,))
    elif name == ACTION_APPROVE:
        doc.annulment, doc.state = None, Play.REVOCATION_ACCEPTED
    else:
        doc.annulment, doc.state = None, Play.REVOCATION_REJECTED


def play_request(world: World, doc: Document, reason: str) -> None:
    """The counterparty asks to annul (signed by it), with ``reason``."""
    if doc.annulment is not None or doc.state not in CAN_ASK:
        return
    att = agreement(world, doc, doc.party_inn, reason)
    att.signatures.append(world._counterparty_signature(doc, att))
    doc.attachments.append(att)
    doc.annulment, doc.state = THEIRS, THEY_ASKED
    world.add_event(doc, EV_THEIR_REQUEST, reason, (att.id,))


def play_answer(world: World, doc: Document, play: Play, reason: str) -> None:
    """The counterparty answers our request: accepts (signs the agreement) or refuses."""
    if doc.annulment != OURS:
        return
    att = next(a for a in reversed(doc.attachments) if a.name.startswith("Соглашение"))
    doc.annulment = None
    if play is Play.REVOCATION_ACCEPTED:
        att.signatures.append(world._counterparty_signature(doc, att))
        doc.state = Play.REVOCATION_ACCEPTED
        world.add_event(doc, EV_ACCEPTED, "", (att.id,))
    else:
        doc.state = Play.REVOCATION_REJECTED
        world.add_event(doc, EV_REFUSED, reason or "отказано в аннулировании")


def answer_due(world: World, doc: Document) -> None:
    """On a poll that read everything: the counterparty answers our open request as its
    scenario says (unless the page plays it)."""
    if doc.annulment != OURS or doc.manual:
        return
    scenario = doc.scenario or world.scenario_for(doc.party_inn)
    answer = scenario.revocation_answer()
    if answer is not None:
        play_answer(world, doc, answer[0], answer[1] or "")


__all__ = [
    "EV_OUR_REQUEST",
    "EV_THEIR_REQUEST",
    "OURS",
    "THEIRS",
    "answer_due",
    "execute",
    "play_answer",
    "play_request",
    "prepare",
    "stages",
]
