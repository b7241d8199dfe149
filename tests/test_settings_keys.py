"""Unknown setting keys and ``EDI_BRIDGE_*`` variables are refused in every section,
naming the closest known one; the known keys are the readers' own declarations."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import ClassVar

import click
import pytest
from click.testing import CliRunner

from edi_bridge import Bridge, ConfigurationError, Provider, Registry
from edi_bridge.cli import COMMANDS, main
from edi_bridge.cli.failure import EXIT_FAILED
from edi_bridge.config import CORE_SECTIONS, OTHER_VARIABLES, PAPER, Keys, env_name
from edi_bridge.config import check_settings as check_names
from edi_bridge.paper import default_carriers
from edi_bridge.registry import default_registry
from edi_bridge.workflow.settings_check import check_settings

ROOT = Path(__file__).resolve().parent.parent


def refused(settings: dict[str, str], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigurationError) as err:
        check_settings(settings, environ or {}, default_registry)
    return str(err.value)


@pytest.mark.parametrize(
    ("key", "closest"),
    [
        ("mock.scenaro", "mock.scenario"),
        ("cdek.client_secet", "cdek.client_secret"),
        ("russianpost.pasword", "russianpost.password"),
        ("paper.scan_emial", "paper.scan_email"),
        ("signing.pkcs21", "signing.pkcs12"),
        ("signing.organisation.kp", "signing.organisation.kpp"),
        ("signing.power_of_attorney.issuer_in", "signing.power_of_attorney.issuer_inn"),
        ("mchd.shema", "mchd.schema"),
        ("deadlines.signing_day", "deadlines.signing_days"),
        ("smtp.hots", "smtp.host"),
        ("diadok.password", "diadoc.password"),
    ],
)
def test_a_misspelt_key_of_any_section_is_refused_naming_the_closest(
    key: str, closest: str
) -> None:
    message = refused({key: "secret-value-1"})
    assert repr(key) in message
    assert f"did you mean {closest}?" in message
    assert "secret-value-1" not in message


def test_a_key_of_a_section_nothing_reads_is_refused() -> None:
    assert "'closing.seller'" in refused({"closing.seller": "x"})


def test_a_misspelt_variable_is_refused_naming_the_closest() -> None:
    message = refused({}, {"EDI_BRIDGE_PAPER_SCAN_EMIAL": "scans@example.test"})
    assert "EDI_BRIDGE_PAPER_SCAN_EMIAL" in message
    assert "did you mean EDI_BRIDGE_PAPER_SCAN_EMAIL?" in message
    assert "scans@example.test" not in message
    message = refused({}, {"EDI_BRIDGE_DIADOC_PASWORD": "p"})
    assert "did you mean EDI_BRIDGE_DIADOC_PASSWORD?" in message


def test_every_declared_key_and_family_is_accepted_as_key_and_variable() -> None:
    settings = {
        "paper.scan_email": "scans@example.test",
        "signing.organisation.inn": "7707083893",
        "signing.power_of_attorney.file": "poa.xml",
        "mchd.required_powers.contract": "02.01",
        "sbis.doc_type_contract": "ДоговорИсх",
        "diadoc.timeout": "5",
        "russianpost.language": "ENG",
        "cdek.rate": "2",
        "mock.latency": "0",
    }
    environ = {env_name(k): v for k, v in settings.items()}
    environ.update({name: "x" for name in OTHER_VARIABLES})
    environ["PATH"] = "/usr/bin"  # not ours
    check_settings(settings, environ, default_registry)
    for keys in CORE_SECTIONS:
        every = {f"{keys.section}.{k.replace('*', 'any')}": "1" for k in keys.names}
        check_settings(every, {env_name(k): v for k, v in every.items()}, default_registry)


def test_a_private_adapter_that_declares_nothing_is_not_checked() -> None:
    class Private(Provider):
        name = "private"
        settings_keys: ClassVar[frozenset[str] | None] = None

    registry = Registry(use_entry_points=False)
    registry.register("private", Private)
    check_settings({"private.anything": "1"}, {"EDI_BRIDGE_PRIVATE_ANY": "1"}, registry)


def test_reading_a_key_the_section_does_not_declare_is_a_programming_error() -> None:
    values = PAPER.read({"paper.enabled": "false"}, {})
    assert values.get("enabled") == "false"
    with pytest.raises(AssertionError, match=r"paper\.enabeld is read but not declared"):
        values.get("enabeld")
    assert Keys("x", {"a_*"}).allows("a_b")


def test_the_bridge_refuses_an_unknown_key_or_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=r"did you mean paper\.scan_email"):
        Bridge.open(tmp_path / "edi.db", settings={"paper.scan_emial": "a@example.test"})
    monkeypatch.setenv("EDI_BRIDGE_MOCK_LATENSY", "1")
    with pytest.raises(ConfigurationError, match=r"did you mean EDI_BRIDGE_MOCK_LATENCY\?"):
        Bridge.open(tmp_path / "edi.db")


def test_the_cli_refuses_an_unknown_variable_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDI_BRIDGE_PAPER_SENDER_NAEM", "ООО Ромашка")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "edi.db"), "list"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "edi-bridge: unknown environment variable EDI_BRIDGE_PAPER_SENDER_NAEM: did you mean "
        "EDI_BRIDGE_PAPER_SENDER_NAME? (unset it, or fix its name)"
    ]


def test_every_variable_the_project_names_is_a_setting_or_a_documented_other() -> None:
    """Whatever README, docs, code or tests mention must not be refused."""
    sections = {k.section: k for k in CORE_SECTIONS}
    for reg in (default_registry, default_carriers):
        for name in reg.names():
            declared = reg.get(name).settings_keys
            sections[name] = None if declared is None else Keys(name, declared)
    files = [ROOT / "pyproject.toml", *ROOT.glob("*.md")]
    for top in ("edi_bridge", "providers", "tests", "docs", "bench", "examples", ".ci"):
        files += [p for p in (ROOT / top).rglob("*") if p.suffix in (".py", ".md", "")]
    names = set()
    for file in files:
        if file.is_file() and file.name != "test_settings_keys.py":  # its typos are on purpose
            text = file.read_text(encoding="utf-8", errors="replace")
            names |= set(re.findall(r"\bEDI_BRIDGE_[A-Z0-9_]+", text))
            # A typo the docs show being refused is one on purpose.
            names -= set(re.findall(r"unknown environment variable (EDI_BRIDGE_[A-Z0-9_]+)", text))
    # "EDI_BRIDGE_DIADOC_*" mentions a family; EDI_BRIDGE_NAME is the env file's placeholder.
    names = {n for n in names if not n.endswith("_")} - {"EDI_BRIDGE_NAME"}
    assert len(names) > 40
    bad = []
    for name in sorted(names):
        try:
            check_names({}, {name: "1"}, sections)
        except ConfigurationError as exc:
            bad.append(str(exc))
    assert bad == []


def _leaf_commands() -> list[tuple[str, ...]]:
    """Every runnable command path, from the root's table (so a new one is covered)."""
    paths = []
    for name, (target, _) in COMMANDS.items():
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in command.list_commands(click.Context(command))]
        else:
            paths.append((name,))
    return paths


