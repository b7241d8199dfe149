"""The "Отправка" stage of an SBIS send: prepare, sign, execute.

``СБИС.ПодготовитьДействие`` names the files to sign, ``СБИС.ВыполнитьДействие``
takes our detached signatures. If the execution is refused while the document
still awaits sending, the preparation was undone under us: a repeated
``СБИС.ЗаписатьДокумент`` (its answer lost, the request processed after our
retry) resets a draft, and the fake then answers "Действие не подготовлено".
The stage is then prepared and executed once more. Whether the real SBIS resets
a preparation on a rewrite, and the exact texts of its refusals, are
*unconfirmed*: the adapter decides by the document's state, never by the text.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any

from edi_bridge.errors import ConfigurationError, RejectedRequest
from edi_bridge.provider import SendRequest
from edi_bridge.signing import Signer

from .client import SbisClient
from .wire import (
    M_EXECUTE,
    M_PREPARE,
    STAGE_SEND,
    as_dict,
    as_list,
    attachment_uuid,
    awaits_sending,
    execute_params,
    prepare_params,
    send_stage,
    signed_attachment,
)

log = logging.getLogger("edi_bridge.sbis")

Reader = Callable[[str], "dict[str, Any] | None"]


def file_bytes(client: SbisClient, file: Mapping[str, Any]) -> bytes:
    inline = file.get("ДвоичныеДанные")
    if isinstance(inline, str) and inline:
        return base64.b64decode(inline)
    link = file.get("Ссылка")
    if isinstance(link, str) and link:
        return client.download(link)
    raise RejectedRequest("a file came without content or link", provider="sbis")


def sign_attachment(
    client: SbisClient, signer: Signer | None, attachment: Any, doc_id: str, request: SendRequest
) -> dict[str, Any]:
    att = as_dict(attachment)
    file = as_dict(att.get("Файл"))
    name = str(file.get("Имя") or "file")
    if att.get("Идентификатор") == attachment_uuid(doc_id):
        signature = request.signature  # ours over the document, made by the Bridge
    else:
        if signer is None:
            raise ConfigurationError(
                f"sbis asks to sign {name!r} as well; configure a signer for the Bridge"
            )
        signature = signer.sign(file_bytes(client, file))
    return signed_attachment(att.get("Идентификатор"), name, signature)


def perform_send_stage(
    client: SbisClient,
    signer: Signer | None,
    read: Reader,
    doc_id: str,
    thumbprint: str,
    request: SendRequest,
) -> Any:
    """Prepare, sign and execute "Отправка"; once more if a rewrite undid the preparation."""
    for again in (False, True):
        prepared = as_dict(client.call(M_PREPARE, prepare_params(doc_id, thumbprint)))
        stage = send_stage(prepared)
        if stage is None:
            raise RejectedRequest(
                f"{M_PREPARE}: no stage {STAGE_SEND!r} to perform", provider="sbis"
            )
        attachments = as_list(stage.get("Вложение"))
        signed = [sign_attachment(client, signer, a, doc_id, request) for a in attachments]
        stage_id = str(stage.get("Идентификатор", ""))
        try:
            return client.call(M_EXECUTE, execute_params(doc_id, stage_id, thumbprint, signed))
        except RejectedRequest:
            after = read(doc_id)
            if again or after is None or not awaits_sending(after):
                raise  # sent after all (the caller reconciles), or a refusal that stands
            log.info("sbis: document %s: the stage was not prepared any more; again", doc_id)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["file_bytes", "perform_send_stage", "sign_attachment"]
