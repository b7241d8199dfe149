"""The external-command signer runs a configured command with {in}/{out} placeholders."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from edi_bridge.errors import ConfigurationError, SignatureError
from edi_bridge.signing import (
    ExternalCommandSigner,
    Verifier,
    make_test_identity,
    signer_from_settings,
    subject_name,
)

from .pki import DOCUMENT

TOOL = textwrap.dedent(
    """
    import sys, time
    mode, key, cert, pin, src, out = sys.argv[1:7]
    if mode == "fail":
        sys.stderr.write(f"token refused pin {pin}: wrong PIN\\n")
        sys.exit(3)
    if mode == "sleep":
        time.sleep(30)
    if mode == "nothing":
        sys.exit(0)
    from edi_bridge.signing import SoftwareSigner
    signer = SoftwareSigner.from_pem(key, cert)
    with open(out, "wb") as fh:
        fh.write(signer.sign_file(src))
    """
)


@pytest.fixture
def tool(tmp_path: Path) -> list[str]:
    key, cert = make_test_identity(subject_name(common_name="Токен", inn_le="7707083893"))
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path = tmp_path / "cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    script = tmp_path / "tool.py"
    script.write_text(TOOL)
    return [sys.executable, str(script), "sign", str(key_path), str(cert_path), "{pin}"]


def _with_mode(argv: list[str], mode: str) -> list[str]:
    return [argv[0], argv[1], mode, *argv[3:], "{in}", "{out}"]


def test_command_output_verifies(tool: list[str]) -> None:
    signer = ExternalCommandSigner(_with_mode(tool, "sign"), pin="1234", timeout=30)
    sig = signer.sign(DOCUMENT)
    verdict = Verifier(allow_unchecked_chain=True).verify(sig, DOCUMENT)
    assert verdict.ok
    assert verdict.signer is not None
    assert verdict.signer.inn_le == "7707083893"
    # The certificate is learnt from the first signature when not configured.
    assert signer.certificate


def test_failing_command_error_carries_stderr_without_the_pin(tool: list[str]) -> None:
    signer = ExternalCommandSigner(_with_mode(tool, "fail"), pin="secret-pin-9876")
    with pytest.raises(SignatureError) as caught:
        signer.sign(DOCUMENT)
    message = str(caught.value)
    assert "exit code 3" in message
    assert "wrong PIN" in message
    assert "secret-pin-9876" not in message
    assert "***" in message
    assert "secret-pin-9876" not in repr(signer)


def test_command_that_hangs_is_stopped_at_the_timeout(tool: list[str]) -> None:
    signer = ExternalCommandSigner(_with_mode(tool, "sleep"), pin="1", timeout=1)
    started = time.monotonic()
    with pytest.raises(SignatureError, match="timed out after 1 s"):
        signer.sign(DOCUMENT)
    assert time.monotonic() - started < 10


def test_command_that_writes_nothing_is_an_error(tool: list[str]) -> None:
    signer = ExternalCommandSigner(_with_mode(tool, "nothing"), pin="1")
    with pytest.raises(SignatureError, match="wrote no signature"):
        signer.sign(DOCUMENT)


def test_missing_command_is_an_error() -> None:
    signer = ExternalCommandSigner(["/nonexistent/cryptcp", "{in}", "{out}"])
    with pytest.raises(SignatureError, match="not found"):
        signer.sign(DOCUMENT)


@pytest.mark.parametrize(
    ("argv", "rule"),
    [
        (["tool", "{in}"], r"\{in\} and \{out\}"),
        (["tool", "{in}", "{out}", "-pin", "{pin}"], "no PIN"),
        ([], "empty"),
    ],
)
def test_bad_command_configuration_is_refused(argv: list[str], rule: str) -> None:
    with pytest.raises(ConfigurationError, match=rule):
        ExternalCommandSigner(argv)


def test_settings_choose_the_command_signer(tool: list[str]) -> None:
    command = " ".join(f"'{a}'" for a in _with_mode(tool, "sign"))
    signer = signer_from_settings(
        {"signing.kind": "command", "signing.command": command, "signing.pin": "1"}, environ={}
    )
    assert isinstance(signer, ExternalCommandSigner)
    assert Verifier(allow_unchecked_chain=True).verify(signer.sign(b"x"), b"x").ok


def test_settings_without_kind_give_no_signer() -> None:
    assert signer_from_settings({}, environ={}) is None
    with pytest.raises(ConfigurationError, match=r"signing\.kind"):
        signer_from_settings({"signing.kind": "magic"}, environ={})
