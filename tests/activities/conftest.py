"""Fixtures for the activities tests: a real SMTP server that keeps what it receives."""

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from crm.extensions import db
from tests.servers import free_port

HOST = "127.0.0.1"


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts as an `email.message`, and
    refuses the recipients listed in `refuse` (as a mail server refuses an unknown mailbox)."""

    def __init__(self):
        self.messages = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1, on a port of its own, that can be stopped (the port is
    then closed) and started again on the same port."""

    def __init__(self):
        self.host, self.port = HOST, free_port()
        self.mailbox = Mailbox()
        self._controller = None

    @property
    def messages(self):
        return self.mailbox.messages

    def to(self, address):
        """The messages sent to `address`."""
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def start(self):
        if self._controller is None:
            self._controller = Controller(self.mailbox, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    """A running SMTP server on 127.0.0.1 (stopped after the test); `.messages` is what
    arrived."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app_factory, smtp_server):
    """The app with its MAIL_SERVER and MAIL_PORT pointed at `smtp_server`, and an application
    context pushed for the test's own database work."""
    app = app_factory(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5)
    with app.app_context():
        yield app
        db.session.remove()
