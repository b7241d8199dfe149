"""Every input file is checked for type and size before it is read, and refused
naming the argument: no MemoryError on /dev/zero, no hang on a FIFO."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge import ValidationError
from edi_bridge.cli import main
from edi_bridge.files import LIMITS, read_bounded
from edi_bridge.models import load_counterparty


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _oversized(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"big-{kind}"
    with path.open("wb") as fh:
        fh.truncate(LIMITS[kind] + 1)  # sparse: costs no disk
    return path


def test_a_counterparty_file_that_is_a_device_is_refused_naming_the_argument() -> None:
    with pytest.raises(ValidationError) as refused:
        load_counterparty("/dev/zero")
    assert refused.value.field == "counterparty"
    assert "not a regular file" in str(refused.value)


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ValidationError, match="not a regular file"):
        load_counterparty(_fifo(tmp_path))
    assert time.monotonic() - started < 5


def test_a_counterparty_file_over_its_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="larger than"):
        load_counterparty(_oversized(tmp_path, "counterparty"))


def test_a_file_within_its_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "small"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, "--file", kind="scan") == b"x" * 100


def test_upd_read_of_a_device_fails_naming_the_file_argument() -> None:
    result = CliRunner().invoke(main, ["upd", "read", "/dev/zero"])
    assert result.exit_code != 0
    assert "FILE.xml" in result.output
    assert "not a regular file" in result.output


def test_verify_refuses_an_oversized_signature_before_reading_it(tmp_path: Path) -> None:
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF-1.4\n")
    signature = _oversized(tmp_path, "signature")
    result = CliRunner().invoke(main, ["verify", str(document), str(signature)])
    assert result.exit_code == 2
    assert "signature: " in result.output
    assert "larger than" in result.output
