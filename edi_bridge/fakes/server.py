"""Running an operator fake on loopback, with fault injection and recording.

Every fake (Diadoc, SBIS, Russian Post, CDEK, …) is a WSGI application that
speaks its operator's protocol. This module gives them what they share:

* :class:`FakeServer` serves an app on ``127.0.0.1`` in a background thread
  (werkzeug), for tests and for ``edi-bridge mock serve``;
* :class:`Faults` decides, per request, whether to answer with a server error,
  a 429 with Retry-After, a delay, a dropped connection or a truncated body,
  either by probability (seeded) or from a queue of forced faults; the
  ``invalid_json``, ``html`` and ``reset`` faults let the operator act first and
  then spoil its answer (garbled JSON, a proxy's HTML page, a connection cut
  mid-body), the case where a client cannot know whether its request took;
* a recording middleware writes each request and response as a JSON line,
  with secrets masked.

Fakes are found through the entry-point group ``edi_bridge.fakes``; each entry
is a callable taking :class:`FakeOptions` and returning a :class:`Fake`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import io
import json
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from ..config import env_name
from ..errors import ConfigurationError, UnsafeInput, ValidationError
from ..masking import MASK, mask_secrets
from ..safexml import parse_untrusted
from .page import PAGE_PREFIX

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
FAKES_GROUP = "edi_bridge.fakes"

_SECRET_PATH_RE = re.compile(r"auth|token|login|session", re.IGNORECASE)


FAULT_KINDS = (
    "500",
    "502",
    "503",
    "429",
    "timeout",
    "drop",
    "truncate",
    "invalid_json",
    "html",
    "reset",
)
# Faults that run the request first, so the operator's state changes.
AFTER_FAULTS = frozenset({"invalid_json", "html", "reset"})


@dataclasses.dataclass
class Faults:
    """Which faults to inject.

    ``rates`` maps a fault kind (see FAULT_KINDS) to a probability per
    request; ``forced`` is a queue of faults for the next requests, used
    first. ``delay`` is how long a ``timeout`` fault waits before answering
    (longer than the client's timeout), ``latency`` a delay on every answer.
    Paths matching ``exempt`` (such as auth endpoints) never fail by chance.
    """

    rates: dict[str, float] = dataclasses.field(default_factory=dict)
    seed: int | None = None
    delay: float = 2.0
    latency: float = 0.0
    retry_after: float = 0.0
    exempt: tuple[str, ...] = ()
    forced: deque[str] = dataclasses.field(default_factory=deque)
    injected: dict[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, rate in self.rates.items():
            if kind not in FAULT_KINDS:
                raise ValidationError(
                    f"faults.{kind}", f"unknown fault; expected one of {', '.join(FAULT_KINDS)}"
                )
            if not 0 <= rate <= 1:  # also refuses NaN
                raise ValidationError(f"faults.{kind}", f"rate must be within 0..1, got {rate}")
        if sum(self.rates.values()) > 1 + 1e-9:
            raise ValidationError("faults", "the rates add up to more than 1")
        for name in ("delay", "latency", "retry_after"):
            value = getattr(self, name)
            if not 0 <= value < float("inf"):  # also refuses NaN
                raise ValidationError(
                    f"faults.{name}", f"must be a non-negative number of seconds, got {value}"
                )
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None, **kw: Any) -> Faults:
        """``"500=0.1,timeout=0.05,latency=0.05"`` -> Faults."""
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, _, value = (x.strip() for x in part.partition("="))
            try:
                number = float(value)
            except ValueError:
                raise ValidationError(f"faults.{name}", f"{part!r} is not NAME=NUMBER") from None
            if name in rates:
                raise ValidationError(f"faults.{name}", "given twice")
            if name == "seed":
                if not number.is_integer():
                    raise ValidationError("faults.seed", f"must be a whole number, got {value}")
                kw[name] = int(number)
            elif name in ("delay", "latency", "retry_after"):
                kw[name] = number
            else:
                rates[name] = number
        return cls(rates=rates, **kw)

    def force(self, *kinds: str) -> None:
        with self._lock:
            self.forced.extend(kinds)

    def pick(self, path: str) -> str | None:
        if path == "/" or path.startswith(PAGE_PREFIX):
            return None  # the counterparty page is the developer's, not the client's
        with self._lock:
            if self.forced:
                kind: str | None = self.forced.popleft()
            elif any(path.startswith(e) for e in self.exempt):
                kind = None
            else:
                kind = None
                roll = self._rng.random()
                for name, rate in self.rates.items():
                    if roll < rate:
                        kind = name
                        break
                    roll -= rate
            if kind:
                self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())


class FaultMiddleware:
    def __init__(self, app: WSGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        kind = self.faults.pick(environ.get("PATH_INFO", ""))
        if kind is None:
            return self.app(environ, start_response)
        if kind in ("500", "502", "503"):
            return Response("injected fault", status=int(kind))(environ, start_response)
        if kind == "429":
            resp = Response("rate limited", status=429)
            resp.headers["Retry-After"] = f"{self.faults.retry_after:g}"
            return resp(environ, start_response)
        if kind == "timeout":
            time.sleep(self.faults.delay)
            return self.app(environ, start_response)
        if kind == "drop":
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return []
        if kind in AFTER_FAULTS:
            return _spoiled(kind, self.app, environ, start_response)
        # truncate: announce more than we send, so the client sees a cut body.
        body = b'{"truncated": '
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "4096")])
        return [body]


def _spoiled(
    kind: str, app: WSGIApp, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Let ``app`` answer, then spoil the answer as ``kind`` says."""
    answer = Response.from_app(app, environ, buffered=True)
    body = answer.get_data()
    if kind == "invalid_json":
        # A full-length answer that is not JSON (cut short and padded).
        garbled = (body[: max(1, len(body) // 2)] or b"{") + b"\x00<"
        headers = [("Content-Type", "application/json; charset=utf-8")]
        start_response("200 OK", [*headers, ("Content-Length", str(len(garbled)))])
        return [garbled]
    if kind == "html":
        page = b"<html><body><h1>502 Bad Gateway</h1>upstream hiccup</body></html>"
        headers = [("Content-Type", "text/html"), ("Content-Length", str(len(page)))]
        start_response("200 OK", headers)
        return [page]
    # reset: the real status and headers, half the body, then the connection goes.
    headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
    start_response(answer.status, [*headers, ("Content-Length", str(len(body) + 4096))])
    sock = environ.get("werkzeug.socket")
    half = body[: len(body) // 2]

    def cut() -> Iterable[bytes]:
        yield half
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    return cut()


class RecordMiddleware:
    """Writes ``{method, path, query, request, status, response}`` JSON lines."""

    def __init__(self, app: WSGIApp, sink: IO[str]) -> None:
        self.app = app
        self.sink = sink
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        # The app reads the body again: hand it a fresh stream of the same bytes.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        response = Response.from_app(self.app, environ, buffered=True)
        line = {
            "method": request.method,
            "path": request.path,
            "query": mask_secrets(dict(request.args)),
            "request": _readable(body, request.content_type),
            "status": response.status_code,
            "response": _readable(response.get_data(), response.content_type),
        }
        if _SECRET_PATH_RE.search(request.path) and isinstance(line["response"], str):
            line["response"] = MASK  # a bare token answered by an auth endpoint
        with self._lock:
            self.sink.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.sink.flush()
        return response(environ, start_response)


def _secret_name(name: str) -> bool:
    return bool(mask_secrets({name: ""})[name] == MASK)


def _masked_xml(body: bytes) -> str | None:
    """The XML with the text of secret-named elements and attributes masked (or None)."""
    try:
        root = parse_untrusted(body, what="recorded XML")
    except UnsafeInput:
        return None
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.text and node.text.strip() and _secret_name(etree.QName(node).localname):
            node.text = MASK
        for key in list(node.attrib):
            if _secret_name(etree.QName(key).localname):
                node.attrib[key] = MASK
    return str(mask_secrets(etree.tostring(root, encoding="unicode")))


def _readable(body: bytes, content_type: str | None) -> Any:
    if not body:
        return None
    ctype = content_type or ""
    if "json" in ctype:
        try:
            return mask_secrets(json.loads(body))
        except ValueError:
            pass
    if "xml" in ctype:
        masked = _masked_xml(body[: 1 << 20])
        if masked is not None:
            return masked[:65536]
    if ctype.startswith(("text/", "application/xml", "application/soap")) or "json" in ctype:
        return mask_secrets(body[:65536].decode("utf-8", "replace"))
    return {"bytes": len(body)}


class Fake(Protocol):
    """An operator fake: a WSGI app plus the settings that point an adapter at it."""

    name: str

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]: ...

    def exports(self, base_url: str) -> dict[str, str]:
        """``EDI_BRIDGE_*`` variables that point the adapter at ``base_url``."""
        ...


@dataclasses.dataclass(frozen=True)
class FakeOptions:
    scenario: str = "sign"
    faults: Faults | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)


class FakeServer:
    """Serves a fake on 127.0.0.1 in a daemon thread."""

    def __init__(
        self,
        fake: Fake,
        *,
        port: int = 0,
        faults: Faults | None = None,
        record: str | Path | IO[str] | None = None,
    ) -> None:
        self.fake = fake
        self.faults = faults or Faults()
        app: WSGIApp = FaultMiddleware(fake, self.faults)
        self._record_file: IO[str] | None = None
        if record is not None:
            if isinstance(record, (str, Path)):
                # Closed in stop(); the server outlives this constructor.
                self._record_file = Path(record).open("a", encoding="utf-8")  # noqa: SIM115
                sink: IO[str] = self._record_file
            else:
                sink = record
            app = RecordMiddleware(app, sink)
        try:
            self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exports(self) -> dict[str, str]:
        return self.fake.exports(self.url)

    def settings(self, **extra: str) -> dict[str, str]:
        """Bridge settings (``<name>.<key>``) pointing at this server, plus ``extra`` keys
        of the same section (``timeout="2"``): the exports, read by the config rule."""
        section = self.fake.name
        prefix = env_name(section) + "_"
        keys = {k.removeprefix(prefix).lower(): v for k, v in self.exports().items()}
        keys.update(extra)
        return {f"{section}.{k}": v for k, v in keys.items()}

    def start(self, *, poll_interval: float = 0.5) -> FakeServer:
        """Serve in a daemon thread; ``stop()`` waits up to ``poll_interval`` seconds."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=f"fake-{self.fake.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._record_file is not None:
            self._record_file.close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fake_names() -> list[str]:
    return sorted(ep.name for ep in importlib.metadata.entry_points(group=FAKES_GROUP))


def load_fake(name: str, options: FakeOptions) -> Fake:
    for ep in importlib.metadata.entry_points(group=FAKES_GROUP):
        if ep.name == name:
            factory = ep.load()
            fake: Fake = factory(options)
            return fake
    known = ", ".join(fake_names()) or "none"
    raise ConfigurationError(f"no fake named {name!r} (installed: {known})")


__all__ = [
    "AFTER_FAULTS",
    "FAKES_GROUP",
    "FAULT_KINDS",
    "Fake",
    "FakeOptions",
    "FakeServer",
    "Faults",
    "fake_names",
    "load_fake",
    "mask_secrets",
]
