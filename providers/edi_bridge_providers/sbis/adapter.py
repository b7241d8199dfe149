"""The SBIS (Saby) provider: contracts out for signature, changes back.

Send is three calls: ``СБИС.ЗаписатьДокумент`` (the document with its file),
``СБИС.ПодготовитьДействие`` (SBIS says which files to sign for "Отправка")
and ``СБИС.ВыполнитьДействие`` (our detached signatures). The document's
``Идентификатор`` is a UUID derived from the idempotency key, so a retried or
interrupted send finds the document it already made instead of writing another.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from asn1crypto import cms

from edi_bridge.errors import (
    ConfigurationError,
    ProviderNotFound,
    RejectedRequest,
    SignatureError,
    TransientError,
    ValidationError,
)
from edi_bridge.models import Counterparty, Document, DocumentKind
from edi_bridge.provider import (
    Capability,
    EventPage,
    FetchedFile,
    Provider,
    ProviderContext,
    ProviderEvent,
    SendRequest,
    SendResult,
)
from edi_bridge.provider import ProviderEventKind as Kind

from .changes import Cursor, RawEvent, changes_filter, dedupe_sorted, events_of, has_more
from .rpc import SbisClient
from .settings import SbisSettings
from .wire import (
    ACTION_SEND,
    DETACHED,
    M_CHANGES,
    M_EXECUTE,
    M_PARTY,
    M_PREPARE,
    M_READ,
    M_WRITE,
    STAGE_SEND,
    YES,
    as_dict,
    as_list,
    attachment_uuid,
    document_uuid,
    format_date,
)

log = logging.getLogger("edi_bridge.sbis")
MAX_ATTACHMENT = 73 * 1024 * 1024  # SBIS refuses larger attachments
DEFAULT_TYPES = {DocumentKind.CONTRACT.value: "ДоговорИсх"}


@dataclasses.dataclass(frozen=True)
class SbisRoute:
    """A counterparty's box as ``СБИС.ИнформацияОКонтрагенте`` reports it."""

    operator_id: str
    participant_id: str
    roaming: bool
    state: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _der(data: bytes) -> bytes:
    """Signatures come as DER or as base64 text of it."""
    if data[:1] == b"\x30":
        return data
    try:
        decoded = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return data
    return decoded if decoded[:1] == b"\x30" else data