# Arguments as a person types them. The commands that never open the database (verify,
# upd, mchd, mock, contract, intake...) ignored a misspelt variable before. The fake's
# name is one that fails at once where the check is missing, instead of serving forever.
ARGS = {
    ("mock", "serve"): ["no-such-fake"],
    ("verify",): ["contract.pdf", "contract.sig"],
    ("mchd", "read"): ["poa.xml"],
    ("upd", "build"): ["upd.json", "--out", "out"],
    ("upd", "read"): ["upd.xml"],
    ("closing", "send"): ["--period", "2026-01", "--seller", "seller.json"],
    ("intake",): ["application.eml"],
    ("contract", "render"): [
        "t.docx",
        "--counterparty",
        "c.json",
        "--number",
        "1",
        "--out",
        "c.pdf",
    ],
}


@pytest.mark.parametrize("path", _leaf_commands(), ids=" ".join)
def test_every_command_refuses_an_unknown_variable_before_it_runs(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDI_BRIDGE_SIGNING_TRUST_STROE", "/etc/ssl/certs")
    args = ["--db", str(tmp_path / "edi.db"), *path, *ARGS.get(path, [])]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stderr.strip().splitlines()) == (
        EXIT_FAILED,
        [
            "edi-bridge: unknown environment variable EDI_BRIDGE_SIGNING_TRUST_STROE: did you "
            "mean EDI_BRIDGE_SIGNING_TRUST_STORE? (unset it, or fix its name)"
        ],
    )
    assert result.stdout == ""
    assert not (tmp_path / "edi.db").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["verify", "--help"], ["mock", "serve", "-h"], ["upd"]]
)
def test_version_and_help_still_work_with_an_unknown_variable(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDI_BRIDGE_SIGNING_TRUST_STROE", "/etc/ssl/certs")
    result = CliRunner().invoke(main, args)
    assert "unknown environment variable" not in result.output
    assert result.output.startswith(("Usage:", "main, version")), result.output
    assert result.exit_code == (2 if args == ["upd"] else 0)  # a bare group: click's usage


def test_known_variables_of_any_section_pass_and_an_adapters_typo_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDI_BRIDGE_PAPER_SCAN_EMAIL", "scans@example.test")
    monkeypatch.setenv("EDI_BRIDGE_MOCK_LATENCY", "0")
    monkeypatch.setenv("EDI_BRIDGE_CDEK_RATE", "2")
    result = CliRunner().invoke(main, ["mock", "list"])
    assert result.exit_code == 0, result.stderr
    assert "diadoc" in result.stdout.split()
    monkeypatch.setenv("EDI_BRIDGE_DIADOC_PASWORD", "secret-value-2")
    result = CliRunner().invoke(main, ["mock", "list"])
    assert result.exit_code == EXIT_FAILED
    assert "did you mean EDI_BRIDGE_DIADOC_PASSWORD?" in result.stderr
    assert "secret-value-2" not in result.output
