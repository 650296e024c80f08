"""Email over SMTP with the standard library."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


def send_mail(config: dict, to: str, subject: str, body: str) -> str:
    """Send a plain-text message; returns its Message-ID. Raises MailError if SMTP fails."""
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="sng.invalid")
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"could not send mail via {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {exc}") from exc
    return message["Message-ID"]
