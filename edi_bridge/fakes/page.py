"""The counterparty page every EDI fake serves at ``/``: play the client by hand.

A developer opens ``http://127.0.0.1:PORT/`` of a running fake and sees the documents
the fake received, per counterparty, with their status; opens one (a PDF inline, any
other file as a download, and the signer of our signature); and signs it, rejects it
with a reason, requests its revocation or marks it delivered. Each action is played
through the fake's world exactly as a scenario plays it, so ``edi-bridge poll`` sees it,
and the document's scenario stops there (the developer now plays the counterparty).

The page is rendered on the server (no JavaScript, no build step), labelled in Russian
and English, and answers only requests addressed to the loopback (a page on another
site cannot drive it). Each fake supplies a :class:`Desk`, an adapter of its world.

Forms carry the state the document was in when the page was drawn: a second click on
the same button finds the state moved on and changes nothing.
"""

from __future__ import annotations

import dataclasses
import html
import urllib.parse
from collections.abc import Callable
from typing import Protocol

from werkzeug.wrappers import Request, Response

from .scenario import Play

PAGE_PREFIX = "/_fake/page/"
SENT = "sent"
FINAL = frozenset({Play.REJECTED.value, Play.REVOKED.value, Play.REVOCATION_ACCEPTED.value})
# The counterparty asked to annul (Diadoc's and the mock's request), and we asked.
THEY_ASKED = "revocation_requested"
WE_ASKED = "revocation_offered"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
MAX_REASON = 500  # characters; what the rejection's XML carries comfortably

STATUS = {
    SENT: "Отправлен / Sent",
    Play.DELIVERED.value: "Доставлен / Delivered",
    Play.SIGNED.value: "Подписан / Signed",
    Play.REJECTED.value: "Отклонён / Rejected",
    Play.REVOKED.value: "Аннулирован / Revoked",
    THEY_ASKED: "Аннулирование запрошено / Revocation requested",
    WE_ASKED: "Предложено аннулирование / We are asked to annul",
    Play.REVOCATION_ACCEPTED.value: "Аннулирован / Revoked",
    Play.REVOCATION_REJECTED.value: "Аннулирование отклонено / Revocation rejected",
}
# action -> (what it plays, the states it may start from, button label)
ACTIONS: dict[str, tuple[Play, frozenset[str], str]] = {
    "sign": (
        Play.SIGNED,
        frozenset({SENT, Play.DELIVERED.value}),
        "Подписать как руководитель / Sign as the head",
    ),
    "sign-employee": (
        Play.SIGNED,
        frozenset({SENT, Play.DELIVERED.value}),
        "Подписать как сотрудник по МЧД / Sign as an employee with an МЧД",
    ),
    "reject": (
        Play.REJECTED,
        frozenset({SENT, Play.DELIVERED.value}),
        "Отказать в подписи / Reject",
    ),
    "revoke": (
        Play.REVOKED,
        frozenset({Play.SIGNED.value, Play.REVOCATION_REJECTED.value}),
        "Запросить аннулирование / Request revocation",
    ),
    "accept-revocation": (
        Play.REVOCATION_ACCEPTED,
        frozenset({WE_ASKED}),
        "Принять аннулирование / Accept the revocation",
    ),
    "reject-revocation": (
        Play.REVOCATION_REJECTED,
        frozenset({WE_ASKED}),
        "Отказать в аннулировании / Refuse the revocation",
    ),
    "deliver": (
        Play.DELIVERED,
        frozenset({SENT}),
        "Отметить доставленным / Mark as delivered",
    ),
}
NEEDS_REASON = frozenset({"reject", "reject-revocation"})
# Messages after an action (by key: the query string never carries free text).
MESSAGES = {
    "done": "Готово / Done",
    "unchanged": "Ничего не изменилось: документ уже в другом состоянии / "
    "Nothing changed: the document had already moved on",
}


@dataclasses.dataclass(frozen=True)
class DeskDocument:
    """A document as the counterparty sees it."""

    id: str
    counterparty: str  # name and INN
    file_name: str
    state: str  # SENT or a Play value


