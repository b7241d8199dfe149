"""Fixtures: a fake Diadoc on 127.0.0.1 and adapters/bridges pointed at it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from edi_bridge_providers.diadoc import DiadocProvider
from edi_bridge_providers.diadoc.fake import DiadocFake

from edi_bridge import Bridge
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults
from edi_bridge.models import Document
from edi_bridge.provider import ContentSource, ProviderContext, SendRequest
from edi_bridge.retry import RetryPolicy
from edi_bridge.signing import Signer, throwaway_signer
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_pdf


def settings_for(server: FakeServer, **extra: str) -> dict[str, str]:
    """Explicit ``diadoc.*`` keys from the fake's exports (the environment is not read)."""
    return server.settings(**{"timeout": "2", **extra})


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=7, delay=2.5)


@pytest.fixture
def fake() -> DiadocFake:
    return DiadocFake(FakeOptions(extra={"seed": "11"}))


@pytest.fixture
def server(fake: DiadocFake, faults: Faults) -> Iterator[FakeServer]:
    with FakeServer(fake, faults=faults) as srv:
        yield srv


def make_adapter(server: FakeServer, **extra: str) -> DiadocProvider:
    config = {k.removeprefix("diadoc."): v for k, v in settings_for(server, **extra).items()}
    return DiadocProvider(ProviderContext(config=config))


@pytest.fixture
def adapter(server: FakeServer) -> Iterator[DiadocProvider]:
    provider = make_adapter(server)
    provider.client.http.retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
    yield provider
    provider.close()


@pytest.fixture
def bridge(server: FakeServer, tmp_path: Path) -> Iterator[Bridge]:
    b = Bridge.open(tmp_path / "edi.db", settings=settings_for(server))
    yield b
    b.close()


class FileSource(ContentSource):
    """Content read from a file, in chunks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size

    def open(self) -> IO[bytes]:
        return self.path.open("rb")


def send_request(
    fake: DiadocFake,
    tmp_path: Path,
    key: str,
    *,
    content: bytes | None = None,
    kind: str = "contract",
    scenario: str = "sign",
    signer: Signer | None = None,
    price: str | None = None,
) -> SendRequest:
    """A SendRequest for a counterparty registered at the fake with ``scenario``."""
    data = content if content is not None else sample_pdf(f"Contract {key}")
    path = tmp_path / f"{key}.pdf"
    path.write_bytes(data)
    document = Document.from_path(
        path, kind=kind, number=f"N-{key}", date=dt.date(2026, 3, 5), price=price
    )
    counterparty = sample_counterparty(f"cp-{scenario}")
    fake.add_counterparty(counterparty, scenario)
    source = FileSource(path)
    return SendRequest(
        exchange_id=f"ex-{key}",
        idempotency_key=key,
        counterparty=counterparty,
        document=document,
        content=source,
        signature=(signer or throwaway_signer()).sign_stream(source.chunks()),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow runs (200 contracts, 20 MB) only when asked for with ``-m slow``."""
    if config.getoption("-m"):
        return
    keep = [item for item in items if "slow" not in item.keywords]
    dropped = [item for item in items if "slow" in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
