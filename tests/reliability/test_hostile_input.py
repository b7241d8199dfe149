"""Hostile input is refused with the library's own error; nothing is stored or sent.

Classes: XML with external entities or entity bombs (Diadoc event payloads,
Russian Post SOAP answers), documents over the operator's size limit, file
names that climb out of the fetch directory, malformed counterparty JSON and
requisites, malformed CMS. Each test here fails if its guard is removed.
Malformed CMS is proven in ``tests/signing/test_malformed.py`` (random bytes,
mutations, truncation, trailing garbage) and ``tests/signing/test_workflow.py``
(a counterparty signature that does not check out never makes an exchange
signed); the last test here runs such a signature through the Bridge.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.diadoc.feed import reason_text, universal_code
from edi_bridge_providers.mock import messages
from edi_bridge_providers.russianpost import RussianPostCarrier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.wrappers import Response

from edi_bridge import Bridge
from edi_bridge.cli import main
from edi_bridge.errors import UnsafeInput, ValidationError
from edi_bridge.fakes.server import FakeOptions, FakeServer, load_fake
from edi_bridge.models import Document, parse_counterparty
from edi_bridge.paper import CarrierContext
from edi_bridge.retry import RetryPolicy
from edi_bridge.store import schema
from edi_bridge.testing import sample_contract, sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data

from .harness import count

MARKER = "TOP-SECRET-FILE-CONTENT-41"
RP_BARCODE = "11741865001806"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    return path


def _xxe(path: Path, root: str, text_tag: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{path}">]>'
        f"<{root}><{text_tag}>before &xxe; after</{text_tag}></{root}>"
    ).encode()


def _bomb(root: str, text_tag: str, levels: int = 9) -> bytes:
    ents = ['<!ENTITY l0 "lol">']
    ents += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [{"".join(ents)}]>'
        f"<{root}><{text_tag}>&l{levels};</{text_tag}></{root}>"
    ).encode()


# -- XML: Diadoc event payloads ------------------------------------------------


def test_a_rejection_with_an_external_entity_never_reads_the_file(secret_file: Path) -> None:
    reason = reason_text(_xxe(secret_file, "Файл", "ТекстУведУточ"))
    count("hostile inputs tried")
    assert MARKER not in (reason or "")


def test_an_event_payload_declaring_entities_is_refused_whole() -> None:
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE F [<!ENTITY x "INJECTED">]>'
        + "<Файл><ТекстУведУточ>before &x; after</ТекстУведУточ></Файл>".encode()
    )
    clean = "<Файл><ТекстУведУточ>before after</ТекстУведУточ></Файл>".encode()
    count("hostile inputs tried")
    # The one safe parser refuses any DTD: no text (and nothing injected) is taken from it,
    # while the same document without the DTD is read.
    assert reason_text(payload) is None
    assert reason_text(clean) == "before after"


def test_an_entity_bomb_in_an_event_payload_is_not_expanded() -> None:
    started = time.monotonic()
    reason = reason_text(_bomb("Файл", "ТекстУведУточ"))
    code = universal_code(_bomb("Файл", "КодТипаУведомления"))
    count("hostile inputs tried", 2)
    assert time.monotonic() - started < 2
    assert (reason or "").count("lol") < 100  # 10**9 when expanded
    assert code is None


# -- XML: Russian Post SOAP answers ------------------------------------------------


class Spoiler:
    """Wraps the Russian Post fake and rewrites its SOAP answer."""

    name = "russianpost"

    def __init__(self, fake: Any, rewrite: Callable[[bytes], bytes]) -> None:
        self.fake = fake
        self.exports = fake.exports
        self.rewrite = rewrite

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        answer = Response.from_app(self.fake, environ, buffered=True)
        body = self.rewrite(answer.get_data())
        return Response(body, status=answer.status_code, content_type=answer.content_type)(
            environ, start
        )


def _with_doctype(doctype: str, entity: str) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        text = body.decode("utf-8")
        if text.startswith("<?xml"):
            head, _, rest = text.partition("?>")
            text = head + "?>" + doctype + rest
        else:
            text = doctype + text
        return text.replace("Вручение", entity, 1).encode("utf-8")

    return rewrite


@pytest.fixture
def carrier_for() -> Iterator[Callable[[Callable[[bytes], bytes]], RussianPostCarrier]]:
    servers: list[FakeServer] = []

    def make(rewrite: Callable[[bytes], bytes]) -> RussianPostCarrier:
        fake = load_fake("russianpost", FakeOptions(scenario="delivered"))
        server = FakeServer(Spoiler(fake, rewrite)).start()
        servers.append(server)
        section = server.settings(rate="1000")
        cfg = {k.removeprefix("russianpost."): v for k, v in section.items()}
        fast = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
        return RussianPostCarrier(CarrierContext(config=cfg, retry=fast))

    yield make
    for server in servers:
        server.stop()


def test_a_soap_answer_with_an_external_entity_is_refused(
    carrier_for: Callable[[Callable[[bytes], bytes]], RussianPostCarrier], secret_file: Path
) -> None:
    doctype = f'<!DOCTYPE S:Envelope [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'
    carrier = carrier_for(_with_doctype(doctype, "&xxe;"))
    count("hostile inputs tried")
    with pytest.raises(UnsafeInput, match="DTD or XML entities"):
        carrier.track(RP_BARCODE)


def test_a_soap_answer_with_an_entity_bomb_is_refused(
    carrier_for: Callable[[Callable[[bytes], bytes]], RussianPostCarrier],
) -> None:
    ents = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    carrier = carrier_for(_with_doctype(f"<!DOCTYPE S:Envelope [{ents}]>", "&l9;"))
    count("hostile inputs tried")
    with pytest.raises(UnsafeInput):
        carrier.track(RP_BARCODE)


def test_a_soap_answer_with_only_a_doctype_is_refused(
    carrier_for: Callable[[Callable[[bytes], bytes]], RussianPostCarrier],
) -> None:
    carrier = carrier_for(_with_doctype("<!DOCTYPE S:Envelope>", "Вручение"))
    count("hostile inputs tried")
    with pytest.raises(UnsafeInput):
        carrier.track(RP_BARCODE)


# -- size limits ---------------------------------------------------------------


@pytest.fixture
def diadoc(tmp_path: Path) -> Iterator[tuple[DiadocFake, Bridge]]:
    fake = DiadocFake(FakeOptions(extra={"seed": "4"}))
    with FakeServer(fake) as server:
        bridge = Bridge.open(tmp_path / "edi.db", settings=server.settings())
        try:
            yield fake, bridge
        finally:
            bridge.close()


def _exchange_count(bridge: Bridge) -> int:
    with bridge.store.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(schema.exchanges)).scalar_one()
        )


def test_a_document_over_the_diadoc_limit_is_refused_before_any_upload(
    diadoc: tuple[DiadocFake, Bridge], tmp_path: Path
) -> None:
    fake, bridge = diadoc
    counterparty = sample_counterparty("big")
    fake.add_counterparty(counterparty, "sign")
    big = tmp_path / "big.pdf"
    with big.open("wb") as fh:  # sparse: 70 MB + 1 byte without writing them
        fh.truncate(70 * 1024 * 1024 + 1)
    document = Document.from_path(big, kind="contract", number="BIG-1", date=dt.date(2026, 3, 5))
    before = dict(fake.world.calls)
    count("hostile inputs tried")
    with pytest.raises(ValidationError) as refused:
        bridge.send(counterparty, document, provider="diadoc")
    assert refused.value.field == "document.size"
    assert _exchange_count(bridge) == 0
    uploads = {
        path: n - before.get(path, 0)
        for path, n in fake.world.calls.items()
        if "Shelf" in path or "PostMessage" in path
    }
    assert not any(uploads.values()), uploads
    assert fake.message_count() == 0


def test_a_document_at_the_diadoc_limit_is_not_refused_for_its_size(tmp_path: Path) -> None:
    from edi_bridge_providers.diadoc import DiadocProvider
    from edi_bridge_providers.diadoc.settings import DiadocSettings

    exact = tmp_path / "exact.pdf"
    with exact.open("wb") as fh:
        fh.truncate(70 * 1024 * 1024)
    document = Document.from_path(exact, kind="contract", number="EX-1", date=dt.date(2026, 3, 5))
    adapter = DiadocProvider.__new__(DiadocProvider)  # the check needs no connection
    adapter.settings = DiadocSettings(base_url="http://127.0.0.1", auth="password")
    adapter.check(sample_counterparty("exact"), document)  # no error


# -- fetched file names --------------------------------------------------------------

HOSTILE_NAMES = ["../../escape.pdf", "/tmp/absolute.pdf", "a\x00b.pdf", "..", "sub/../../x.pdf"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_fetched_file_name_that_climbs_out_is_refused(
    diadoc: tuple[DiadocFake, Bridge], tmp_path: Path, name: str
) -> None:
    fake, bridge = diadoc
    counterparty = sample_counterparty("names")
    fake.add_counterparty(counterparty, "sign")
    exchange = bridge.send(counterparty, sample_contract("N-1"), provider="diadoc")
    # The operator (or someone between) names the document hostilely.
    with fake.world.lock:
        message = fake.world.messages[exchange.provider_ref["message_id"]]
        for entity in message["Entities"]:
            if entity["EntityId"] == exchange.provider_ref["entity_id"]:
                entity["FileName"] = name
    out = tmp_path / "deep" / "out"
    count("hostile inputs tried")
    with pytest.raises(ValidationError) as refused:
        bridge.fetch(exchange.id, out)
    assert refused.value.field == "fetched file name"
    assert not (out / "manifest.json").exists()
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert not written & {"escape.pdf", "absolute.pdf", "x.pdf"}
    assert not Path("/tmp/absolute.pdf").exists()


# -- counterparty JSON and requisites --------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=8,
)
FIELDS = list(sample_counterparty_data("hyp"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_malformed_requisites_raise_only_the_library_error(field: str, value: Any) -> None:
    data = sample_counterparty_data("hyp")
    data[field] = value
    count("hostile inputs tried")
    refused: ValidationError | None = None
    try:
        parse_counterparty(data)
    except ValidationError as exc:
        refused = exc
    if refused is not None:
        assert refused.field  # names where
        assert refused.rule  # and what


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_counterparty_json_raise_only_the_library_error(raw: bytes) -> None:
    count("hostile inputs tried")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    with contextlib.suppress(ValidationError):
        parse_counterparty(text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inn", "7707083894"),  # one check digit off
        ("kpp", "77010100"),
        ("ogrn", "1027700132196"),  # check digit off
        ("signatory", {"full_name": "", "position": "Директор"}),
        ("edi", [{"operator": "diadoc", "participant_id": "../../etc"}]),
    ],
)
def test_the_cli_refuses_bad_requisites_and_stores_and_sends_nothing(
    tmp_path: Path, field: str, value: Any
) -> None:
    db = tmp_path / "edi.db"
    data = sample_counterparty_data("cli")
    data[field] = value
    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(data, ensure_ascii=False))
    doc = tmp_path / "contract.pdf"
    doc.write_bytes(b"%PDF-1.4 contract")
    count("hostile inputs tried")
    result = CliRunner().invoke(
        main,
        ["--db", str(db), "send", "--counterparty", str(cp), "--document", str(doc)],
        catch_exceptions=False,
    )
    assert result.exit_code != 0
    assert field in result.output
    with Bridge.open(db) as bridge:
        assert _exchange_count(bridge) == 0
        bridge.provider("mock")
        with bridge.store.engine.connect() as conn:
            sent = conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()
        assert sent == 0


def test_truncated_counterparty_json_is_refused_by_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "edi.db"
    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(sample_counterparty_data("cli"))[:-20])
    doc = tmp_path / "contract.pdf"
    doc.write_bytes(b"%PDF-1.4 contract")
    count("hostile inputs tried")
    result = CliRunner().invoke(
        main, ["--db", str(db), "send", "--counterparty", str(cp), "--document", str(doc)]
    )
    assert result.exit_code != 0
    assert "JSON" in result.output or "json" in result.output
    with Bridge.open(db) as bridge:
        assert _exchange_count(bridge) == 0


# -- malformed CMS from the counterparty ----------------------------------------------


def test_a_malformed_counterparty_cms_never_makes_an_exchange_signed(tmp_path: Path) -> None:
    from edi_bridge.signing import SignatureChecker

    with Bridge.open(tmp_path / "edi.db") as bridge:
        bridge.signature_check = SignatureChecker(bridge.store, allow_unchecked_chain=True)
        exchange = bridge.send(sample_counterparty("cms"), sample_contract("CMS-1"))
        # The counterparty acts at the operator; the feed has not been read yet.
        bridge.provider("mock").poll(None)
        # Someone between hands over garbage where the counterparty's CMS should be.
        with bridge.store.engine.begin() as conn:
            conn.execute(messages.update().values(counterparty_signature=b"0\x82\x01\x00junk"))
        bridge.poll(["mock"])
        count("hostile inputs tried")
        after = bridge.status(exchange.id)
        assert after.status != "signed"
        assert after.needs_attention
        kept = [s for s in after.signatures if s.role == "counterparty"]
        assert kept
        assert kept[0].verdict is not None
        assert not kept[0].verdict["ok"]