def _is_cms(data: bytes) -> bool:
    """Whether ``data`` parses in full as a CMS ContentInfo."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        info.native  # noqa: B018 - parsing every field is the check
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _party(inn: str, kpp: str | None, name: str, full_name: str | None = None) -> dict[str, Any]:
    if len(inn) == 10:
        return {"СвЮЛ": {"ИНН": inn, "КПП": kpp or "", "Название": name}}
    parts = (full_name or name).replace("ИП ", "").split()
    person: dict[str, Any] = {"ИНН": inn}
    for key, value in zip(("Фамилия", "Имя", "Отчество"), parts, strict=False):
        person[key] = value
    return {"СвФЛ": person}


class SbisProvider(Provider):
    """SBIS over its JSON-RPC API."""

    name = "sbis"
    operator = "sbis"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SEND,
            Capability.EVENTS,
            Capability.FETCH,
            Capability.ROUTES,
            Capability.FIND_SENT,
        }
    )

    def __init__(self, context: ProviderContext, client: SbisClient | None = None) -> None:
        super().__init__(context)
        self.settings = SbisSettings.from_config(context.config)
        self.client = client or SbisClient(self.settings)

    def __repr__(self) -> str:
        return f"<SbisProvider {self.settings.base_url} inn={self.settings.our_inn}>"

    @property
    def cursor_scope(self) -> str:
        return f"sbis:{self.settings.our_inn}"

    # -- sending ---------------------------------------------------------

    def _doc_type(self, kind: str) -> str:
        doc_type = self.settings.doc_types.get(kind) or DEFAULT_TYPES.get(kind)
        if not doc_type:
            raise ValidationError(
                "document.kind",
                f"sbis has no document type for {kind!r}; set sbis.doc_type_{kind}",
            )
        return doc_type

    def _thumbprint(self, our_signature: bytes) -> str:
        if self.settings.certificate_thumbprint:
            return self.settings.certificate_thumbprint
        signer = self.context.signer
        if signer is not None:
            cert = signer.certificate
        else:
            try:
                signed = cms.ContentInfo.load(_der(our_signature))["content"]
                cert = signed["certificates"][0].chosen.dump()
            except (ValueError, TypeError, IndexError, KeyError):
                raise SignatureError("our signature carries no certificate") from None
        return hashlib.sha1(cert).hexdigest().upper()  # noqa: S324 - SBIS's thumbprint is SHA-1

    def _document(self, request: SendRequest, doc_id: str, doc_type: str) -> dict[str, Any]:
        s, cp, doc = self.settings, request.counterparty, request.document
        body: dict[str, Any] = {
            "Идентификатор": doc_id,
            "Тип": doc_type,
            "Дата": format_date(doc.date),
            "Номер": doc.number,
            "НашаОрганизация": _party(s.our_inn, s.our_kpp, s.our_name),
            "Контрагент": _party(cp.inn, cp.kpp, cp.name, cp.signatory.full_name),
            "Вложение": [
                {
                    "Идентификатор": attachment_uuid(doc_id),
                    "Файл": {
                        "Имя": doc.file_name,
                        "ДвоичныеДанные": _b64(request.content.read_all()),
                    },
                }
            ],
        }
        if s.regulation:
            body["Регламент"] = {"Название": s.regulation}
        return body

    def _read(self, doc_id: str) -> dict[str, Any] | None:
        try:
            return as_dict(self.client.call(M_READ, {"Документ": {"Идентификатор": doc_id}}))
        except ProviderNotFound:
            return None

    @staticmethod
    def _awaits_sending(document: Mapping[str, Any]) -> bool:
        """The "Отправка" stage is still ours to do."""
        return any(
            as_dict(stage).get("Название") == STAGE_SEND for stage in as_list(document.get("Этап"))
        )

    @staticmethod
    def _sent(doc_id: str, document: Mapping[str, Any]) -> SendResult:
        state = as_dict(document.get("Состояние"))
        link = str(document.get("СсылкаДляКонтрагент") or "")
        ref = {"document_id": doc_id}
        if link:
            ref["link"] = link
        return SendResult(ref=ref, document_id=doc_id, raw={"state": state})

    def check(self, counterparty: Counterparty, document: Document) -> None:
        self._doc_type(str(document.kind))
        if document.size > MAX_ATTACHMENT:
            raise ValidationError("document.size", "sbis takes attachments up to 73 MB")

    def send(self, request: SendRequest) -> SendResult:
        self.check(request.counterparty, request.document)
        doc_type = self._doc_type(str(request.document.kind))
        thumbprint = self._thumbprint(request.signature)
        doc_id = document_uuid(request.idempotency_key)
        existing = self._read(doc_id)
        if existing is not None and not self._awaits_sending(existing):
            log.info("sbis: document %s was already sent; not sending again", doc_id)
            return self._sent(doc_id, existing)
        if existing is None:
            # Same Идентификатор on a retry: SBIS updates, it does not duplicate.
            self.client.call(M_WRITE, {"Документ": self._document(request, doc_id, doc_type)})
        prepared = as_dict(
            self.client.call(
                M_PREPARE,
                {
                    "Документ": {
                        "Идентификатор": doc_id,
                        "Этап": {
                            "Название": STAGE_SEND,
                            "Действие": {
                                "Название": ACTION_SEND,
                                "Сертификат": {"Отпечаток": thumbprint},
                            },
                        },
                    }
                },
            )
        )
        stage = self._stage(prepared)
        signed = [self._sign_attachment(a, doc_id, request) for a in as_list(stage.get("Вложение"))]
        try:
            done = self.client.call(
                M_EXECUTE,
                {
                    "Документ": {
                        "Идентификатор": doc_id,
                        "Этап": [
                            {
                                "Идентификатор": stage.get("Идентификатор", ""),
                                "Название": STAGE_SEND,
                                "Действие": [
                                    {
                                        "Название": ACTION_SEND,
                                        "Сертификат": [{"Отпечаток": thumbprint}],
                                    }
                                ],
                                "Вложение": signed,
                            }
                        ],
                    }
                },
            )
        except (RejectedRequest, TransientError):
            # A lost answer to a call that did go through: the stage is gone now.
            after = self._read(doc_id)
            if after is None or self._awaits_sending(after):
                raise
            done = after
        return self._sent(doc_id, as_dict(done))

    @staticmethod
    def _stage(prepared: Mapping[str, Any]) -> dict[str, Any]:
        stages = [as_dict(s) for s in as_list(prepared.get("Этап"))]
        for stage in stages:
            if stage.get("Название") == STAGE_SEND:
                return stage
        if stages:
            return stages[0]
        raise RejectedRequest(f"{M_PREPARE}: no stage {STAGE_SEND!r} to perform", provider="sbis")

    def _file_bytes(self, file: Mapping[str, Any]) -> bytes:
        inline = file.get("ДвоичныеДанные")
        if isinstance(inline, str) and inline:
            return base64.b64decode(inline)
        link = file.get("Ссылка")
        if isinstance(link, str) and link:
            return self.client.download(link)
        raise RejectedRequest("a file came without content or link", provider="sbis")

    def _sign_attachment(
        self, attachment: Any, doc_id: str, request: SendRequest
    ) -> dict[str, Any]:
        att = as_dict(attachment)
        file = as_dict(att.get("Файл"))
        name = str(file.get("Имя") or "file")
        if att.get("Идентификатор") == attachment_uuid(doc_id):
            signature = request.signature  # ours over the document, made by the Bridge
        else:
            signer = self.context.signer
            if signer is None:
                raise ConfigurationError(
                    f"sbis asks to sign {name!r} as well; configure a signer for the Bridge"
                )
            signature = signer.sign(self._file_bytes(file))
        return {
            "Идентификатор": att.get("Идентификатор"),
            "Подпись": [
                {"Тип": DETACHED, "Файл": {"Имя": f"{name}.sig", "ДвоичныеДанные": _b64(signature)}}
            ],
        }

    def find_sent(self, request: SendRequest) -> SendResult | None:
        doc_id = document_uuid(request.idempotency_key)
        existing = self._read(doc_id)
        if existing is None or self._awaits_sending(existing):
            return None  # not there, or written but not sent: send() finishes it
        return self._sent(doc_id, existing)

    # -- changes ---------------------------------------------------------

    def poll(self, cursor: str | None) -> EventPage:
        after = Cursor.load(cursor)
        raw: list[RawEvent] = []
        more = False
        for page in range(self.settings.max_pages):
            result = as_dict(
                self.client.call(
                    M_CHANGES,
                    changes_filter(
                        after, self.settings.changes_since, page, self.settings.page_size
                    ),
                )
            )
            raw.extend(events_of(as_list(result.get("Документ"))))
            more = has_more(result)
            if not more:
                break
        ordered = dedupe_sorted(raw, after)
        events = [e for e in (self._normalize(r) for r in ordered) if e is not None]
        last = ordered[-1] if ordered else None
        next_cursor = Cursor(last.event_id, last.at_text).dump() if last else cursor
        return EventPage(events=events, cursor=next_cursor, has_more=more)

    def _normalize(self, event: RawEvent) -> ProviderEvent | None:
        kind = event.kind
        if kind is None or str(event.document.get("Направление", "")).startswith("Вход"):
            return None  # our own steps, and documents sent to us
        signature = self._counterparty_signature(event) if kind is Kind.SIGNED else None
        reason = None
        if kind is Kind.REJECTED:
            reason = event.comment or "rejected without a comment"
        elif kind is Kind.REVOKED:
            reason = event.comment or "the document was annulled"
        return ProviderEvent(
            event_id=event.event_id,
            kind=kind,
            document_id=event.document_id,
            at=event.at,
            reason=reason,
            signature=signature,
            raw=event.raw(),
        )

    def _counterparty_signature(self, event: RawEvent) -> bytes | None:
        attachments = as_list(event.event.get("Вложение")) or as_list(
            event.document.get("Вложение")
        )
        theirs = [
            as_dict(sig)
            for att in attachments
            if as_dict(att).get("Служебный") != YES
            for sig in as_list(as_dict(att).get("Подпись"))
            if as_dict(as_dict(sig).get("Сертификат")).get("ИНН") != self.settings.our_inn
        ]
        if not theirs:
            log.warning("sbis: event %s reports a signature without its file", event.event_id)
            return None
        file = as_dict(theirs[-1].get("Файл"))
        # A download spoiled on the way (a proxy's page, a cut body) would be kept as
        # the signature for good: read it again, as often as the client retries a call,
        # then fail the poll so the page is read again next time.
        for _ in range(self.client.retry.attempts):
            data = _der(self._file_bytes(file))
            if _is_cms(data):
                return data
        raise TransientError(
            f"event {event.event_id}: the counterparty's signature file is not CMS",
            provider="sbis",
        )

    # -- reading back ----------------------------------------------------

    def fetch(self, ref: Mapping[str, str]) -> list[FetchedFile]:
        doc_id = ref.get("document_id")
        if not doc_id:
            raise ValidationError("provider_ref.document_id", "required to fetch from sbis")
        document = self._read(doc_id)
        if document is None:
            raise ProviderNotFound(f"document {doc_id} is not at sbis", provider="sbis")
        files: list[FetchedFile] = []
        names: set[str] = set()

        def add(role: str, name: str, data: bytes) -> None:
            unique, n = name, 1
            while unique in names:
                n += 1
                unique = f"{n}-{name}"
            names.add(unique)
            files.append(FetchedFile(role, unique, data))

        for item in as_list(document.get("Вложение")):
            att = as_dict(item)
            file = as_dict(att.get("Файл"))
            name = str(file.get("Имя") or att.get("Идентификатор") or "file")
            service = att.get("Служебный") == YES
            add("receipt" if service else "document", name, self._file_bytes(file))
            for sig_item in as_list(att.get("Подпись")):
                sig = as_dict(sig_item)
                cert = as_dict(sig.get("Сертификат"))
                ours = cert.get("ИНН") == self.settings.our_inn
                role = (
                    "receipt"
                    if service
                    else ("our_signature" if ours else "counterparty_signature")
                )
                sig_file = as_dict(sig.get("Файл"))
                sig_name = str(sig_file.get("Имя") or f"{name}.sig")
                add(role, sig_name, _der(self._file_bytes(sig_file)))
        return files

    # -- routes ----------------------------------------------------------

    def routes(self, counterparty: Counterparty) -> list[SbisRoute]:
        member = (
            {"СвЮЛ": {"ИНН": counterparty.inn, "КПП": counterparty.kpp or ""}}
            if counterparty.is_organisation
            else {"СвФЛ": {"ИНН": counterparty.inn}}
        )
        try:
            result = as_dict(
                self.client.call(M_PARTY, {"Участник": member, "ДопПоля": "СписокИдентификаторов"})
            )
        except ProviderNotFound:
            return []
        routes = []
        for item in as_list(result.get("Идентификатор")):
            box = as_dict(item)
            participant = str(box.get("ИдентификаторУчастника") or "")
            if not participant:
                continue
            routes.append(
                SbisRoute(
                    operator_id=str(as_dict(box.get("Оператор")).get("Идентификатор") or ""),
                    participant_id=participant,
                    roaming=str(box.get("Роуминг", "")).lower() in ("да", "true", "1"),
                    state=as_dict(box.get("СостояниеПодключения")),
                )
            )
        return routes

    def can_receive(self, counterparty: Counterparty) -> bool:
        return bool(self.routes(counterparty))

    def close(self) -> None:
        self.client.close()


__all__ = ["SbisProvider", "SbisRoute"]
