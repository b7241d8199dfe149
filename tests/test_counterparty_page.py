"""The counterparty page on the EDI fakes: what it lists and shows, and that each action
reaches the Bridge through ``poll`` exactly as a scenario's move would."""

from __future__ import annotations

import json
import pathlib
import re
import urllib.parse
from collections.abc import Callable

import pytest
import requests

from edi_bridge import Bridge, Counterparty, Exchange
from edi_bridge.testing import sample_contract
from edi_bridge.testing.pytest_plugin import RunningFake, poll_until

EDI_FAKES = ["diadoc", "sbis"]
# Each EDI fake, its counterparty silent: the page plays it.
ON_EACH_EDI_FAKE = pytest.mark.parametrize(
    "provider",
    [pytest.param(n, marks=pytest.mark.edi_provider(n, scenario="silent")) for n in EDI_FAKES],
)


def _sent(bridge: Bridge, client: Counterparty, number: str = "PG-1") -> Exchange:
    exchange = bridge.send(client, sample_contract(number))
    bridge.poll()  # the silent counterparty does nothing: the page plays it
    assert bridge.status(exchange.id).status == "sent"
    return exchange


def _doc_url(fake: RunningFake) -> str:
    inbox = requests.get(fake.url + "/", timeout=10)
    assert inbox.status_code == 200
    (link,) = re.findall(r'href="(/_fake/page/document\?id=[^"]+)"', inbox.text)
    return fake.url + link.replace("&amp;", "&")


def _act(fake: RunningFake, doc_url: str, action: str, **form: str) -> requests.Response:
    page = requests.get(doc_url, timeout=10).text
    state = re.search(r'id="status" data-state="([^"]+)"', page)
    assert state
    doc_id = urllib.parse.parse_qs(urllib.parse.urlsplit(doc_url).query)["id"][0]
    data = {"id": doc_id, "action": action, "expected": state.group(1), **form}
    return requests.post(fake.url + "/_fake/page/act", data=data, allow_redirects=False, timeout=10)


@pytest.fixture
def page_fake(edi_provider_fake: RunningFake | None) -> RunningFake:
    assert edi_provider_fake is not None, "mark the test with an EDI fake"
    return edi_provider_fake


