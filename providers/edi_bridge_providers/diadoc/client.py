"""A small typed client for the Diadoc HTTP API (JSON), the calls the adapter needs.

Credentials, the error map, JSON decoding, retries (one layer, with ``Retry-After``),
the rate limit and the connection cap all come from :class:`edi_bridge.http.HttpClient`;
this module only knows Diadoc's paths and parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import requests

from edi_bridge.errors import ProviderError
from edi_bridge.http import Credential, HttpClient, json_body, not_html
from edi_bridge.provider import ContentSource
from edi_bridge.retry import RetryPolicy

from .auth import make_auth
from .conformance import build, require
from .errors import PROVIDER, map_error
from .settings import DiadocSettings

JSON_TYPE = "application/json; charset=utf-8"
EVENTS_PAGE = 100  # GetNewEvents allows 1..100


class DiadocClient:
    """Diadoc API calls with auth; answers are decoded JSON (dicts) or bytes."""

    def __init__(
        self,
        settings: DiadocSettings,
        *,
        auth: Credential | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.auth = auth or make_auth(settings)
        self.http = HttpClient.over(
            settings.base_url,
            settings.transport,
            provider=PROVIDER,
            error_mapper=map_error,
            credential=self.auth,
            retry=retry,
        )

    def __repr__(self) -> str:
        return f"<DiadocClient {self.settings.base_url} {self.auth!r}>"

    def close(self) -> None:
        self.http.close()

    # -- plumbing ----------------------------------------------------------

    @staticmethod
    def _body(body: Any, data: bytes | None, accept: str) -> dict[str, Any]:
        headers = {"Accept": accept}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = JSON_TYPE
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        return {"headers": headers, "data": data}

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        data: bytes | None = None,
        accept: str = "application/json",
        stream: bool = False,
    ) -> requests.Response:
        return self.http.request(
            method, path, params=params, stream=stream, **self._body(body, data, accept)
        )

    def json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        # An unreadable success (a proxy's page, a garbled body) leaves the outcome
        # unknown: the HTTP layer retries it. Safe: PostMessage repeats by operationId.
        return self.http.json(method, path, params=params, **self._body(body, None, JSON_TYPE))

    # -- organizations and boxes --------------------------------------------

    def my_organizations(self) -> list[dict[str, Any]]:
        data = require(self.json("GET", "/GetMyOrganizations"), "OrganizationList")
        return list(data.get("Organizations") or [])

    def organizations_by_inn_kpp(self, inn: str, kpp: str | None) -> list[dict[str, Any]]:
        params = {"inn": inn}
        if kpp:
            params["kpp"] = kpp
        data = self.json("GET", "/GetOrganizationsByInnKpp", params=params)
        require(data, "OrganizationList")
        return list(data.get("Organizations") or [])

    # -- sending ---------------------------------------------------------

    def post_message(self, message: Mapping[str, Any], operation_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.json(
            "POST", "/V3/PostMessage", params={"operationId": operation_id}, body=message
        )
        require(result, "Message")
        return result

    def post_message_patch(self, patch: Mapping[str, Any], operation_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.json(
            "POST", "/V4/PostMessagePatch", params={"operationId": operation_id}, body=patch
        )
        require(result, "MessagePatch")
        return result

    def generate_receipt_xml(self, box_id: str, request: Mapping[str, Any]) -> bytes:
        """The receipt (ИОП) XML for an attachment, to be signed and posted by us."""
        return self._generate("/V2/GenerateReceiptXml", {"boxId": box_id}, request)

    def generate_revocation_request_xml(
        self, box_id: str, message_id: str, attachment_id: str, info: Mapping[str, Any]
    ) -> bytes:
        """The revocation request (предложение об аннулировании, format 1.02) to sign."""
        params = {"boxId": box_id, "messageId": message_id, "attachmentId": attachment_id}
        params["contentTypeId"] = "revocation_request_02"
        return self._generate("/V2/GenerateRevocationRequestXml", params, info)

    def generate_signature_rejection_xml(self, box_id: str, request: Mapping[str, Any]) -> bytes:
        """A refusal to sign (уведомление об уточнении) a document or a revocation request."""
        return self._generate("/V2/GenerateSignatureRejectionXml", {"boxId": box_id}, request)

    def _generate(self, path: str, params: Mapping[str, str], body: Mapping[str, Any]) -> bytes:
        resp = self.http.call(
            "POST",
            path,
            lambda r: not_html(r, provider=PROVIDER),
            params=params,
            **self._body(body, None, "application/octet-stream"),
        )
        return resp.content

    def shelf_upload(self, content: ContentSource, extension: str) -> str:
        """Upload ``content`` to the shelf in parts, reading one part at a time.

        ShelfUploadPartInit carries part 0 and names the file; ShelfUploadPart
        carries the rest; the answer to the last part lists missing part
        indexes, which are sent again (re-read from the source) a few times.
        """
        size = self.settings.part_size
        count = max(1, -(-content.size // size))
        ext = extension if extension.startswith(".") or not extension else "." + extension
        with content.open() as fh:
            first = fh.read(size)
            params: dict[str, Any] = {"fileExtension": ext}
            if count == 1:
                params["isLastPart"] = "true"
            name = self.call("POST", "/ShelfUploadPartInit", params=params, data=first).text
            name = name.strip().strip('"')
            del first
            missing = self._upload_parts(name, fh, range(1, count), count)
            for _ in range(3):
                if not missing:
                    return name
                missing = self._upload_parts(name, fh, missing, count)
        if missing:
            raise ProviderError(
                f"shelf upload left parts {missing} missing", provider=PROVIDER, status=None
            )
        return name

    def _upload_parts(self, name: str, fh: Any, indexes: Any, count: int) -> list[int]:
        size = self.settings.part_size
        indexes = list(indexes)
        if not indexes:
            return []
        missing: list[int] = []
        for n, index in enumerate(indexes):
            fh.seek(index * size)
            part = fh.read(size)
            is_last = n == len(indexes) - 1
            # The last part's answer lists the missing parts; the others' are empty.
            answer = self.http.call(
                "POST",
                "/ShelfUploadPart",
                (lambda r: json_body(r, provider=PROVIDER)) if is_last else (lambda r: None),
                params={
                    "fileName": name,
                    "partIndex": index,
                    "isLastPart": "true" if is_last else "false",
                },
                **self._body(None, part, "application/json"),
            )
            del part
            if is_last:
                missing = [int(i) for i in answer or [] if int(i) < count]
        return missing

    def documents_by_custom_id(self, box_id: str, custom_id: str) -> list[dict[str, Any]]:
        data = self.json(
            "GET",
            "/GetDocumentsByCustomId",
            params={"boxId": box_id, "customDocumentId": custom_id},
        )
        require(data, "DocumentList")
        return list(data.get("Documents") or [])

    # -- reading ---------------------------------------------------------

    def new_events(
        self, box_id: str, after_index_key: str | None, limit: int = EVENTS_PAGE
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"boxId": box_id, "limit": limit}
        if after_index_key:
            params["afterIndexKey"] = after_index_key  # requests URL-encodes '+' as %2B
        result: dict[str, Any] = self.json("GET", "/V8/GetNewEvents", params=params)
        require(result, "BoxEventList")
        return result

    def get_message(
        self, box_id: str, message_id: str, *, original_signature: bool = False
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"boxId": box_id, "messageId": message_id}
        if original_signature:
            params["originalSignature"] = "true"
        result: dict[str, Any] = self.json("GET", "/V6/GetMessage", params=params)
        require(result, "Message")
        return result

    def docflows(self, box_id: str, ids: list[tuple[str, str]]) -> Any:
        """GetDocflows (V3) for (message id, entity id) pairs: the answer as read; each
        document in it is checked by the caller (.docflow), so one cannot hide the others."""
        requests = [{"DocumentId": {"MessageId": m, "EntityId": e}} for m, e in ids]
        body = build("GetDocflowBatchRequest", Requests=requests)
        return self.json("POST", "/V3/GetDocflows", params={"boxId": box_id}, body=body)

    def power_of_attorney_content(self, registration_number: str, issuer_inn: str) -> bytes:
        """The МЧД (EMCHD_1 XML) a signature was made under, by its id."""
        resp = self.http.call(
            "GET",
            "/GetPowerOfAttorneyContent",
            lambda r: not_html(r, provider=PROVIDER),
            params={"registrationNumber": registration_number, "issuerInn": issuer_inn},
        )
        return resp.content

    def prevalidate_power_of_attorney(
        self, box_id: str, registration_number: str, issuer_inn: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PrevalidatePowerOfAttorney: Diadoc's answer on our МЧД for this certificate."""
        params = {"boxId": box_id, "registrationNumber": registration_number}
        params["issuerInn"] = issuer_inn
        result: dict[str, Any] = self.json(
            "POST", "/PrevalidatePowerOfAttorney", params=params, body=request
        )
        require(result, "PowerOfAttorneyPrevalidateResult")
        return result

    def entity_content(self, box_id: str, message_id: str, entity_id: str) -> bytes:
        # A proxy's error page answered with 200 is not the entity's content: retried.
        resp = self.http.call(
            "GET",
            "/V4/GetEntityContent",
            lambda r: not_html(r, provider=PROVIDER),
            params={"boxId": box_id, "messageId": message_id, "entityId": entity_id},
            headers={"Accept": "application/octet-stream"},
        )
        return resp.content

    def entity_content_chunks(
        self, box_id: str, message_id: str, entity_id: str, chunk: int = 1 << 20
    ) -> Iterator[bytes]:
        """GetEntityContent read in chunks (large documents are not held in memory)."""
        resp = self.http.call(
            "GET",
            "/V4/GetEntityContent",
            lambda r: not_html(r, provider=PROVIDER),
            params={"boxId": box_id, "messageId": message_id, "entityId": entity_id},
            headers={"Accept": "application/octet-stream"},
            stream=True,
        )
        with resp:
            yield from resp.iter_content(chunk)


__all__ = ["EVENTS_PAGE", "DiadocClient", "make_auth"]
