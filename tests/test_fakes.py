"""Every installed fake has the same shape: entry point, control prefix, steering API."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from edi_bridge.config import env_name
from edi_bridge.errors import UnsupportedFeature, ValidationError
from edi_bridge.fakes.base import CONTROL_PREFIX, FakeApp
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults, fake_names, load_fake
from edi_bridge.testing import sample_counterparty

OPERATORS = ("diadoc", "sbis")
CARRIERS = ("cdek", "russianpost")
SCENARIO = {"diadoc": "sign", "sbis": "sign", "cdek": "delivered", "russianpost": "delivered"}


def test_every_operator_and_carrier_has_a_fake() -> None:
    assert set(fake_names()) >= {*OPERATORS, *CARRIERS}


@pytest.mark.parametrize("name", [*OPERATORS, *CARRIERS])
def test_every_fake_is_built_on_the_scaffold_with_one_settings_shape(name: str) -> None:
    fake = load_fake(name, FakeOptions(scenario=SCENARIO[name]))
    assert isinstance(fake, FakeApp)
    settings = fake.settings("http://127.0.0.1:1")
    assert settings
    assert all(key.startswith(f"{fake.section}.") for key in settings)
    # The environment form is the same settings, named by the config rule.
    assert fake.exports("http://127.0.0.1:1") == {env_name(k): v for k, v in settings.items()}


@pytest.mark.parametrize("name", [*OPERATORS, *CARRIERS])
def test_every_fake_answers_the_same_control_endpoints(name: str) -> None:
    fake = load_fake(name, FakeOptions(scenario=SCENARIO[name]))
    assert isinstance(fake, FakeApp)
    with FakeServer(fake) as server:
        state = requests.get(server.url + CONTROL_PREFIX + "state", timeout=5)
        assert state.status_code == 200
        assert state.json()["sign_ins"] == 0
        expired = requests.post(server.url + CONTROL_PREFIX + "expire-credentials", timeout=5)
        assert expired.json() == {"expired": True}


@pytest.mark.parametrize("name", OPERATORS)
def test_operator_fakes_take_counterparties_by_the_same_call(name: str) -> None:
    fake = load_fake(name, FakeOptions())
    assert isinstance(fake, FakeApp)
    cp = sample_counterparty(f"steer-{name}")
    assert fake.add_counterparty(cp, "reject:нет")
    assert fake.documents_for_key("nothing-sent") == 0
    with pytest.raises(ValidationError, match="scenario"):
        fake.add_counterparty(cp, "dance")
    with pytest.raises(ValidationError, match="unknown options"):
        fake.add_counterparty(cp, "sign", colour="red")
    with FakeServer(fake) as server:
        answer = requests.post(
            server.url + CONTROL_PREFIX + "counterparties",
            json={"counterparty": cp.model_dump(mode="json"), "scenario": "sign"},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        refused = requests.post(
            server.url + CONTROL_PREFIX + "counterparties", json={"inn": "1"}, timeout=5
        )
        assert refused.status_code == 400
        assert "counterparty" in refused.json()["error"]


@pytest.mark.parametrize("name", CARRIERS)
def test_carrier_fakes_say_they_hold_no_counterparties(name: str) -> None:
    fake = load_fake(name, FakeOptions(scenario="delivered"))
    assert isinstance(fake, FakeApp)
    with pytest.raises(UnsupportedFeature):
        fake.add_counterparty(sample_counterparty("x"))
    with pytest.raises(UnsupportedFeature):
        fake.documents_for_key("k")


@pytest.mark.parametrize(
    ("spec", "part"),
    [
        ("500=1.5", "faults.500"),
        ("500=nan", "faults.500"),
        ("503=-0.1", "faults.503"),
        ("latency=-1", "faults.latency"),
        ("retry_after=-2", "faults.retry_after"),
        ("delay=inf", "faults.delay"),
        ("boom=0.1", "faults.boom"),
        ("500=0.7,503=0.7", "faults"),
        ("500=often", "faults.500"),
        ("seed=0.5", "faults.seed"),
    ],
)
def test_faults_refuse_nonsense_naming_the_part(spec: str, part: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Faults.parse(spec)
    assert refused.value.field == part


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_mock_serve_refuses_bad_faults_with_the_reason_and_exit_1() -> None:
    run = _run("edi_bridge.cli", "mock", "serve", "diadoc", "--faults", "503=2")
    assert run.returncode == 1
    assert "faults.503" in run.stderr


def test_the_diadoc_module_entry_is_an_alias_of_mock_serve() -> None:
    run = _run("edi_bridge_providers.diadoc.fake", "--faults", "latency=-1")
    assert run.returncode == 1
    assert "faults.latency" in run.stderr


def test_mock_serve_passes_a_fakes_own_options_and_refuses_bad_ones() -> None:
    run = _run("edi_bridge.cli", "mock", "serve", "diadoc", "--set", "duplicate_events=2")
    assert run.returncode == 1
    assert "duplicate_events" in run.stderr
    bare = _run("edi_bridge.cli", "mock", "serve", "diadoc", "--set", "duplicate_events")
    assert bare.returncode == 1
    assert "KEY=VALUE" in bare.stderr
