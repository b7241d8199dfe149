"""The fault contract (edi_bridge.testing.faults) for every EDI adapter, over HTTP to its fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.sbis.fake import SbisFake

from edi_bridge.fakes.server import FakeOptions
from edi_bridge.testing.faults import FaultContract, FaultEnv, open_fault_env, soak

from .harness import count


def diadoc_env(root: Path, **kw: Any) -> FaultEnv:
    return open_fault_env(DiadocFake(FakeOptions(extra={"seed": "21"})), "diadoc", root, **kw)


def sbis_env(root: Path, **kw: Any) -> FaultEnv:
    return open_fault_env(SbisFake(FakeOptions(extra={"seed": "21"})), "sbis", root, **kw)


@pytest.fixture(autouse=True)
def _settings_from_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, not from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith(("EDI_BRIDGE_SBIS_", "EDI_BRIDGE_DIADOC_")):
            monkeypatch.delenv(name)


def _figures(env: FaultEnv) -> None:
    count(f"{env.provider} faulty calls injected", env.faults.total_injected)
    for kind, n in env.faults.injected.items():
        count(f"{env.provider} faults injected: {kind}", n)


def _serve(make: Any, tmp_path: Path) -> Iterator[FaultEnv]:
    env = make(tmp_path)
    yield env
    _figures(env)
    env.close()


class TestDiadocFaults(FaultContract):
    @pytest.fixture
    def fault_env(self, tmp_path: Path) -> Iterator[FaultEnv]:
        yield from _serve(diadoc_env, tmp_path)


class TestSbisFaults(FaultContract):
    @pytest.fixture
    def fault_env(self, tmp_path: Path) -> Iterator[FaultEnv]:
        yield from _serve(sbis_env, tmp_path)


@pytest.mark.parametrize(
    ("make", "contracts"), [(diadoc_env, 25), (sbis_env, 8)], ids=["diadoc", "sbis"]
)
def test_a_sample_of_contracts_through_every_fault_at_once(
    tmp_path: Path, make: Any, contracts: int
) -> None:
    for env in soak(lambda **kw: make(tmp_path, **kw), contracts, rate=0.35, seed=11):
        assert env.faults.total_injected >= 10
        count(f"{env.provider} credential expiries injected", env.expiring.expired)
        _figures(env)


@pytest.mark.slow
@pytest.mark.parametrize("make", [diadoc_env, sbis_env], ids=["diadoc", "sbis"])
def test_thousands_of_faulty_calls_duplicate_and_lose_nothing(tmp_path: Path, make: Any) -> None:
    injected = 0
    for seed in range(4):
        work = tmp_path / f"soak-{seed}"
        work.mkdir()
        for env in soak(lambda **kw: make(work, **kw), 150, rate=0.7, seed=seed):  # noqa: B023
            injected += env.faults.total_injected
            _figures(env)
    assert injected >= 2_000
