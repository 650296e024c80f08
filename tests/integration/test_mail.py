"""Mail goes over real SMTP; the test listens with aiosmtpd on a loopback port."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from core.mail import MailError, send_mail


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_send_mail_over_smtp(smtp_server):
    controller, inbox = smtp_server
    config = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port, "MAIL_SENDER": "SNT <no-reply@test.example>"}
    send_mail(config, "volunteer@test.example", "Your clearance renewal", "Your NPPV2 is due for renewal.")
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "volunteer@test.example" and message["Subject"] == "Your clearance renewal"
    assert "due for renewal" in message.get_payload()


def test_unreachable_server_is_a_clear_error():
    config = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": _port(), "MAIL_SENDER": "x@test.example"}
    with pytest.raises(MailError, match="could not send mail"):
        send_mail(config, "a@test.example", "s", "b")
