"""The HTTP client reads the environment once, and its rate limit keeps a margin."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import requests.utils
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from edi_bridge.http import HttpClient, transport


@pytest.fixture
def url() -> Iterator[str]:
    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        return Response(Request(environ).path)(environ, start)

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def test_the_proxy_environment_is_read_once_per_host(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = requests.utils.get_environ_proxies

    def counted(u: str, no_proxy: str | None = None) -> dict[str, str]:
        asked.append(u)
        return real(u, no_proxy)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counted)
    http = HttpClient(url, provider="test", rate=10_000, verify=False)
    try:
        assert [http.send_once("GET", f"/p{i}").text for i in range(3)] == ["/p0", "/p1", "/p2"]
    finally:
        http.close()
    assert len(asked) == 1


def test_a_proxy_set_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = HttpClient("https://operator.example", provider="test")
    try:
        assert http.proxies("https://operator.example/V3/PostMessage") == {
            "https": "http://proxy.invalid:3128"
        }
    finally:
        http.close()


def test_rate_limit_turns_are_spaced_a_margin_wider_than_the_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    slept: list[float] = []
    monkeypatch.setattr(transport.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(transport.time, "sleep", slept.append)
    limiter = transport.RateLimiter(100.0, 4)
    for _ in range(3):
        with limiter:
            pass
    # All three asked at once: the second waits one turn, the third two.
    assert slept == pytest.approx([1 / 95, 2 / 95])
