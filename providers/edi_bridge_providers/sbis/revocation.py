"""Annulling a signed document through SBIS (аннулирование), both ways.

Confirmed (the sources are in docs/sbis.md):

* Annulment is an agreement both sides sign: one side asks, the other accepts or refuses
  (sbis.ru/help/integration/catalog/cancellation, sbis.ru/help/edo/condition_of_redactions).
* We ask on the document's stage «Аннулирование» with its action «Аннулировать», both read
  from ``СБИС.ПрочитатьДокумент``, then ``СБИС.ПодготовитьДействие`` and
  ``СБИС.ВыполнитьДействие`` as for any stage (``Этап{Название, Идентификатор, Действие{
  Название, Сертификат, Комментарий}}``; the files SBIS prepares are signed and returned with
  the execution). This is how SBIS's own published 1C processing asks (saby-integration/
  vo2_core: ``СформироватьЗапросНаАннулирование``, ``ВыполнитьДействиеСДокументомСБИС``).
* The counterparty's request is the event «Получение соглашения об аннулировании», which
  the system lets a person confirm or refuse (sbis.ru/help/eng_api/get_inc_doc).

*Unconfirmed*: which actions answer the counterparty's request. We take the action SBIS
offers on the document: «Утвердить» to accept, «Отклонить» (with the reason as its comment)
to refuse, the names SBIS's processing uses to approve and refuse a document; when SBIS
offers neither, the call is refused with the document's state, nothing is sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from edi_bridge.errors import ConfigurationError, ProviderNotFound, RejectedRequest, ValidationError
from edi_bridge.provider import RevocationRequest
from edi_bridge.signing import Signer

from .client import SbisClient
from .stage import file_bytes
from .wire import M_EXECUTE, M_PREPARE, as_dict, as_list, signed_attachment

log = logging.getLogger("edi_bridge.sbis")

STAGE_ANNUL = "Аннулирование"
ACTION_ANNUL = "Аннулировать"
ACTION_APPROVE = "Утвердить"  # unconfirmed for an annulment agreement (see above)
ACTION_REJECT = "Отклонить"  # unconfirmed for an annulment agreement (see above)

Reader = Callable[[str], "dict[str, Any] | None"]


def state_name(document: Mapping[str, Any]) -> str:
    return str(as_dict(document.get("Состояние")).get("Название") or "").strip()


def awaiting_annulment(document: Mapping[str, Any]) -> bool:
    """A request to annul is open («Ожидает аннулирования»)."""
    return "ожидает аннулир" in state_name(document).lower()


def annulled(document: Mapping[str, Any]) -> bool:
    """Annulled by agreement («Аннулирован по соглашению»)."""
    name = state_name(document).lower()
    return "аннулирован" in name and not awaiting_annulment(document)


def offered(
    document: Mapping[str, Any], action: str, stage: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The stage (``stage`` if named) that offers ``action`` on the document now, with it."""
    for item in as_list(document.get("Этап")):
        found = as_dict(item)
        if stage is not None and found.get("Название") != stage:
            continue
        for act in as_list(found.get("Действие")):
            if as_dict(act).get("Название") == action:
                return found, as_dict(act)
    return None


def _action(name: str, thumbprint: str, comment: str | None, *, listed: bool) -> dict[str, Any]:
    cert: Any = {"Отпечаток": thumbprint}
    action: dict[str, Any] = {"Название": name, "Сертификат": [cert] if listed else cert}
    if comment:
        action["Комментарий"] = comment
    return action


