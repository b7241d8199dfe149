"""Applications from an IMAP folder: each new message once, marked when processed.

A processed message gets the keyword :data:`PROCESSED` (a permanent IMAP flag), so a
second run skips it; a message whose Message-ID was processed before (a copy, a
resend by the client's mail server) is only marked. Messages are fetched with
``BODY.PEEK`` (they stay unread for people) and only after their size is checked.
The account a message belongs to is the username stated in it, or the one account
registered with the sender's address; the sender must be that account's address.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError, EdiBridgeError, ValidationError
from ..masking import mask_secrets
from .application import IntakeResult, intake_mail
from .message import Limits, check_sender, read_mail

PROCESSED = "$EdiBridgeIntake"
PASSWORD_ENV = "EDI_BRIDGE_IMAP_PASSWORD"  # noqa: S105 (a variable name)

ACCEPTED = "accepted"
INCOMPLETE = "incomplete"
REFUSED = "refused"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Outcome:
    uid: str
    message_id: str
    status: str  # accepted | incomplete | refused | duplicate
    reason: str = ""
    result: IntakeResult | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": self.uid,
            "message_id": self.message_id,
            "status": self.status,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.result is not None:
            out.update({k: v for k, v in self.result.as_json().items() if k != "message_id"})
        return out


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    user: str
    password: str
    tls: bool

    def __repr__(self) -> str:
        return f"ImapTarget({self.host}:{self.port}, user={self.user!r}, tls={self.tls})"


def parse_url(url: str) -> ImapTarget:
    """``imap://user[:password]@host[:port]`` or ``imaps://…``; the password may come from
    the environment (EDI_BRIDGE_IMAP_PASSWORD) instead of the URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValidationError("imap", "must be imap://user@host[:port] or imaps://…")
    if not parts.username:
        raise ValidationError("imap", "the URL names no user")
    password = urllib.parse.unquote(parts.password or "") or os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise ConfigurationError(f"imap: no password in the URL or in {PASSWORD_ENV}")
    tls = parts.scheme == "imaps"
    return ImapTarget(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        user=urllib.parse.unquote(parts.username),
        password=password,
        tls=tls,
    )


@contextmanager
def _mailbox(target: ImapTarget, folder: str) -> Iterator[Any]:
    from imap_tools import MailBox, MailBoxUnencrypted

    cls = MailBox if target.tls else MailBoxUnencrypted
    try:
        box = cls(target.host, target.port, timeout=30)
        box.login(target.user, target.password, initial_folder=folder)
    except Exception as exc:  # imaplib and socket errors, login refusals
        text = mask_secrets(str(exc)).replace(target.password, "***")
        raise EdiBridgeError(f"imap {target.host}:{target.port}: {text}") from None
    try:
        yield box
    finally:
        box.logout()


def _account_for(result: IntakeResult, sender: str, accounts: Mapping[str, str]) -> str:
    stated = result.data.get("username")
    if isinstance(stated, str) and stated:
        if stated not in accounts:
            raise ValidationError("username", f"no account {stated!r} is registered")
        return stated
    owners = [u for u, addr in accounts.items() if addr.strip().lower() == sender]
    if len(owners) != 1:
        raise ValidationError(
            "message.From",
            f"sender {sender or '(none)'} is not the registered address "
            "of exactly one account, and the application names no username",
        )
    return owners[0]


def intake_raw(raw: bytes, accounts: Mapping[str, str], limits: Limits) -> IntakeResult:
    """One message against a directory of accounts (username → registered e-mail)."""
    mail = read_mail(raw, limits)
    first = intake_mail(mail, limits=limits)
    username = _account_for(first, mail.from_address, accounts)
    check_sender(mail, accounts[username])
    return intake_mail(mail, username=username, limits=limits)


def process_mailbox(
    url: str,
    folder: str,
    accounts: Mapping[str, str],
    *,
    limits: Limits | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Take every new application in ``folder``; each message's outcome, in UID order."""
    from imap_tools import AND

    limits = limits or Limits()
    target = parse_url(url)
    outcomes: list[Outcome] = []
    with _mailbox(target, folder) as box:
        done: set[str] = set()
        pending = list(box.fetch(AND(no_keyword=PROCESSED), headers_only=True, mark_seen=False))
        for head in pending:
            message_id = (head.headers.get("message-id") or ("",))[0].strip()
            outcome = _one(
                box, head.uid or "", message_id, head.size_rfc822, done, accounts, limits
            )
            box.flag(head.uid, PROCESSED, True)
            if message_id:
                done.add(message_id)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return outcomes


def _processed_before(box: Any, message_id: str) -> bool:
    """Whether a marked message with this Message-ID is in the folder (a server search)."""
    from imap_tools import AND, H

    return bool(box.uids(AND(keyword=PROCESSED, header=H("Message-ID", message_id))))


def _one(
    box: Any,
    uid: str,
    message_id: str,
    size: int,
    done: set[str],
    accounts: Mapping[str, str],
    limits: Limits,
) -> Outcome:
    if message_id and (message_id in done or _processed_before(box, message_id)):
        return Outcome(uid, message_id, DUPLICATE, "this Message-ID was processed before")
    if size > limits.max_message_bytes:
        return Outcome(
            uid, message_id, REFUSED, f"message: larger than {limits.max_message_bytes} bytes"
        )
    status, data = box.client.uid("fetch", uid, "(BODY.PEEK[])")
    raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
    if status != "OK" or not raw:
        return Outcome(uid, message_id, REFUSED, "message: the server returned no content")
    try:
        result = intake_raw(raw, accounts, limits)
    except EdiBridgeError as exc:
        return Outcome(uid, message_id, REFUSED, str(exc))
    return Outcome(uid, message_id, ACCEPTED if result.complete else INCOMPLETE, result=result)


__all__ = [
    "ACCEPTED",
    "DUPLICATE",
    "INCOMPLETE",
    "PASSWORD_ENV",
    "PROCESSED",
    "REFUSED",
    "ImapTarget",
    "Outcome",
    "intake_raw",
    "parse_url",
    "process_mailbox",
]
