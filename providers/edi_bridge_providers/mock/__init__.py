"""The mock provider: a real adapter whose operator lives in the database.

It gives unique ids, records every document it receives, and plays the
counterparty by the exchange's scenario (see :mod:`edi_bridge.fakes.scenario`).
Its world is kept in ``mock_*`` tables of the Bridge's own database, so separate
CLI processes (``send`` in one, ``poll`` in the next) see the same operator.

One poll round advances the world once: when the caller has read every event
already produced, the next ``poll`` lets each open document's counterparty
take its next step. The counterparty signs with a throwaway certificate that
carries its INN and OGRN, so signature checks against requisites pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Mapping
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from edi_bridge.errors import TransientError, ValidationError
from edi_bridge.fakes.scenario import Play, parse_scenario
from edi_bridge.models import Counterparty
from edi_bridge.provider import (
    Capability,
    EventPage,
    FetchedFile,
    Provider,
    ProviderContext,
    ProviderEvent,
    ProviderEventKind,
    RevocationRequest,
    SendRequest,
    SendResult,
)
from edi_bridge.store import schema
from edi_bridge.store.migrations import migrate

from . import counterparty, revocation

PAGE_SIZE = 100

# The mock's tables are created and versioned by the store's migrations.
messages = schema.mock_messages
mock_events = schema.mock_events
_MOVE = (
    messages.update()
    .where(messages.c.document_id == sa.bindparam("d"))
    .values(
        polls=sa.bindparam("p"), done=sa.bindparam("f"), counterparty_signature=sa.bindparam("s")
    )
)
calls = schema.mock_calls

_KIND = {
    Play.DELIVERED.value: ProviderEventKind.DELIVERED,
    Play.SIGNED.value: ProviderEventKind.SIGNED,
    Play.REJECTED.value: ProviderEventKind.REJECTED,
    **revocation.KINDS,  # a request to annul, and the answers to ours
}
_created: set[str] = set()
_created_lock = threading.Lock()


def _seconds(value: str, field: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValidationError(field, "must be a number of seconds") from None
    if not 0 <= seconds <= 60:
        raise ValidationError(field, "must be between 0 and 60 seconds")
    return seconds


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MockProvider(Provider):
    """Plays an EDI operator and the counterparty; for development and tests."""

    name = "mock"
    operator = "mock"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SEND, Capability.EVENTS, Capability.FETCH, Capability.FIND_SENT}
        | {Capability.ROUTES, Capability.SCENARIOS, Capability.REVOCATION}
    )
    settings_keys: ClassVar[frozenset[str] | None] = frozenset({"scenario", "latency"})

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        engine = context.engine
        if engine is None:
            engine = sa.create_engine("sqlite://")
        self.engine: Engine = engine
        self.default_scenario = str(parse_scenario(context.config.get("scenario")))
        self.latency = _seconds(context.config.get("latency", "0"), "mock.latency")
        key = str(engine.url)
        with _created_lock:
            if key not in _created or key == "sqlite://":
                with engine.begin() as conn:
                    migrate(conn)
                _created.add(key)

    def __repr__(self) -> str:
        return "<MockProvider>"

    # -- sending ---------------------------------------------------------

    def _count_call(self, conn: Connection, key: str) -> int:
        count = conn.execute(
            sa.select(calls.c.count).where(calls.c.idempotency_key == key)
        ).scalar_one_or_none()
        if count is None:
            conn.execute(calls.insert().values(idempotency_key=key, count=1))
            return 1
        conn.execute(calls.update().where(calls.c.idempotency_key == key).values(count=count + 1))
        return int(count) + 1

    def _existing(self, conn: Connection, key: str) -> SendResult | None:
        doc_id = conn.execute(
            sa.select(messages.c.document_id).where(messages.c.idempotency_key == key)
        ).scalar_one_or_none()
        if doc_id is None:
            return None
        return SendResult(ref={"document_id": doc_id}, document_id=doc_id)

    def send(self, request: SendRequest) -> SendResult:
        scenario = parse_scenario(request.scenario or self.default_scenario)
        if self.latency:
            time.sleep(self.latency)  # a network round trip, for throughput runs
        with self.engine.begin() as conn:
            n = self._count_call(conn, request.idempotency_key)
        if n <= scenario.failing_calls:
            raise TransientError(
                f"mock: injected transient failure {n} of {scenario.failing_calls}", provider="mock"
            )
        with self.engine.begin() as conn:
            found = self._existing(conn, request.idempotency_key)
            if found is not None:
                return found  # idempotent: same key, same document at the operator
            doc_id = "mock-" + secrets.token_hex(8)
            conn.execute(
                messages.insert().values(
                    document_id=doc_id,
                    idempotency_key=request.idempotency_key,
                    scenario=str(scenario),
                    polls=0,
                    done=scenario.last_poll == 0,
                    counterparty=request.counterparty.model_dump(mode="json"),
                    file_name=request.document.file_name,
                    content=request.content.read_all(),
                    signature=request.signature,
                    created_at=_now(),
                )
            )
        return SendResult(ref={"document_id": doc_id}, document_id=doc_id)

    def find_sent(self, request: SendRequest) -> SendResult | None:
        with self.engine.begin() as conn:
            return self._existing(conn, request.idempotency_key)

    def can_receive(self, counterparty: Counterparty) -> bool:
        return True

    def poll(self, cursor: str | None) -> EventPage:
        after = int(cursor) if cursor else 0
        with self.engine.begin() as conn:
            pending = conn.execute(
                sa.select(sa.func.count())
                .select_from(mock_events)
                .where(mock_events.c.seq > after, revocation.VISIBLE)
            ).scalar_one()
            if not pending:
                counterparty.advance(conn)
                revocation.answer_pending(conn)
            rows = conn.execute(
                sa.select(
                    mock_events,
                    messages.c.counterparty_signature,
                    messages.c.scenario,
                    messages.c.counterparty,
                )
                .join(messages, messages.c.document_id == mock_events.c.document_id)
                .where(mock_events.c.seq > after, revocation.VISIBLE)
                .order_by(mock_events.c.seq)
                .limit(PAGE_SIZE + 1)
            ).all()
        page = rows[:PAGE_SIZE]
        refusals = [counterparty.signed_refusal(r) for r in page]  # (reason, signed XML)
        events = [
            ProviderEvent(
                event_id=r.event_id,
                kind=_KIND[r.kind],
                document_id=r.document_id,
                at=r.at,
                reason=reason,
                signature=bytes(r.counterparty_signature)
                if r.kind == Play.SIGNED and r.counterparty_signature
                else None,
                raw={"seq": r.seq, "kind": r.kind},
                powers_of_attorney=counterparty.powers_of_attorney(r),
                files=files,
            )
            for r, (reason, files) in zip(page, refusals, strict=True)
        ]
        next_cursor = str(page[-1].seq) if page else cursor
        return EventPage(events=events, cursor=next_cursor, has_more=len(rows) > PAGE_SIZE)

    def request_revocation(self, request: RevocationRequest) -> None:
        revocation.request(self.engine, request)

    def accept_revocation(self, request: RevocationRequest) -> None:
        revocation.answer(self.engine, request, accept=True)

    def reject_revocation(self, request: RevocationRequest) -> None:
        revocation.answer(self.engine, request, accept=False)

    # -- reading back ----------------------------------------------------

    def fetch(self, ref: Mapping[str, str]) -> list[FetchedFile]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(messages).where(messages.c.document_id == ref["document_id"])
            ).first()
        if row is None:
            return []
        files = [
            FetchedFile("document", row.file_name, bytes(row.content)),
            FetchedFile("our_signature", f"{row.file_name}.sig", bytes(row.signature)),
        ]
        if row.counterparty_signature:
            files.append(
                FetchedFile(
                    "counterparty_signature",
                    f"{row.file_name}.counterparty.sig",
                    bytes(row.counterparty_signature),
                )
            )
        return files

    # -- for tests and the contract suite ---------------------------------

    def documents_for_key(self, idempotency_key: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(messages)
                    .where(messages.c.idempotency_key == idempotency_key)
                ).scalar_one()
            )

    def document_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one())

    def content_sha256(self, document_id: str) -> str:
        with self.engine.connect() as conn:
            content = conn.execute(
                sa.select(messages.c.content).where(messages.c.document_id == document_id)
            ).scalar_one()
        return hashlib.sha256(bytes(content)).hexdigest()


__all__ = ["MockProvider"]