def perform(
    client: SbisClient,
    doc_id: str,
    stage: Mapping[str, Any],
    action: str,
    thumbprint: str,
    signer: Signer,
    comment: str | None,
) -> None:
    """Prepare the stage's action, sign every file SBIS prepares for it, execute it."""
    head = {
        "Идентификатор": str(stage.get("Идентификатор") or ""),
        "Название": str(stage.get("Название") or ""),
    }
    prepare = {**head, "Действие": _action(action, thumbprint, comment, listed=False)}
    prepared = as_dict(
        client.call(M_PREPARE, {"Документ": {"Идентификатор": doc_id, "Этап": prepare}})
    )
    stages = [as_dict(s) for s in as_list(prepared.get("Этап"))]
    ready = next((s for s in stages if s.get("Название") == head["Название"]), None)
    if ready is None:
        ready = stages[0] if stages else {}
    signed = []
    for item in as_list(ready.get("Вложение")):
        att = as_dict(item)
        file = as_dict(att.get("Файл"))
        name = str(file.get("Имя") or "file")
        signature = signer.sign(file_bytes(client, file))
        signed.append(signed_attachment(att.get("Идентификатор"), name, signature))
    execute = {
        **head,
        "Действие": [_action(action, thumbprint, comment, listed=True)],
        "Вложение": signed,
    }
    client.call(M_EXECUTE, {"Документ": {"Идентификатор": doc_id, "Этап": [execute]}})


class Annulments:
    """Our requests to annul, and our answers to the counterparty's (Capability.REVOCATION)."""

    def __init__(self, client: SbisClient, read: Reader, thumbprint: str | None) -> None:
        self.client = client
        self.read = read
        self.thumbprint = thumbprint  # sbis.certificate_thumbprint, when set

    def _thumbprint(self, signer: Signer) -> str:
        if self.thumbprint:
            return self.thumbprint
        return hashlib.sha1(signer.certificate).hexdigest().upper()  # noqa: S324 - SBIS's

    def _document(self, request: RevocationRequest) -> tuple[str, dict[str, Any]]:
        if request.power_of_attorney is not None:
            # How SBIS takes our МЧД is unconfirmed (docs/sbis.md): refused, nothing sent.
            raise ConfigurationError(
                "signing.power_of_attorney: sbis cannot carry our МЧД yet, so an annulment "
                "signed by an employee is refused; sign as the head"
            )
        doc_id = request.document_id or str(request.ref.get("document_id") or "")
        if not doc_id:
            raise ValidationError("provider_ref.document_id", "required to annul at sbis")
        document = self.read(doc_id)
        if document is None:
            raise ProviderNotFound(f"document {doc_id} is not at sbis", provider="sbis")
        return doc_id, document

    def _refuse(self, doc_id: str, document: Mapping[str, Any], what: str) -> RejectedRequest:
        state = state_name(document) or "unknown"
        return RejectedRequest(
            f"sbis offers no {what} on document {doc_id} (state {state!r})", provider="sbis"
        )

    def request(self, request: RevocationRequest) -> None:
        doc_id, document = self._document(request)
        found = offered(document, ACTION_ANNUL, STAGE_ANNUL)
        if found is None:
            if awaiting_annulment(document):
                log.info("sbis: document %s: annulment asked already", doc_id)
                return  # the same request made again (a retry): one request at SBIS
            raise self._refuse(doc_id, document, f"{STAGE_ANNUL}/{ACTION_ANNUL}")
        stage, _ = found
        thumbprint = self._thumbprint(request.signer)
        perform(
            self.client, doc_id, stage, ACTION_ANNUL, thumbprint, request.signer, request.reason
        )

    def answer(self, request: RevocationRequest, *, accept: bool) -> None:
        doc_id, document = self._document(request)
        action = ACTION_APPROVE if accept else ACTION_REJECT
        found = offered(document, action)
        if found is None:
            if accept and annulled(document):
                return  # accepted already (a retry)
            if not accept and not awaiting_annulment(document) and not annulled(document):
                return  # refused already: the document stays in force
            raise self._refuse(doc_id, document, repr(action))
        stage, _ = found
        comment = None if accept else request.reason
        thumbprint = self._thumbprint(request.signer)
        perform(self.client, doc_id, stage, action, thumbprint, request.signer, comment)


__all__ = [
    "ACTION_ANNUL",
    "ACTION_APPROVE",
    "ACTION_REJECT",
    "STAGE_ANNUL",
    "Annulments",
    "annulled",
    "awaiting_annulment",
    "offered",
    "perform",
]
