"""A real HTTP receiver on loopback, and a reference verifier of Standard Webhooks signatures.

The verifier is written from the specification (https://www.standardwebhooks.com), not from
webhooks/signing.py, so that a mistake in ours cannot hide behind the same mistake here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import LazySettings

from members.models import Organization, User
from webhooks import services
from webhooks.models import Endpoint
from webhooks.tasks import webhooks_relay


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each path with the next status in its script (then the last one, again)."""

    port: int
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str) -> int:
        with self.lock:
            script = self.scripts.get(path, [200])
            return script.pop(0) if len(script) > 1 else script[0]

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(self.path)
            with receiver.lock:
                receiver.received.append(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        answered=status,
                    )
                )
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{receiver.port}/redirected")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver(settings: LazySettings) -> Iterator[Receiver]:
    # The development allowance, on for this test only: production refuses loopback receivers.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(port=0)))
    receiver = Receiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


class VerificationError(Exception):
    pass


def verify(secret: str, received: Received, *, tolerance: int = 300) -> Any:
    """Standard Webhooks, symmetric: HMAC-SHA256 keyed with the base64-decoded part of the
    ``whsec_`` secret, over ``{webhook-id}.{webhook-timestamp}.{body}``; the header lists
    ``v1,<base64>`` signatures separated by spaces; any one that matches will do."""
    msg_id = received.headers["webhook-id"]
    timestamp = received.headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise VerificationError("timestamp outside the tolerance")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + received.body, hashlib.sha256)
    for candidate in received.headers["webhook-signature"].split(" "):
        version, _comma, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected.digest()):
            return json.loads(received.body)
    raise VerificationError("no matching signature")


def add_endpoint(
    organization: Organization, admin: User, url: str, events: list[str], **extra: Any
) -> tuple[Endpoint, str]:
    return services.endpoint_create(
        organization=organization, user=admin, url=url, event_types=events, **extra
    )


def relay() -> int:
    """One run of the beat job; eager Celery sends each handed-out delivery in process."""
    return webhooks_relay()
