"""Known secrets, DEBUG logging, success and failure paths: no secret anywhere.

Every record of every logger (the library's, requests/urllib3, zeep, werkzeug)
is formatted with its traceback and searched, as are exception texts and
reprs, the reprs of the objects holding the secrets, and the CLI's output.
Tokens the fakes issued during the run count as secrets too.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from edi_bridge_providers.cdek import CdekCarrier
from edi_bridge_providers.diadoc.fake import DiadocFake
from edi_bridge_providers.russianpost import RussianPostCarrier

from edi_bridge import Bridge
from edi_bridge.errors import EdiBridgeError
from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults, load_fake
from edi_bridge.paper import CarrierContext
from edi_bridge.retry import RetryPolicy
from edi_bridge.testing import sample_contract, sample_counterparty

from .harness import count

DIADOC_PASSWORD = "Pw-diadoc-7f3a9c5e"
OIDC_SECRET = "Cs-oidc-51be02aa"
POST_PASSWORD = "Pw-post-c0ffee11"
CDEK_SECRET = "Cs-cdek-9a8b7c6d"
KEY_PASSPHRASE = "Pp-key-d00dad42"
WRONG = "Wrong-secret-0badc0de"  # a mistyped secret is a secret too
SECRETS = [DIADOC_PASSWORD, OIDC_SECRET, POST_PASSWORD, CDEK_SECRET, KEY_PASSPHRASE, WRONG]
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Seen:
    """Everything a secret could leak into."""

    def __init__(self, handler: Everything) -> None:
        self.handler = handler
        self.texts: list[str] = []
        self.secrets = list(SECRETS)

    def add(self, *items: Any) -> None:
        for item in items:
            self.texts.append(repr(item))
            self.texts.append(str(item))

    def failure(self, exc: BaseException) -> None:
        assert isinstance(exc, EdiBridgeError), f"not the library's error: {exc!r}"
        self.add(exc, exc.args, exc.__cause__, exc.__context__)
        count("secret-hygiene failure paths")

    def check(self, *, logged: bool = True) -> None:
        corpus = self.handler.lines + self.texts
        if logged:
            assert self.handler.lines, "nothing was logged: the check would prove nothing"
        for secret in self.secrets:
            leaks = [text for text in corpus if secret in text]
            assert not leaks, f"{secret[:6]}… leaked in: {leaks[0][:400]}"
        count("log records and texts searched for secrets", len(corpus))


@pytest.fixture
def seen() -> Iterator[Seen]:
    handler = Everything()
    loggers = [logging.getLogger(n) for n in ("", "edi_bridge", "urllib3", "zeep", "werkzeug")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)  # an earlier quiet CLI run may have raised them
    loggers[0].addHandler(handler)
    try:
        yield Seen(handler)
    finally:
        loggers[0].removeHandler(handler)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _diadoc_fake() -> DiadocFake:
    return DiadocFake(
        FakeOptions(
            extra={"seed": "9", "password": DIADOC_PASSWORD, "oidc_client_secret": OIDC_SECRET}
        )
    )


def _diadoc_settings(server: FakeServer, **override: str) -> dict[str, str]:
    settings = {
        "diadoc." + k.removeprefix("EDI_BRIDGE_DIADOC_").lower(): v
        for k, v in server.exports().items()
    }
    settings["diadoc.timeout"] = "0.5"
    settings.update({f"diadoc.{k}": v for k, v in override.items()})
    return settings


def _tokens(fake: DiadocFake) -> list[str]:
    with fake.world.lock:
        return list(fake.world.credentials)


def test_diadoc_password_and_tokens_never_leak(seen: Seen, tmp_path: Path) -> None:
    fake = _diadoc_fake()
    faults = Faults(seed=2, delay=1.0)
    with FakeServer(fake, faults=faults) as server:
        bridge = Bridge.open(tmp_path / "edi.db", settings=_diadoc_settings(server))
        adapter: Any = bridge.provider("diadoc")
        adapter.client.http.retry = FAST
        counterparty = sample_counterparty("secrets")
        fake.add_counterparty(counterparty, "sign")
        # Success: send, poll, fetch; then expired tokens, faults and refusals.
        exchange = bridge.send(counterparty, sample_contract("SEC-1"), provider="diadoc")
        bridge.poll(["diadoc"])
        bridge.poll(["diadoc"])
        bridge.fetch(exchange.id, tmp_path / "out")
        seen.secrets += _tokens(fake)
        fake.expire_credentials()
        faults.force("500", "429", "truncate", "html")
        bridge.send(counterparty, sample_contract("SEC-2"), provider="diadoc")
        seen.secrets += _tokens(fake)
        seen.add(bridge, adapter, adapter.client, adapter.client.auth, adapter.settings)
        seen.add(adapter.client.http, bridge.status(exchange.id))
        bridge.close()

        wrong = Bridge.open(
            tmp_path / "wrong.db", settings=_diadoc_settings(server, password=WRONG)
        )
        try:
            with pytest.raises(EdiBridgeError) as refused:
                wrong.provider("diadoc").recipient_box(counterparty)  # type: ignore[attr-defined]
            seen.failure(refused.value)
            seen.add(wrong.provider("diadoc"), wrong.provider("diadoc").settings)  # type: ignore[attr-defined]
        finally:
            wrong.close()
    seen.check()


def test_diadoc_oidc_secret_and_bearer_never_leak(seen: Seen, tmp_path: Path) -> None:
    fake = _diadoc_fake()
    with FakeServer(fake) as server:
        oidc = {**fake.oidc_settings(server.url), "diadoc.timeout": "0.5"}
        with Bridge.open(tmp_path / "edi.db", settings=oidc) as bridge:
            counterparty = sample_counterparty("oidc")
            fake.add_counterparty(counterparty, "sign")
            bridge.send(counterparty, sample_contract("OIDC-1"), provider="diadoc")
            bridge.poll(["diadoc"])
            adapter: Any = bridge.provider("diadoc")
            seen.secrets += _tokens(fake)
            seen.add(adapter, adapter.client.auth, adapter.settings)
        bad = {**oidc, "diadoc.client_secret": WRONG}
        with Bridge.open(tmp_path / "bad.db", settings=bad) as bridge:
            with pytest.raises(EdiBridgeError) as refused:
                bridge.provider("diadoc").recipient_box(counterparty)  # type: ignore[attr-defined]
            seen.failure(refused.value)
    seen.check()


def _carrier_config(server: FakeServer, section: str) -> dict[str, str]:
    prefix = f"EDI_BRIDGE_{section.upper()}_"
    cfg = {k.removeprefix(prefix).lower(): v for k, v in server.exports().items()}
    cfg["rate"] = "1000"
    return cfg


def test_carrier_passwords_and_secrets_never_leak(seen: Seen) -> None:
    post = load_fake(
        "russianpost", FakeOptions(scenario="delivered", extra={"password": POST_PASSWORD})
    )
    cdek = load_fake(
        "cdek", FakeOptions(scenario="delivered", extra={"client_secret": CDEK_SECRET})
    )
    with FakeServer(post) as rp_server, FakeServer(cdek) as cdek_server:
        for cls, server, section, number, key in (
            (RussianPostCarrier, rp_server, "russianpost", "11741865001806", "password"),
            (CdekCarrier, cdek_server, "cdek", "1234567890", "client_secret"),
        ):
            cfg = _carrier_config(server, section)
            carrier: Any = cls(CarrierContext(config=cfg))
            carrier.track(number)
            seen.add(carrier)
            carrier.close()
            wrong: Any = cls(CarrierContext(config={**cfg, key: WRONG}))
            with pytest.raises(EdiBridgeError) as refused:
                wrong.track(number)
            seen.failure(refused.value)
            seen.add(wrong)
            wrong.close()
    seen.check()


def test_recordings_of_carrier_fakes_mask_xml_and_json_secrets(seen: Seen) -> None:
    """The recorder masks secrets in SOAP envelopes (XML elements) and JSON answers alike."""
    post = load_fake(
        "russianpost", FakeOptions(scenario="delivered", extra={"password": POST_PASSWORD})
    )
    cdek = load_fake(
        "cdek", FakeOptions(scenario="delivered", extra={"client_secret": CDEK_SECRET})
    )
    record = io.StringIO()
    with FakeServer(post, record=record) as rp_server, FakeServer(cdek, record=record) as cs:
        for cls, server, section, number in (
            (RussianPostCarrier, rp_server, "russianpost", "11741865001806"),
            (CdekCarrier, cs, "cdek", "1234567890"),
        ):
            carrier: Any = cls(CarrierContext(config=_carrier_config(server, section), retry=FAST))
            carrier.track(number)
            carrier.close()
    lines = [json.loads(line) for line in record.getvalue().splitlines()]
    envelopes = [line["request"] for line in lines if line["method"] == "POST"]
    assert any(":password>***</" in str(e) for e in envelopes), envelopes[:1]
    assert any(
        isinstance(line["response"], dict) and line["response"].get("access_token") == "***"
        for line in lines
    )
    seen.texts.append(record.getvalue())
    seen.check()


def _encrypted_key(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ООО Поставщик")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode()),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_key_passphrase_never_leaks(seen: Seen, tmp_path: Path) -> None:
    key, cert = _encrypted_key(tmp_path)
    signing = {
        "signing.kind": "software",
        "signing.key": str(key),
        "signing.certificate": str(cert),
        "signing.password": KEY_PASSPHRASE,
    }
    with Bridge.open(tmp_path / "edi.db", settings=signing) as bridge:
        exchange = bridge.send(sample_counterparty("key"), sample_contract("KEY-1"))
        assert exchange.status == "sent"
        seen.add(bridge, bridge.signer)
    wrong = {**signing, "signing.password": WRONG}
    with Bridge.open(tmp_path / "wrong.db", settings=wrong) as bridge:
        with pytest.raises(EdiBridgeError) as refused:
            bridge.send(sample_counterparty("key"), sample_contract("KEY-2"))
        seen.failure(refused.value)
    seen.check(logged=False)  # this path logs little; texts and reprs are what count


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edi_bridge.cli", "-vv", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_cli_at_debug_prints_no_secret(tmp_path: Path) -> None:
    fake = _diadoc_fake()
    key, cert = _encrypted_key(tmp_path)
    with FakeServer(fake, faults=Faults(seed=4, rates={"503": 0.2})) as server:
        counterparty = sample_counterparty("cli-secrets")
        fake.add_counterparty(counterparty, "sign")
        cp = tmp_path / "cp.json"
        cp.write_text(counterparty.model_dump_json())
        doc = tmp_path / "contract.pdf"
        doc.write_bytes(b"%PDF-1.4 a contract")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_BRIDGE_")}
        env.update(server.exports())
        env.update(
            EDI_BRIDGE_DB=str(tmp_path / "edi.db"),
            EDI_BRIDGE_SIGNING_KIND="software",
            EDI_BRIDGE_SIGNING_KEY=str(key),
            EDI_BRIDGE_SIGNING_CERTIFICATE=str(cert),
            EDI_BRIDGE_SIGNING_PASSWORD=KEY_PASSPHRASE,
        )
        runs = [
            _cli(
                env,
                "send",
                "--provider",
                "diadoc",
                "--counterparty",
                str(cp),
                "--document",
                str(doc),
            ),
            _cli(env, "poll"),
            _cli(env, "poll"),
            _cli(env, "list"),
            _cli(env, "providers"),
        ]
        assert runs[0].returncode == 0, runs[0].stderr[-2000:]
        failing = {
            **env,
            "EDI_BRIDGE_DIADOC_PASSWORD": WRONG,
            "EDI_BRIDGE_DB": str(tmp_path / "w.db"),
        }
        runs.append(
            _cli(
                failing,
                "send",
                "--provider",
                "diadoc",
                "--counterparty",
                str(cp),
                "--document",
                str(doc),
            )
        )
        assert "401" in runs[-1].stderr  # the refusal was met and logged
        bad_key = {
            **env,
            "EDI_BRIDGE_SIGNING_PASSWORD": WRONG,
            "EDI_BRIDGE_DB": str(tmp_path / "k.db"),
        }
        runs.append(_cli(bad_key, "send", "--counterparty", str(cp), "--document", str(doc)))
        assert runs[-1].returncode != 0
        secrets = [*SECRETS, *_tokens(fake)]
    output = "\n".join(r.stdout + r.stderr for r in runs)
    assert "DEBUG" in output or "debug" in output.lower()
    count("CLI runs searched for secrets", len(runs))
    for secret in secrets:
        assert secret not in output, f"{secret[:6]}… leaked in CLI output"
