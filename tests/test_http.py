"""The shared HTTP layer over real HTTP on 127.0.0.1: credentials, errors, JSON, retries."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import tenacity
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from edi_bridge.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    Forbidden,
    ProviderNotFound,
    RateLimited,
    RejectedRequest,
    TransientError,
)
from edi_bridge.http import Credential, ErrorMap, HttpClient, Transport
from edi_bridge.retry import RetryPolicy

Answer = Callable[[Request], Response]


class Server:
    """A loopback server whose answer per path is set by the test; it counts requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        self._srv = make_server("127.0.0.1", 0, self, threaded=True)
        self._thread = threading.Thread(target=self._srv.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._srv.server_port}"

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        answer = self.routes.get(request.path, lambda r: Response("no route", status=404))
        return answer(request)(environ, start)

    def stop(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)


class Token(Credential):
    def __init__(self, lifetime: float | None = None) -> None:
        super().__init__()
        self.lifetime = lifetime

    def obtain(self, http: HttpClient) -> tuple[str, float | None]:
        resp = http.send_once("POST", "/login")
        return resp.text, self.lifetime

    def apply(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.routes["/login"] = lambda r: Response(f"t{srv.hits['/login']}")
    yield srv
    srv.stop()


def client(
    server: Server, *, attempts: int = 4, credential: Credential | None = None
) -> HttpClient:
    return HttpClient(
        server.url,
        provider="test",
        credential=credential,
        timeout=2,
        retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002),
    )


def test_a_permanent_503_costs_exactly_the_configured_attempts_each_logged(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    server.routes["/x"] = lambda r: Response("down", status=503)
    http = client(server, attempts=4, credential=Token())
    with caplog.at_level(logging.INFO, "edi_bridge.retry"), pytest.raises(TransientError):
        http.json("GET", "/x")
    assert server.hits["/x"] == 4
    assert server.hits["/login"] == 1  # the credential is kept across attempts
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3
    assert "attempt 1 of 4" in retries[0]
    assert "attempt 3 of 4" in retries[2]


def test_a_failing_sign_in_spends_the_same_budget_as_the_call(server: Server) -> None:
    server.routes["/login"] = lambda r: Response("down", status=503)
    server.routes["/x"] = lambda r: Response("{}", content_type="application/json")
    with pytest.raises(TransientError):
        client(server, attempts=3, credential=Token()).json("GET", "/x")
    assert server.hits["/login"] == 3
    assert "/x" not in server.hits


def test_a_401_costs_exactly_one_new_sign_in(server: Server) -> None:
    def answer(request: Request) -> Response:
        ok = request.headers.get("Authorization") == "Bearer t2"
        return Response('{"ok": 1}' if ok else "expired", status=200 if ok else 401)

    server.routes["/x"] = answer
    token = Token()
    assert client(server, credential=token).json("GET", "/x") == {"ok": 1}
    assert token.sign_ins == 2
    assert server.hits["/x"] == 2


def test_a_401_after_signing_in_again_is_an_auth_error_without_a_loop(server: Server) -> None:
    server.routes["/x"] = lambda r: Response("no", status=401)
    token = Token()
    with pytest.raises(AuthError):
        client(server, credential=token).json("GET", "/x")
    assert token.sign_ins == 2
    assert server.hits["/x"] == 2


def test_a_credential_is_renewed_before_it_expires(server: Server) -> None:
    server.routes["/x"] = lambda r: Response("{}", content_type="application/json")
    token = Token(lifetime=0.05)
    token.margin = 0.0
    http = client(server, credential=token)
    http.json("GET", "/x")
    http.json("GET", "/x")
    assert token.sign_ins == 1
    time.sleep(0.1)
    http.json("GET", "/x")
    assert token.sign_ins == 2


def test_a_success_that_is_not_json_is_retried_not_taken_as_a_refusal(server: Server) -> None:
    def answer(request: Request) -> Response:
        if server.hits["/x"] == 1:
            return Response("<html>proxy</html>", content_type="text/html")
        return Response(json.dumps({"n": 2}), content_type="application/json")

    server.routes["/x"] = answer
    assert client(server).json("GET", "/x") == {"n": 2}
    assert server.hits["/x"] == 2


def test_a_success_that_is_never_json_ends_as_a_transient_error_naming_the_type(
    server: Server,
) -> None:
    server.routes["/x"] = lambda r: Response("<html/>", content_type="text/html")
    with pytest.raises(TransientError, match=r"not JSON \(text/html\)"):
        client(server, attempts=2).json("GET", "/x")


def test_retry_after_is_waited_for(server: Server) -> None:
    def answer(request: Request) -> Response:
        if server.hits["/x"] == 1:
            return Response("slow down", status=429, headers={"Retry-After": "0.3"})
        return Response("{}", content_type="application/json")

    server.routes["/x"] = answer
    started = time.monotonic()
    client(server).json("GET", "/x")
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, Forbidden), (404, ProviderNotFound), (409, Conflict), (413, RejectedRequest)],
)
def test_the_default_error_map(server: Server, status: int, error: type[Exception]) -> None:
    server.routes["/x"] = lambda r: Response("operator says no", status=status)
    with pytest.raises(error, match="operator says no"):
        client(server).json("GET", "/x")
    assert server.hits["/x"] == 1  # refusals are not retried