class Desk(Protocol):
    """A fake's world as the page needs it; every call runs under the world's lock.

    ``employee_signing``: the fake can sign as an employee with a personal certificate and
    an МЧД it issues (the ``sign-employee`` scenario); the page offers that button then.
    """

    employee_signing: bool

    def documents(self) -> list[DeskDocument]: ...

    def content(self, doc_id: str) -> bytes | None: ...

    def our_signature(self, doc_id: str) -> bytes | None: ...

    def play(self, doc_id: str, play: Play, reason: str | None, *, employee: bool = False) -> None:
        """Play ``play`` on the document as its scenario would, then stop the scenario."""
        ...


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def signer_of(signature: bytes | None) -> str:
    """Who made a CMS signature, as its certificate names them."""
    if not signature:
        return "—"
    from ..signing.identity import identity_from_certificate
    from ..signing.parse import parse_signature

    try:
        parsed = parse_signature(signature)
    except Exception:  # a fake's page shows what it can; the Bridge checks signatures
        return "не разобрать / unreadable"
    if not parsed.certificates:
        return "—"
    who = identity_from_certificate(parsed.certificates[0])
    parts = [who.full_name, who.title, who.organisation]
    return ", ".join(p for p in parts if p) or "—"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _layout(title: str, body: str, status: int = 200) -> Response:
    page = f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<title>{_e(title)}</title>
