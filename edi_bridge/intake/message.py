"""Reading an application e-mail safely: bounded size, parts, attachments and nesting.

The message is parsed with the standard library (``email`` with ``policy.default``)
only after its raw size has been checked. The MIME tree is walked by hand so that
nesting depth and the number and size of parts are bounded before any attachment is
decoded. HTML bodies are reduced to text; nothing in them is followed or rendered.
"""

from __future__ import annotations

import email
import email.utils
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from ..errors import UnsafeInput, ValidationError


@dataclass(frozen=True)
class Limits:
    """Bounds for one application e-mail and its company cards."""

    max_message_bytes: int = 15 * 1024 * 1024
    max_parts: int = 30
    max_depth: int = 5
    max_attachments: int = 10
    max_attachment_bytes: int = 5 * 1024 * 1024
    # Inside DOCX/XLSX (zip) cards: total unpacked size, member count, ratio.
    max_unpacked_bytes: int = 50 * 1024 * 1024
    max_zip_members: int = 500
    max_compression_ratio: int = 100
    max_pdf_pages: int = 20


@dataclass(frozen=True)
class Attachment:
    file_name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    """What intake needs of a message: who sent it, its text, its attachments."""

    message_id: str
    subject: str
    from_address: str
    other_senders: dict[str, str]  # header name -> address (Sender, Return-Path)
    text: str
    attachments: list[Attachment] = field(default_factory=list)


_TAG_RE = re.compile(r"<[^>]*>")
_NESTING_RE = re.compile(rb"^content-type:\s*(multipart|message)/", re.IGNORECASE | re.MULTILINE)
_BLOCK_RE = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_CELL_RE = re.compile(r"<\s*/t[dh]\s*>", re.IGNORECASE)
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: tags dropped, cells as ``label: value`` rows."""
    text = _SCRIPT_RE.sub(" ", markup)
    text = _CELL_RE.sub("\t", text)
    text = _BLOCK_RE.sub("\n", text)
    text = _TAG_RE.sub(" ", text)
    return html.unescape(text)


def _address(value: str | None) -> str:
    """The bare address of a header value, lower-cased; display names are ignored."""
    if not value:
        return ""
    pairs = email.utils.getaddresses([str(value)])
    addresses = [addr for _, addr in pairs if addr]
    if len(addresses) != 1:
        return ""
    return addresses[0].strip().lower()


def _walk(part: EmailMessage, depth: int, limits: Limits, counter: list[int]) -> list[EmailMessage]:
    counter[0] += 1
    if counter[0] > limits.max_parts:
        raise UnsafeInput(f"message: more than {limits.max_parts} MIME parts")
    if depth > limits.max_depth:
        raise UnsafeInput(f"message: multipart nesting deeper than {limits.max_depth} levels")
    if not part.is_multipart():
        return [part]
    leaves: list[EmailMessage] = []
    payload = part.get_payload()
    if not isinstance(payload, list):
        return leaves
    for child in payload:
        if isinstance(child, EmailMessage):
            leaves.extend(_walk(child, depth + 1, limits, counter))
    return leaves


def _decoded(part: EmailMessage, limit: int, what: str) -> bytes:
    raw = part.get_payload(decode=False)
    # Base64 grows by 4/3; refuse before decoding anything that cannot fit.
    if isinstance(raw, str) and len(raw) > limit * 4 // 3 + 4096:
        raise UnsafeInput(f"{what}: larger than {limit} bytes")
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return b""
    if len(data) > limit:
        raise UnsafeInput(f"{what}: larger than {limit} bytes")
    return data


def _text_of(part: EmailMessage, limits: Limits) -> str:
    data = _decoded(part, limits.max_attachment_bytes, "message body")
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def read_mail(data: bytes, limits: Limits | None = None) -> Mail:
    """Parse a raw RFC 822 message within ``limits``; raises UnsafeInput or ValidationError."""
    limits = limits or Limits()
    if len(data) > limits.max_message_bytes:
        raise UnsafeInput(f"message: larger than {limits.max_message_bytes} bytes")
    if not data.strip():
        raise ValidationError("message", "is empty")
    # The standard parser recurses once per nesting level: bound the containers before
    # it runs (each declares itself in a Content-Type line of its own).
    if len(_NESTING_RE.findall(data)) > limits.max_parts:
        raise UnsafeInput(f"message: more than {limits.max_parts} multipart parts")
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except RecursionError:
        raise UnsafeInput("message: multipart nesting too deep to parse") from None
    if not isinstance(msg, EmailMessage) or (msg.defects and not msg.keys()):
        raise ValidationError("message", "is not an RFC 822 message")
    if not msg.get("From"):
        raise ValidationError("message.From", "header is missing")
    leaves = _walk(msg, 0, limits, [0])
    texts: list[str] = []
    html_texts: list[str] = []
    attachments: list[Attachment] = []
    for part in leaves:
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if disposition == "attachment" or name:
            if len(attachments) >= limits.max_attachments:
                raise UnsafeInput(f"message: more than {limits.max_attachments} attachments")
            label = f"attachment {name or '(unnamed)'}"
            blob = _decoded(part, limits.max_attachment_bytes, label)
            attachments.append(
                Attachment(
                    file_name=name or "attachment", media_type=part.get_content_type(), data=blob
                )
            )
        elif part.get_content_maintype() == "text":
            text = _text_of(part, limits)
            (html_texts if part.get_content_subtype() == "html" else texts).append(text)
    # A multipart/alternative carries the same text twice: prefer the plain one.
    body = "\n".join(texts) if texts else "\n".join(html_texts)
    others = {}
    for header in ("Sender", "Return-Path"):
        if msg.get(header) is not None:
            others[header] = _address(msg.get(header)) or str(msg.get(header))
    return Mail(
        message_id=str(msg.get("Message-ID", "")).strip(),
        subject=str(msg.get("Subject", "")),
        from_address=_address(msg.get("From")),
        other_senders=others,
        text=body,
        attachments=attachments,
    )


def check_sender(mail: Mail, account_email: str) -> None:
    """Refuse unless every sender header names the account's registered address."""
    registered = _address(account_email)
    if not registered:
        raise ValidationError("account_email", f"{account_email!r} is not an e-mail address")
    if not mail.from_address:
        raise ValidationError("message.From", "must hold exactly one e-mail address")
    senders = {"From": mail.from_address, **mail.other_senders}
    for header, address in senders.items():
        # Return-Path "<>" (bounces) names nobody: it cannot be the client.
        if address != registered:
            shown = address or "(none)"
            raise ValidationError(
                f"message.{header}",
                f"sender {shown} is not the account's registered address {registered}",
            )


__all__ = ["Attachment", "Limits", "Mail", "check_sender", "html_to_text", "read_mail"]