def test_an_adapter_extends_the_error_map_with_its_codes(server: Server) -> None:
    class Coded(ErrorMap):
        def code(self, resp: Any) -> str | None:
            return str(resp.headers.get("X-Code") or "") or None

    server.routes["/x"] = lambda r: Response("gone", status=400, headers={"X-Code": "missing"})
    http = client(server)
    http.error_mapper = Coded("test", codes={"missing": ProviderNotFound})
    with pytest.raises(ProviderNotFound) as caught:
        http.json("GET", "/x")
    assert caught.value.code == "missing"


@pytest.mark.parametrize(
    ("key", "value"),
    [("timeout", "soon"), ("timeout", "-1"), ("retry_attempts", "0"), ("rate", "nan")],
)
def test_transport_settings_refuse_nonsense_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"x\.{key}"):
        Transport.from_config("x", {key: value}, "https://example.ru")


def test_tls_verification_stays_on_for_hosts_other_than_loopback() -> None:
    with pytest.raises(ConfigurationError, match="TLS"):
        Transport.from_config("x", {"tls_verify": "false"}, "https://example.ru")
    local = Transport.from_config("x", {"tls_verify": "false"}, "http://127.0.0.1:1")
    assert local.tls_verify is False


def test_a_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.01, max_retry_after=0.05)
    calls: list[float] = []

    def limited() -> None:
        calls.append(time.monotonic())
        raise RateLimited("rate limited", retry_after=3600, provider="test")

    with pytest.raises(RateLimited):
        policy.call(limited)
    assert len(calls) == 2
    assert calls[1] - calls[0] < 1


def _waits(policy: RetryPolicy, attempt: int, n: int) -> list[float]:
    waits = []
    for _ in range(n):
        state = tenacity.RetryCallState(
            retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={}
        )
        state.attempt_number = attempt
        state.set_exception((TransientError, TransientError("x"), None))
        waits.append(policy._wait(state))
    return waits


def test_retries_are_jittered_and_capped() -> None:
    random.seed(5)
    policy = RetryPolicy(attempts=6, base_delay=0.2, max_delay=1.0)
    for attempt in (1, 2, 3, 6):
        waits = _waits(policy, attempt, 200)
        ceiling = min(1.0, 0.2 * 2 ** (attempt - 1))
        assert all(0 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 150, "waits are not jittered"
        # Full jitter: spread over the whole range, not bunched at the top.
        assert min(waits) < ceiling / 4 < ceiling * 3 / 4 < max(waits)
