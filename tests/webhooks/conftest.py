"""A real receiver of webhook messages on 127.0.0.1, and webhooks pointing at it."""

import json
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.webhooks import services
from crm.webhooks.delivery import wait_for_senders
from crm.webhooks.models import WebhookDelivery


@dataclass
class Received:
    """One message as the receiver got it."""

    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class Receiver:
    """An HTTP server on a free port of 127.0.0.1 that keeps what it is sent and answers with
    the next of `answers` (then 200)."""

    def __init__(self):
        self.received = queue.Queue()
        self.answers = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.put(Received(self.path, dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lotse"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages(self):
        """Everything received so far."""
        found = []
        while not self.received.empty():
            found.append(self.received.get_nowait())
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver(app):
    server = Receiver()
    yield server
    wait_for_senders(app)
    server.close()


@pytest.fixture
def make_webhook(app):
    """`make_webhook(url, **fields)`: a registered webhook; returns `(webhook, secret)`."""

    def make(url, **fields):
        data = {"url": url, "description": "Partnerplattform", "is_active": True,
                "events": ["lead.created", "lead.stage_changed", "lead.status_changed"],
                **fields}
        webhook, secret = services.create_webhook(data, actor=None)
        db.session.commit()
        return webhook, secret

    return make


@pytest.fixture
def settle(app):
    """`settle()`: wait for the background senders, then the deliveries as stored now."""

    def wait():
        wait_for_senders(app)
        db.session.rollback()  # a fresh look, not what this session read before
        return db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()

    return wait
