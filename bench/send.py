"""send: N contracts of 50 KB through Bridge.send against a bare client's floor.

Full path: requisites validation (counterparty and document models), store
writes (content, exchange, history, signature, events), signing with the
software signer, PostMessage to the Diadoc fake. Floor, for each document in
the same run against the same fake: the same signer called directly, then a
bare ``requests.Session`` posting the same MessageToPost body (base64 content
and signature, metadata) with the token already in hand. The signer's cost is
in both, so the ratio is what the library adds. Floor and full path alternate
document by document (the fake keeps every message, so both meet it in the same
state), and the client's rate limit is raised: politeness is a policy, not a cost.
"""

from __future__ import annotations

import base64
import json
import tempfile
import time
from pathlib import Path

import requests
from edi_bridge_providers.diadoc.adapter import DiadocProvider
from edi_bridge_providers.diadoc.messages import custom_document_id, operation_id

from edi_bridge import Bridge
from edi_bridge.models import Document, parse_counterparty
from edi_bridge.provider import ProviderContext
from edi_bridge.signing import throwaway_signer
from edi_bridge.testing import sample_counterparty
from edi_bridge.testing.samples import sample_counterparty_data

from .common import Result, contract, fake_process

SIZE = 50 * 1024
TARGET = 0.7
RATE = 10_000  # requests/s allowed to the client in this benchmark


def _floor_body(doc: Document, content: bytes, signature: bytes, box: str, to: str) -> bytes:
    message = {
        "FromBoxId": box,
        "ToBoxId": to,
        "DocumentAttachments": [
            {
                "TypeNamedId": "Contract",
                "SignedContent": {
                    "Signature": base64.b64encode(signature).decode("ascii"),
                    "Content": base64.b64encode(content).decode("ascii"),
                },
                "Metadata": [
                    {"Key": "FileName", "Value": doc.file_name},
                    {"Key": "DocumentNumber", "Value": doc.number},
                    {"Key": "DocumentDate", "Value": doc.date.strftime("%d.%m.%Y")},
                    {"Key": "ContractType", "Value": "Договор"},
                ],
                "CustomDocumentId": custom_document_id("floor-" + doc.number),
                "NeedRecipientSignature": True,
            }
        ],
    }
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def run(n: int) -> Result:
    signer = throwaway_signer()
    with fake_process("--counterparty", "bench-send") as fake, tempfile.TemporaryDirectory() as tmp:
        # Floor: the token and the recipient's box are known before timing.
        adapter = DiadocProvider(ProviderContext(config=fake.adapter_config()))
        credential = adapter.client.auth
        auth = credential.apply(credential.current(adapter.client.http))
        adapter.close()
        session = requests.Session()
        url = fake.url + "/V3/PostMessage"
        headers = {
            **auth,
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
        }
        floor_docs = [contract(i, SIZE, prefix="F") for i in range(n)]
        data = sample_counterparty_data("bench-send")
        # The client's own politeness (100 requests/s by default) is a policy, not a
        # cost; it is raised here so the figure shows what the library adds in CPU.
        settings = fake.settings(rate=str(RATE))
        with Bridge.open(Path(tmp) / "send.db", settings=settings, signer=signer) as bridge:
            # Warm: token and the counterparty's box lookup, once per process.
            bridge.send(sample_counterparty("bench-send"), contract(-1, SIZE), provider="diadoc")
            # Each document: content and requisites arrive as raw data, as from a backend.
            raw = [(contract(i, SIZE).source, i) for i in range(n)]
            floor_s = full_s = 0.0
            # This process's CPU time (the fake runs in its own): what the machine's
            # load does not change, unlike the wall-clock rates.
            floor_cpu = full_cpu = 0.0
            # Floor and full path alternate, document by document, so both meet the
            # fake in the same state (it keeps every message it receives).
            for doc, (content, i) in zip(floor_docs, raw, strict=True):
                start, cpu = time.perf_counter(), time.process_time()
                floor_content = doc.source
                assert isinstance(floor_content, bytes)
                signature = signer.sign(floor_content)
                body = _floor_body(doc, floor_content, signature, fake.box_id, fake.to_box)
                resp = session.post(
                    url,
                    params={"operationId": operation_id("floor-" + doc.number)},
                    data=body,
                    headers=headers,
                    timeout=60,
                )
                resp.raise_for_status()
                resp.json()
                floor_s += time.perf_counter() - start
                floor_cpu += time.process_time() - cpu

                start, cpu = time.perf_counter(), time.process_time()
                assert isinstance(content, bytes)
                counterparty = parse_counterparty(data)
                document = Document.from_bytes(
                    content,
                    kind="contract",
                    number=f"L-{i}",
                    date="2026-03-05",
                    file_name=f"contract-L-{i}.pdf",
                )
                exchange = bridge.send(counterparty, document, provider="diadoc")
                full_s += time.perf_counter() - start
                full_cpu += time.process_time() - cpu
                if exchange.status != "sent":
                    raise RuntimeError(f"send ended {exchange.status}: {exchange.last_error}")
        session.close()
    floor_rate, full_rate = n / floor_s, n / full_s
    ratio = full_rate / floor_rate
    return Result(
        name="send",
        value=round(full_rate, 1),
        unit="documents/s",
        floor=round(floor_rate, 1),
        ratio=round(ratio, 3),
        target=f"ratio >= {TARGET}",
        met=ratio >= TARGET,
        workload=(
            f"{n} contracts of 50 KB, one at a time, EC P-256 software signer, SQLite store, "
            "Diadoc fake in its own process on 127.0.0.1, client rate limit raised to "
            f"{RATE:,} requests/s; floor: same signer + bare requests.Session posting the same "
            "MessageToPost body, alternating with the full path document by document"
        ),
        extra={
            "ms_per_document": round(1000 * full_s / n, 2),
            "floor_ms_per_document": round(1000 * floor_s / n, 2),
            "cpu_ms_per_document": round(1000 * full_cpu / n, 2),
            "floor_cpu_ms_per_document": round(1000 * floor_cpu / n, 2),
            "cpu_ratio": round(floor_cpu / full_cpu, 3),
        },
    )
