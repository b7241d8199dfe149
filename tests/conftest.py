from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_counterparty


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    b = Bridge.open(tmp_path / "edi.db")
    yield b
    b.close()


@pytest.fixture
def counterparty() -> Counterparty:
    return sample_counterparty("tests")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import os
    import secrets

    import sqlalchemy as sa

    from edi_bridge.store import database_url

    base = os.environ.get("EDI_BRIDGE_TEST_POSTGRES")
    if not base:
        pytest.skip("EDI_BRIDGE_TEST_POSTGRES is not set: no PostgreSQL to test against")
    engine = sa.create_engine(database_url(base))
    name = "t_" + secrets.token_hex(6)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.skip(f"PostgreSQL at EDI_BRIDGE_TEST_POSTGRES is not reachable: {exc}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{name}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    engine.dispose()
