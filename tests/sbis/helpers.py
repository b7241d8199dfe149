"""Small helpers for the SBIS tests: raw JSON-RPC calls and lossy middleware."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import requests
from edi_bridge_providers.sbis.fake import SbisFake
from edi_bridge_providers.sbis.wire import CONTENT_TYPE, SESSION_HEADER
from werkzeug.wrappers import Request, Response

from edi_bridge import Bridge, Counterparty, Exchange
from edi_bridge.fakes.server import FakeServer
from edi_bridge.testing import sample_contract, sample_counterparty


def rpc(
    server: FakeServer,
    method: str,
    params: dict[str, Any],
    session: str | None = None,
    content_type: str = CONTENT_TYPE,
) -> requests.Response:
    path = "/auth/service/" if method == "СБИС.Аутентифицировать" else "/service/?srv=1"
    headers = {"Content-Type": content_type}
    if session:
        headers[SESSION_HEADER] = session
    body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    return requests.post(
        server.url + path,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers=headers,
        timeout=5,
    )


def session(server: FakeServer, fake: SbisFake) -> str:
    s = fake.options
    resp = rpc(
        server,
        "СБИС.Аутентифицировать",
        {"Параметр": {"Логин": s["login"], "Пароль": s["password"]}},
    )
    return str(resp.json()["result"])


class LoseAnswer:
    """Lets the fake do the ``method`` call, then answers 500 as if the reply was lost."""

    name = "sbis"

    def __init__(self, fake: SbisFake, method: str, times: int = 1) -> None:
        self.fake = fake
        self.method = method
        self.left = times
        self._lock = threading.Lock()

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        response = Response.from_app(self.fake, environ, buffered=True)
        try:
            method = json.loads(body).get("method")
        except ValueError:
            method = None
        with self._lock:
            lose = method == self.method and self.left > 0 and response.status_code == 200
            if lose:
                self.left -= 1
        if lose:
            return Response("Internal Server Error", status=500)(environ, start_response)
        return response(environ, start_response)


def party(scenario: str, fake: SbisFake, seed: str | None = None) -> Counterparty:
    cp = sample_counterparty(seed or f"sbis-{scenario}")
    fake.add_counterparty(cp, scenario)
    return cp


def send_many(bridge: Bridge, fake: SbisFake, count: int, prefix: str) -> list[Exchange]:
    out = []
    for n in range(count):
        cp = party("sign", fake, seed=f"{prefix}-{n}")
        out.append(
            bridge.send(
                cp,
                sample_contract(f"{prefix}-{n}"),
                idempotency_key=f"{prefix}-{n}",
                provider="sbis",
            )
        )
    return out


class RefuseDownloads:
    """Passes everything to the fake but answers ``status`` to downloads of the
    counterparty's signatures on the documents in ``documents``."""

    name = "sbis"

    def __init__(self, fake: SbisFake, status: int = 403) -> None:
        self.fake = fake
        self.status = status
        self.documents: set[str] = set()
        self.server: FakeServer | None = None  # the server it runs in, once started

    def exports(self, base_url: str) -> dict[str, str]:
        return self.fake.exports(base_url)

    def _refused(self, path: str) -> bool:
        if not path.startswith("/disk/"):
            return False
        data = self.fake.world.files.get(path.rsplit("/", 1)[-1])
        docs = [self.fake.world.documents[d] for d in self.documents]
        return data is not None and any(
            sig.data == data and sig.inn == doc.party_inn
            for doc in docs
            for att in doc.attachments
            for sig in att.signatures
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._refused(str(environ.get("PATH_INFO") or "")):
            return Response("refused", status=self.status)(environ, start_response)
        return self.fake(environ, start_response)
