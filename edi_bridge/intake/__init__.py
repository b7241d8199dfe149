"""Applications by e-mail: the requisites of a new client, checked against its account.

``intake_message(raw, account_email=...)`` reads one RFC 822 message and returns an
:class:`IntakeResult`: a validated :class:`~edi_bridge.models.Counterparty`, or the
problems per field with the text of a reply asking for them. ``process_mailbox``
does the same for every new message of an IMAP folder. See ``docs/intake.md``.

The format libraries (python-docx, openpyxl, pdfplumber, pymorphy3, imap-tools) come
with the ``intake`` extra and are imported only when a card or mailbox needs them.
"""

from .application import (
    CONFLICT,
    INVALID,
    MISSING,
    IntakeResult,
    Problem,
    intake_mail,
    intake_message,
    reply_text,
)
from .message import Attachment, Limits, Mail, check_sender, read_mail

__all__ = [
    "CONFLICT",
    "INVALID",
    "MISSING",
    "Attachment",
    "IntakeResult",
    "Limits",
    "Mail",
    "Problem",
    "check_sender",
    "intake_mail",
    "intake_message",
    "read_mail",
    "reply_text",
]
