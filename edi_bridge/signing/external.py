"""Signing through a configured external command (a CryptoPro tool, a token helper).

Production qualified keys stay in a token or a crypto provider; edi-bridge
writes the document to a private temporary file, runs the command with
placeholders filled in, and reads the detached CMS it writes::

    ExternalCommandSigner(
        ["cryptcp", "-sign", "-thumbprint", "ab12…", "-detached", "-der",
         "-pin", "{pin}", "{in}", "{out}"],
        pin=os.environ["TOKEN_PIN"], certificate="signer.cer", timeout=60)

Placeholders: ``{in}`` (document file), ``{out}`` (signature file the command
must write), ``{dir}`` (the private working directory), ``{pin}`` (the PIN, if
given). The command runs without a shell. The PIN is masked (``***``) in every
error and log line, including the command's stderr quoted in errors. Note that
anything on a command line is visible to other local users (``ps``); prefer a
tool that reads the PIN from its own configuration when that matters.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..errors import ConfigurationError, SignatureError
from .base import Signer
from .trust import load_certificates
from .verify import decode_signature_bytes, parse_signature

log = logging.getLogger("edi_bridge.signing")
PLACEHOLDERS = ("{in}", "{out}", "{dir}", "{pin}")
STDERR_LIMIT = 2000


class ExternalCommandSigner(Signer):
    """Runs ``command`` to make each detached signature."""

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        timeout: float = 60.0,
        certificate: str | Path | bytes | None = None,
        pin: str | None = None,
        env: Mapping[str, str] | None = None,
        input_name: str = "document.bin",
    ) -> None:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise ConfigurationError("signing command is empty")
        if not any("{in}" in a for a in argv) or not any("{out}" in a for a in argv):
            raise ConfigurationError("signing command must contain both {in} and {out}")
        if any("{pin}" in a for a in argv) and not pin:
            raise ConfigurationError("signing command uses {pin} but no PIN is configured")
        if timeout <= 0:
            raise ConfigurationError("signing command timeout must be positive")
        if "/" in input_name or input_name in {"", ".", ".."}:
            raise ConfigurationError("signing input_name must be a plain file name")
        self._argv = argv
        self._timeout = timeout
        self._pin = pin
        self._env = dict(env) if env is not None else None
        self._input_name = input_name
        self._cert_der: bytes | None = None
        if certificate is not None:
            data = certificate if isinstance(certificate, bytes) else Path(certificate).read_bytes()
            try:
                self._cert_der = bytes(load_certificates(data)[0].dump())
            except (IndexError, SignatureError):
                raise ConfigurationError("signing certificate cannot be read") from None

    def __repr__(self) -> str:
        return f"<ExternalCommandSigner {Path(self._argv[0]).name}>"

    def _mask(self, text: str) -> str:
        return text.replace(self._pin, "***") if self._pin else text

    @property
    def certificate(self) -> bytes:
        """The configured certificate, else the one in the first signature made."""
        if self._cert_der is None:
            raise SignatureError(
                "the external signer's certificate is unknown until it has signed once; "
                "configure it"
            )
        return self._cert_der

    def sign_stream(self, chunks: Iterable[bytes]) -> bytes:
        with tempfile.TemporaryDirectory(prefix="edi-bridge-sign-") as tmp:
            work = Path(tmp)  # created 0700: the document is not readable by others
            src = work / self._input_name
            out = work / "signature.p7s"
            with src.open("wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            argv = [self._fill(a, src, out, work) for a in self._argv]
            shown = Path(argv[0]).name
            try:
                proc = subprocess.run(
                    argv,
                    capture_output=True,
                    timeout=self._timeout,
                    env=self._env,
                    cwd=work,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
            except FileNotFoundError:
                raise SignatureError(f"signing command {shown!r} not found") from None
            except PermissionError:
                raise SignatureError(f"signing command {shown!r} is not executable") from None
            except subprocess.TimeoutExpired:
                raise SignatureError(
                    f"signing command {shown!r} timed out after {self._timeout:g} s"
                ) from None
            stderr = self._mask(proc.stderr.decode("utf-8", "replace")).strip()
            if len(stderr) > STDERR_LIMIT:
                stderr = "…" + stderr[-STDERR_LIMIT:]
            if proc.returncode != 0:
                raise SignatureError(
                    f"signing command {shown!r} failed with exit code {proc.returncode}"
                    + (f": {stderr}" if stderr else "")
                )
            if not out.is_file() or out.stat().st_size == 0:
                raise SignatureError(
                    f"signing command {shown!r} wrote no signature to {{out}}"
                    + (f": {stderr}" if stderr else "")
                )
            raw = out.read_bytes()
        try:
            der = decode_signature_bytes(raw)
            parsed = parse_signature(der)
        except SignatureError as exc:
            raise SignatureError(
                f"signing command {shown!r} wrote no CMS signature: {exc}"
            ) from None
        if parsed.content is not None:
            raise SignatureError(
                f"signing command {shown!r} made an attached signature; a detached one is needed"
            )
        if self._cert_der is None and parsed.certificates:
            self._cert_der = bytes(parsed.certificates[0].dump())
        return der

    def _fill(self, arg: str, src: Path, out: Path, work: Path) -> str:
        return (
            arg.replace("{in}", str(src))
            .replace("{out}", str(out))
            .replace("{dir}", str(work))
            .replace("{pin}", self._pin or "")
        )


__all__ = ["PLACEHOLDERS", "ExternalCommandSigner"]
