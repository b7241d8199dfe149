"""``Provider.ping`` of the Diadoc and SBIS adapters: one cheap authenticated call on
loopback, never a page of the change feed; refused credentials are an AuthError."""

from __future__ import annotations

import io
import json

import pytest
from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.sbis.adapter import SbisProvider
from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.wire import M_CHANGES, M_PARTY

from edi_bridge.errors import AuthError
from edi_bridge.fakes.server import FakeOptions, FakeServer
from edi_bridge.provider import Provider, ProviderContext


def _adapter(name: str, server: FakeServer, **extra: str) -> Provider:
    prefix = f"{name}."
    settings = server.settings(**{"timeout": "5", "retry_base_delay": "0.01", **extra})
    config = {k.removeprefix(prefix): v for k, v in settings.items() if k.startswith(prefix)}
    cls = DiadocProvider if name == "diadoc" else SbisProvider
    return cls(ProviderContext(config=config))


def _recorded(sink: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def test_diadoc_ping_asks_for_our_organizations_and_reads_no_feed() -> None:
    sink = io.StringIO()
    with FakeServer(DiadocFake(FakeOptions()), record=sink) as server:
        adapter = _adapter("diadoc", server)
        adapter.ping()
        adapter.close()
    paths = [str(line["path"]) for line in _recorded(sink)]
    assert "/GetMyOrganizations" in paths
    assert not [p for p in paths if "Event" in p]


def test_diadoc_ping_with_a_wrong_password_is_an_auth_error() -> None:
    with FakeServer(DiadocFake(FakeOptions())) as server:
        adapter = _adapter("diadoc", server, password="wrong-password")
        with pytest.raises(AuthError):
            adapter.ping()
        adapter.close()


def test_sbis_ping_asks_about_our_own_inn_and_reads_no_feed() -> None:
    sink = io.StringIO()
    with FakeServer(SbisFake(FakeOptions()), record=sink) as server:
        adapter = _adapter("sbis", server)
        adapter.ping()
        adapter.close()
    methods = [
        line["request"].get("method")
        for line in _recorded(sink)
        if isinstance(line["request"], dict)
    ]
    assert M_PARTY in methods
    assert M_CHANGES not in methods


def test_sbis_ping_with_a_wrong_password_is_an_auth_error() -> None:
    with FakeServer(SbisFake(FakeOptions())) as server:
        adapter = _adapter("sbis", server, password="wrong-password")
        with pytest.raises(AuthError):
            adapter.ping()
        adapter.close()