@ON_EACH_EDI_FAKE
def test_inbox_lists_the_document_per_counterparty_and_shows_it_with_our_signer(
    provider: str, edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    _sent(edi_bridge, edi_counterparty)
    inbox = requests.get(page_fake.url + "/", timeout=10).text
    assert f"ИНН {edi_counterparty.inn}" in inbox
    assert 'data-state="sent"' in inbox
    assert "Входящие контрагента / Counterparty inbox" in inbox
    doc_url = _doc_url(page_fake)
    page = requests.get(doc_url, timeout=10).text
    assert re.search(r'<span id="signer">[^<]*edi-bridge test sender', page)
    (src,) = re.findall(r'<iframe src="([^"]+)"', page)
    content = requests.get(page_fake.url + src.replace("&amp;", "&"), timeout=10)
    assert content.headers["Content-Type"] == "application/pdf"
    assert content.headers["Content-Disposition"].startswith("inline")
    assert content.content.startswith(b"%PDF-")
    download = requests.get(page_fake.url + src + "&download=1", timeout=10)
    assert download.headers["Content-Disposition"].startswith("attachment")


@ON_EACH_EDI_FAKE
def test_sign_on_the_page_reaches_the_bridge_once_even_when_clicked_twice(
    provider: str, edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    exchange = _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    page = requests.get(doc_url, timeout=10).text
    form = dict(re.findall(r'name="(id|expected)" value="([^"]+)"', page))
    first = requests.post(
        page_fake.url + "/_fake/page/act",
        data={**form, "action": "sign"},
        allow_redirects=False,
        timeout=10,
    )
    again = requests.post(
        page_fake.url + "/_fake/page/act",
        data={**form, "action": "sign"},
        allow_redirects=False,
        timeout=10,
    )
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].endswith("m=done")
    assert again.headers["Location"].endswith("m=unchanged")
    done = poll_until(edi_bridge, exchange.id, "signed")
    assert {s.role for s in done.signatures} == {"ours", "counterparty"}
    assert [h.status for h in done.history].count("signed") == 1
    assert "Подписан / Signed" in requests.get(doc_url, timeout=10).text


@ON_EACH_EDI_FAKE
def test_rejection_needs_a_reason_and_a_final_document_refuses_actions(
    provider: str, edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    exchange = _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    bare = _act(page_fake, doc_url, "reject", reason="  ")
    assert bare.status_code == 400
    assert "A rejection needs a reason" in bare.text
    long = _act(page_fake, doc_url, "reject", reason="я" * 501)
    assert long.status_code == 400
    assert "longer than 500 characters" in long.text
    assert 'data-state="sent"' in requests.get(doc_url, timeout=10).text
    assert _act(page_fake, doc_url, "reject", reason="Не та цена").status_code == 303
    assert poll_until(edi_bridge, exchange.id, "rejected").reason == "Не та цена"
    refused = _act(page_fake, doc_url, "sign")
    assert refused.status_code == 409
    assert "this action is not allowed" in refused.text
    assert "final state" in requests.get(doc_url, timeout=10).text
    assert edi_bridge.status(exchange.id).status == "rejected"


@ON_EACH_EDI_FAKE
def test_delivered_then_signed_then_revocation_each_reach_poll(
    provider: str, edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    exchange = _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    assert _act(page_fake, doc_url, "deliver").status_code == 303
    poll_until(edi_bridge, exchange.id, "delivered")
    assert _act(page_fake, doc_url, "sign").status_code == 303
    poll_until(edi_bridge, exchange.id, "signed")
    assert _act(page_fake, doc_url, "revoke").status_code == 303
    # Both operators carry the counterparty's revocation request, which we answer.
    poll_until(edi_bridge, exchange.id, "revocation_requested")


@pytest.mark.edi_provider("diadoc", scenario="silent")
def test_page_answers_only_the_loopback_and_forms_from_itself(
    edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    _sent(edi_bridge, edi_counterparty)
    elsewhere = requests.get(page_fake.url + "/", headers={"Host": "evil.example"}, timeout=10)
    assert elsewhere.status_code == 403
    doc_url = _doc_url(page_fake)
    page = requests.get(doc_url, timeout=10).text
    form = dict(re.findall(r'name="(id|expected)" value="([^"]+)"', page))
    forged = requests.post(
        page_fake.url + "/_fake/page/act",
        data={**form, "action": "sign"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    assert 'data-state="sent"' in requests.get(doc_url, timeout=10).text


def test_carrier_fakes_have_no_page(edi_fake: Callable[..., RunningFake]) -> None:
    post = edi_fake("russianpost")
    answer = requests.get(post.url + "/", timeout=10)
    assert answer.status_code == 404
    assert "no counterparty page" in answer.text


@pytest.mark.edi_provider("diadoc", scenario="silent")
def test_signing_as_an_employee_on_the_page_uses_a_personal_certificate(
    edi_bridge: Bridge,
    edi_counterparty: Counterparty,
    page_fake: RunningFake,
    tmp_path: pathlib.Path,
) -> None:
    from edi_bridge.signing.identity import identity_from_certificate
    from edi_bridge.signing.parse import parse_signature

    exchange = _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    assert 'value="sign-employee"' in requests.get(doc_url, timeout=10).text
    assert _act(page_fake, doc_url, "sign-employee").status_code == 303
    poll_until(edi_bridge, exchange.id, "signed")
    manifest = json.loads(edi_bridge.fetch(exchange.id, tmp_path / "archive").read_text("utf-8"))
    theirs = [
        f for f in manifest["files"] if "counterparty" in f["role"] and "signature" in f["role"]
    ]
    assert theirs, manifest["files"]
    signature = (tmp_path / "archive" / theirs[0]["name"]).read_bytes()
    person = identity_from_certificate(parse_signature(signature).certificates[0])
    assert person.snils, "an employee signs with a personal certificate (it names a SNILS)"


@pytest.mark.edi_provider("sbis", scenario="silent")
def test_the_sbis_page_offers_no_employee_signing_it_cannot_carry(
    edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    assert 'value="sign-employee"' not in requests.get(doc_url, timeout=10).text
    refused = _act(page_fake, doc_url, "sign-employee")
    assert refused.status_code == 400


@ON_EACH_EDI_FAKE
def test_the_page_refuses_then_accepts_our_revocation_request(
    provider: str, edi_bridge: Bridge, edi_counterparty: Counterparty, page_fake: RunningFake
) -> None:
    exchange = _sent(edi_bridge, edi_counterparty)
    doc_url = _doc_url(page_fake)
    assert _act(page_fake, doc_url, "sign").status_code == 303
    poll_until(edi_bridge, exchange.id, "signed")
    edi_bridge.revoke(exchange.id, reason="Ошибка в сумме")
    page = requests.get(doc_url, timeout=10).text
    assert 'data-state="revocation_offered"' in page
    assert "Принять аннулирование / Accept the revocation" in page
    assert _act(page_fake, doc_url, "reject-revocation", reason=" ").status_code == 400
    assert _act(page_fake, doc_url, "reject-revocation", reason="Сумма верна").status_code == 303
    assert poll_until(edi_bridge, exchange.id, "revocation_rejected").reason == "Сумма верна"
    edi_bridge.revoke(exchange.id, reason="Всё же ошибка")  # still in force: ask again
    assert _act(page_fake, doc_url, "accept-revocation").status_code == 303
    assert poll_until(edi_bridge, exchange.id, "revoked").status == "revoked"
    assert "Аннулирован / Revoked" in requests.get(doc_url, timeout=10).text