<style>
body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
.msg{{background:#eef;padding:.5em}}.err{{background:#fee;padding:.5em}}
form{{margin:.6em 0}}iframe{{width:100%;height:24em;border:1px solid #ccc}}
</style></head><body>
<p><a href="/">Входящие / Inbox</a></p>
{body}
</body></html>"""
    return Response(page, status=status, content_type="text/html; charset=utf-8")


class CounterpartyPage:
    """The page's routes over one fake's :class:`Desk` (None: the fake has none)."""

    def __init__(self, desk: Callable[[], Desk | None]) -> None:
        # FakeApp runs every handler under the world's lock: the desk needs none.
        self._desk = desk

    def routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("GET", "/"): self.index,
            ("GET", PAGE_PREFIX + "document"): self.document,
            ("GET", PAGE_PREFIX + "content"): self.content,
            ("POST", PAGE_PREFIX + "act"): self.act,
        }

    # -- guards ------------------------------------------------------------

    def _guarded(self, request: Request, write: bool = False) -> Desk:
        host = (request.host or "").rsplit(":", 1)[0]
        if host not in LOOPBACK:
            raise PageError(403, "only for 127.0.0.1 / localhost")
        origin = request.headers.get("Origin")
        if write and origin and urllib.parse.urlsplit(origin).netloc != request.host:
            raise PageError(403, "a form from another site")
        desk = self._desk()
        if desk is None:
            raise PageError(404, "this fake has no counterparty page (a carrier)")
        return desk

    @staticmethod
    def _find(desk: Desk, doc_id: str) -> DeskDocument:
        found = next((d for d in desk.documents() if d.id == doc_id), None)
        if found is None:
            raise PageError(404, f"no document {doc_id!r}")
        return found

    def _answer(self, request: Request, build: Callable[[Desk], Response], write: bool) -> Response:
        try:
            return build(self._guarded(request, write))
        except PageError as exc:
            body = f'<p class="err">{_e(exc)}</p>'
            return _layout("Ошибка / Error", body, exc.status)

    # -- pages ---------------------------------------------------------------

    def index(self, request: Request) -> Response:
        return self._answer(request, self._index, write=False)

    def _index(self, desk: Desk) -> Response:
        by_party: dict[str, list[DeskDocument]] = {}
        for doc in desk.documents():
            by_party.setdefault(doc.counterparty, []).append(doc)
        parts = ["<h1>Входящие контрагента / Counterparty inbox</h1>"]
        if not by_party:
            parts.append("<p>Документов пока нет / No documents yet</p>")
        for party, docs in sorted(by_party.items()):
            rows = "".join(
                f'<tr><td><a href="{PAGE_PREFIX}document?id={urllib.parse.quote(d.id)}">'
                f'{_e(d.file_name)}</a></td><td class="status" data-state="{_e(d.state)}">'
                f"{_e(STATUS.get(d.state, d.state))}</td></tr>"
                for d in docs
            )
            parts.append(
                f"<h2>{_e(party)}</h2><table><tr><th>Документ / Document</th>"
                f"<th>Статус / Status</th></tr>{rows}</table>"
            )
        return _layout("Входящие / Inbox", "\n".join(parts))

    def document(self, request: Request) -> Response:
        doc_id = request.args.get("id", "")
        message = MESSAGES.get(request.args.get("m", ""))
        return self._answer(
            request, lambda desk: self._document(desk, doc_id, message=message), write=False
        )

    def _document(
        self, desk: Desk, doc_id: str, *, message: str | None = None, error: str | None = None
    ) -> Response:
        doc = self._find(desk, doc_id)
        quoted = urllib.parse.quote(doc.id)
        parts = [f"<h1>{_e(doc.file_name)}</h1>"]
        if message:
            parts.append(f'<p class="msg" id="message">{_e(message)}</p>')
        if error:
            parts.append(f'<p class="err" id="error">{_e(error)}</p>')
        signer = signer_of(desk.our_signature(doc.id))
        parts.append(
            f"<p>Контрагент / Counterparty: {_e(doc.counterparty)}<br>"
            f'Статус / Status: <b id="status" data-state="{_e(doc.state)}">'
            f"{_e(STATUS.get(doc.state, doc.state))}</b><br>"
            f'Нашу подпись поставил / Our signature by: <span id="signer">{_e(signer)}</span></p>'
        )
        allowed = [
            name
            for name, (_p, start, _l) in ACTIONS.items()
            if doc.state in start and (name != "sign-employee" or desk.employee_signing)
        ]
        if not allowed:
            parts.append(
                "<p>Документ в конечном состоянии: действий нет / "
                "The document is in a final state: no actions</p>"
            )
        for name in allowed:
            label = ACTIONS[name][2]
            reason = ""
            if name in ("reject", "revoke", "reject-revocation"):
                required = " required" if name in NEEDS_REASON else ""
                reason = (
                    f'<label>Причина / Reason: <input name="reason"{required} '
                    f'maxlength="{MAX_REASON}"></label> '
                )
            parts.append(
                f'<form method="post" action="{PAGE_PREFIX}act">'
                f'<input type="hidden" name="id" value="{_e(doc.id)}">'
                f'<input type="hidden" name="action" value="{name}">'
                f'<input type="hidden" name="expected" value="{_e(doc.state)}">'
                f'{reason}<button type="submit" name="do" value="{name}">{_e(label)}</button>'
                "</form>"
            )
        # The document after the actions: a PDF viewer must not push the buttons away.
        content_url = f"{PAGE_PREFIX}content?id={quoted}"
        parts.append(f'<p><a href="{content_url}&amp;download=1">Скачать / Download</a></p>')
        if doc.file_name.lower().endswith(".pdf"):
            parts.append(f'<iframe src="{content_url}" title="{_e(doc.file_name)}"></iframe>')
        status = 200 if error is None else 400
        return _layout(doc.file_name, "\n".join(parts), status)

    def content(self, request: Request) -> Response:
        doc_id = request.args.get("id", "")
        download = bool(request.args.get("download"))

        def build(desk: Desk) -> Response:
            doc = self._find(desk, doc_id)
            data = desk.content(doc.id) or b""
            pdf = doc.file_name.lower().endswith(".pdf")
            kind = "application/pdf" if pdf else "application/octet-stream"
            disposition = "inline" if pdf and not download else "attachment"
            response = Response(data, content_type=kind)
            name = urllib.parse.quote(doc.file_name)
            response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{name}"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return self._answer(request, build, write=False)

    def act(self, request: Request) -> Response:
        form = request.form
        doc_id, action = form.get("id", ""), form.get("action", "")
        expected, reason = form.get("expected", ""), form.get("reason", "").strip()

        def build(desk: Desk) -> Response:
            doc = self._find(desk, doc_id)
            if action not in ACTIONS or (action == "sign-employee" and not desk.employee_signing):
                raise PageError(400, f"action: expected one of {', '.join(ACTIONS)}")
            play, start, _label = ACTIONS[action]
            if action in NEEDS_REASON and not reason:
                return self._document(
                    desk, doc.id, error="Укажите причину отказа / A rejection needs a reason"
                )
            if len(reason) > MAX_REASON:
                return self._document(
                    desk,
                    doc.id,
                    error=f"Причина длиннее {MAX_REASON} символов / "
                    f"The reason is longer than {MAX_REASON} characters",
                )
            if doc.state != expected:
                return self._redirect(doc.id, "unchanged")  # a second click, or a stale page
            if doc.state not in start:
                label = STATUS.get(doc.state, doc.state)
                answer = self._document(
                    desk,
                    doc.id,
                    error=f"Документ в состоянии «{label}»: действие недоступно / "
                    f"The document is {doc.state}: this action is not allowed",
                )
                answer.status_code = 409
                return answer
            if play is not Play.DELIVERED and doc.state == SENT:
                desk.play(doc.id, Play.DELIVERED, None)  # the way a scenario plays it
            said = reason or (
                "Аннулирование запрошено / Revocation requested" if play is Play.REVOKED else None
            )
            desk.play(doc.id, play, said, employee=action == "sign-employee")
            return self._redirect(doc.id, "done")

        return self._answer(request, build, write=True)

    @staticmethod
    def _redirect(doc_id: str, message: str) -> Response:
        target = f"{PAGE_PREFIX}document?id={urllib.parse.quote(doc_id)}&m={message}"
        return Response("", status=303, headers={"Location": target})


__all__ = [
    "ACTIONS",
    "PAGE_PREFIX",
    "STATUS",
    "CounterpartyPage",
    "Desk",
    "DeskDocument",
    "signer_of",
]
