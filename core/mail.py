"""Email over SMTP with the standard library.

Every header is built here from a cleaned value, whatever the caller passed: a request's title or a
person's name ends up in a subject, and a CR or LF in it would start a header of its own (``Bcc: …``).
The email package refuses that with a ValueError, which once turned a sergeant's cancellation into a
500 that sent no email at all.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid

SUBJECT_MAX = 200
# Control characters (line breaks included) and the Unicode line separators: none belongs in a header.
_NOT_FOR_HEADERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# In a body, line breaks and tabs are fine; the other control characters are not.
_NOT_FOR_BODIES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
# One plain address: no display name, no list, nothing a header parser would read as more.
_ONE_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\\\"]+@[^@\s,;:<>()\[\]\\\"]+\.[^@\s,;:<>()\[\]\\\"]+")


class MailError(Exception):
    """The message could not be handed to the SMTP server.

    ``permanent``: trying again will not help (a refused or unusable address); otherwise it may (the
    server was down, or answered "try later"), and the mail task tries again later.
    """

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def header_text(value: str, limit: int = SUBJECT_MAX) -> str:
    """``value`` as one header line: control characters and line breaks become single spaces, and it is
    cut to ``limit`` characters."""
    text = " ".join(_NOT_FOR_HEADERS.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _recipient(to: str) -> str:
    if not isinstance(to, str) or _ONE_ADDRESS.fullmatch(to) is None:
        # Never the address itself in the message: it goes to the log.
        raise MailError("not sent: the recipient is not one plain email address", permanent=True)
    return to


def _permanent(exc: smtplib.SMTPException) -> bool:
    """Whether the server's refusal is final (a 5xx reply) rather than "try later" (4xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


Attachment = tuple[str, str, bytes]  # (file name, MIME type such as "text/calendar", content)
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    filename, mimetype, content = attachment
    # The file name and type go into headers too: cleaned like a subject, and a type that is not plainly
    # "type/subtype" is sent as bytes rather than trusted.
    name = header_text(filename, 100).replace("/", "-").replace("\\", "-") or "attachment"
    kind = mimetype.strip().lower() if isinstance(mimetype, str) else ""
    maintype, subtype = kind.split("/") if _MIME_TYPE.fullmatch(kind) else ("application", "octet-stream")
    message.add_attachment(bytes(content), maintype=maintype, subtype=subtype, filename=name)


def send_mail(config: dict, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()) -> str:
    """Send a plain-text message to one address, with any ``attachments`` (file name, MIME type, bytes);
    returns its Message-ID. Raises MailError if it cannot be sent (``permanent`` if trying again would not
    help)."""
    message = EmailMessage()
    try:
        message["From"] = config["MAIL_SENDER"]
        message["To"] = _recipient(to)
        message["Subject"] = header_text(subject)
        message["Message-ID"] = make_msgid(domain="sng.invalid")
        message.set_content(_NOT_FOR_BODIES.sub("", body))
        for attachment in attachments:
            _attach(message, attachment)
    except ValueError as exc:  # the email package refused a header: nothing to retry
        raise MailError(f"not sent: the message could not be built: {exc}", permanent=True) from exc
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except smtplib.SMTPException as exc:
        raise MailError(
            f"could not send mail via {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {exc}", permanent=_permanent(exc)
        ) from exc
    except OSError as exc:
        raise MailError(f"could not send mail via {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {exc}") from exc
    return message["Message-ID"]


# ---- Mail that must not slow the reply ----------------------------------------------------------

_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
_log = logging.getLogger("sng.mail")

_MAIL_SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS", "MAIL_SENDER")


def send_soon(config: dict, to: str, subject: str, body: str) -> Future:
    """Send from a background thread, so the reply does not wait for (or time) the SMTP server.

    For pages whose answer must read and take the same whether or not an address has an account (a
    forgotten password): sending only for known addresses would otherwise show in the response time.
    A failure is logged (never the address or the body) and the message is lost: the person asks again.
    """
    settings = {key: config.get(key) for key in _MAIL_SETTINGS}

    def deliver() -> None:
        try:
            send_mail(settings, to, subject, body)
        except MailError as exc:
            _log.warning("background mail not sent: %s", exc)

    return _background.submit(deliver)
