"""Sending closing documents by e-mail (SMTP, standard library).

Settings (section ``smtp``; env ``EDI_BRIDGE_SMTP_*``): ``host`` (required),
``port`` (25; 465 with ``ssl``), ``sender`` (required, the From address),
``username`` and ``password`` (optional, AUTH after STARTTLS), ``starttls``
and ``ssl`` (flags), ``timeout`` (seconds, 30).
"""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate

from .. import config
from ..errors import ConfigurationError, EdiBridgeError, TransientError, ValidationError


@dataclasses.dataclass(frozen=True)
class Attachment:
    file_name: str
    content: bytes
    media_type: str = "application/octet-stream"


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 25
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, str] | None = None) -> SmtpSettings:
        raw = config.SMTP.read(settings)
        missing = [k for k in ("host", "sender") if not raw.get(k)]
        if missing:
            names = ", ".join(f"smtp.{k} ({config.env_name('smtp.' + k)})" for k in missing)
            raise ConfigurationError(f"e-mail delivery needs {names}")
        use_ssl = config.flag(raw.get("ssl"))
        try:
            port = int(raw.get("port") or (465 if use_ssl else 25))
            timeout = float(raw.get("timeout") or 30)
        except ValueError:
            raise ValidationError("smtp.port", "port and timeout must be numbers") from None
        return cls(
            host=raw["host"],
            sender=raw["sender"],
            port=port,
            username=raw.get("username") or None,
            password=raw.get("password") or None,
            starttls=config.flag(raw.get("starttls")),
            ssl=use_ssl,
            timeout=timeout,
        )


class Mailer:
    """One SMTP connection per message: simple, and nothing to keep alive between runs."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"<Mailer {self.settings.host}:{self.settings.port}>"

    def compose(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[Attachment],
        message_id: str,
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = message_id
        msg.set_content(body)
        for item in attachments:
            maintype, _, subtype = item.media_type.partition("/")
            msg.add_attachment(
                item.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=item.file_name,
            )
        return msg

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server, at most once.

        Until the server has the body, every failure means nothing went out
        (:class:`TransientError` or :class:`ValidationError`, safe to retry). Once
        the body is on the wire, a failure before the server's final reply raises
        :class:`DeliveryUncertain`: it may hold the message. After its final 250
        the message is delivered, whatever happens at QUIT.
        """
        s = self.settings
        client: _TrackedSMTP | _TrackedSMTPSSL | None = None
        try:
            if s.ssl:
                client = _TrackedSMTPSSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                client = _TrackedSMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                client.starttls(context=ssl.create_default_context())
            if s.username and s.password:
                client.login(s.username, s.password)
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ValidationError(
                "closing_documents.email", f"refused by the server: {exc}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientError(f"SMTP {exc.smtp_code}", provider="smtp") from None
            raise ValidationError("e-mail", f"SMTP server refused: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            if client is not None and client.body_sent:
                raise DeliveryUncertain(
                    f"the connection broke after the message was sent ({type(exc).__name__}); "
                    "the server may hold it"
                ) from None
            # Never the exception text of a login: it may echo credentials.
            raise TransientError(
                f"SMTP unreachable ({type(exc).__name__})", provider="smtp"
            ) from None
        finally:
            if client is not None:
                _quit_quietly(client)
        if refused:
            raise ValidationError("closing_documents.email", f"refused by the server: {refused}")


class DeliveryUncertain(EdiBridgeError):
    """The server got the message body but no final answer came back: it may hold it."""


class _Tracking:
    """Remembers whether the server said 354 (go ahead with the body) to this DATA.

    smtplib sends the body right after that reply, so from then on a broken
    connection no longer means "nothing went out".
    """

    body_sent = False

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()  # type: ignore[misc]
        if code == 354:
            self.body_sent = True
        return code, text


class _TrackedSMTP(_Tracking, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


def _quit_quietly(client: smtplib.SMTP) -> None:
    # After the final 250 the message is the server's: a 421 or a dropped line at
    # QUIT changes nothing, so it must not turn a delivered message into a failure.
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


__all__ = ["Attachment", "DeliveryUncertain", "Mailer", "SmtpSettings"]
