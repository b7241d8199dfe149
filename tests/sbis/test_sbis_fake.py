"""The SBIS fake answers like SBIS: envelopes, required fields, shapes, idempotency."""

from __future__ import annotations

import base64

import pytest

from edi_bridge.errors import ValidationError
from edi_bridge.testing import sample_counterparty

from .conftest import SbisWorld
from .helpers import rpc, session

OUR = {"СвЮЛ": {"ИНН": "7707083893", "КПП": "773601001", "Название": "ООО «Поставщик»"}}
THEM = {"СвЮЛ": {"ИНН": "7736050003", "КПП": "773601001", "Название": "ООО «Ромашка»"}}


def _doc(doc_id: str, **over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "Идентификатор": doc_id,
        "Тип": "ДоговорИсх",
        "Дата": "24.11.2026",
        "Номер": "F-1",
        "НашаОрганизация": OUR,
        "Контрагент": THEM,
        "Вложение": [{"Файл": {"Имя": "d.txt", "ДвоичныеДанные": base64.b64encode(b"x").decode()}}],
    }
    doc.update(over)
    return doc


def test_without_utf8_charset_the_call_is_a_parse_error(sbis: SbisWorld) -> None:
    fake, server = sbis
    resp = rpc(server, "СБИС.ПрочитатьДокумент", {}, session(server, fake), "application/json-rpc")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == -32700


def test_calls_without_a_session_are_refused_with_401(sbis: SbisWorld) -> None:
    _fake, server = sbis
    resp = rpc(server, "СБИС.ПрочитатьДокумент", {"Документ": {"Идентификатор": "x"}})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == -32001


def test_unknown_method_is_method_not_found(sbis: SbisWorld) -> None:
    fake, server = sbis
    resp = rpc(server, "СБИС.НетТакого", {}, session(server, fake))
    assert resp.json()["error"]["code"] == -32601


@pytest.mark.parametrize("missing", ["Тип", "НашаОрганизация", "Контрагент", "Вложение"])
def test_write_without_a_required_field_names_it(sbis: SbisWorld, missing: str) -> None:
    fake, server = sbis
    doc = _doc("f-1")
    del doc[missing]
    resp = rpc(server, "СБИС.ЗаписатьДокумент", {"Документ": doc}, session(server, fake))
    assert resp.status_code == 400
    assert missing in resp.json()["error"]["details"]
    assert fake.world.documents == {}


def test_same_identifier_written_twice_is_one_document(sbis: SbisWorld) -> None:
    fake, server = sbis
    sid = session(server, fake)
    first = rpc(server, "СБИС.ЗаписатьДокумент", {"Документ": _doc("f-2")}, sid).json()
    second = rpc(
        server, "СБИС.ЗаписатьДокумент", {"Документ": _doc("f-2", Номер="F-2")}, sid
    ).json()
    assert first["result"]["Идентификатор"] == second["result"]["Идентификатор"] == "f-2"
    assert len(fake.world.documents) == 1
    assert fake.world.documents["f-2"].number == "F-2"


@pytest.mark.parametrize("as_array", [False, True])
def test_stage_and_action_are_accepted_as_object_or_array(sbis: SbisWorld, as_array: bool) -> None:
    fake, server = sbis
    sid = session(server, fake)
    rpc(server, "СБИС.ЗаписатьДокумент", {"Документ": _doc("f-3")}, sid)
    action: object = {"Название": "Отправить", "Сертификат": {"Отпечаток": "AB"}}
    stage: object = {"Название": "Отправка", "Действие": [action] if as_array else action}
    resp = rpc(
        server,
        "СБИС.ПодготовитьДействие",
        {"Документ": {"Идентификатор": "f-3", "Этап": [stage] if as_array else stage}},
        sid,
    )
    [prepared] = resp.json()["result"]["Этап"]
    [to_sign] = prepared["Вложение"]
    assert to_sign["Файл"]["Имя"] == "d.txt"
    assert to_sign["Файл"]["Ссылка"].startswith(server.url + "/disk/")


def test_execute_refuses_a_signature_over_other_bytes(sbis: SbisWorld) -> None:
    from edi_bridge.signing import throwaway_signer

    fake, server = sbis
    sid = session(server, fake)
    written = rpc(server, "СБИС.ЗаписатьДокумент", {"Документ": _doc("f-4")}, sid).json()
    stage = {
        "Название": "Отправка",
        "Действие": {"Название": "Отправить", "Сертификат": {"Отпечаток": "AB"}},
    }
    rpc(
        server,
        "СБИС.ПодготовитьДействие",
        {"Документ": {"Идентификатор": "f-4", "Этап": stage}},
        sid,
    )
    att_id = written["result"]["Вложение"][0]["Идентификатор"]
    wrong = base64.b64encode(throwaway_signer().sign(b"other bytes")).decode()
    resp = rpc(
        server,
        "СБИС.ВыполнитьДействие",
        {
            "Документ": {
                "Идентификатор": "f-4",
                "Этап": {
                    **stage,
                    "Вложение": [
                        {
                            "Идентификатор": att_id,
                            "Подпись": {"Файл": {"Имя": "s", "ДвоичныеДанные": wrong}},
                        }
                    ],
                },
            }
        },
        sid,
    )
    assert resp.json()["error"]["message"] == "Подпись недействительна"
    assert not fake.world.documents["f-4"].sent


def test_control_endpoint_registers_a_counterparty_scenario(sbis: SbisWorld) -> None:
    import requests

    fake, server = sbis
    cp = sample_counterparty("control")
    ok = requests.post(
        server.url + "/_fake/counterparties",
        json={"counterparty": cp.model_dump(mode="json"), "scenario": "reject:Нет"},
        timeout=5,
    )
    assert ok.status_code == 200
    assert ok.json() == {"id": cp.inn}
    assert str(fake.world.scenario_for(cp.inn)) == "reject:Нет"
    bad = requests.post(
        server.url + "/_fake/counterparties",
        json={"counterparty": cp.model_dump(mode="json"), "scenario": "dance"},
        timeout=5,
    )
    assert bad.status_code == 400
    assert "scenario" in bad.json()["error"]
    with pytest.raises(ValidationError):
        fake.add_counterparty(cp, "sign-after:x")
