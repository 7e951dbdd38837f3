"""A fake push service on 127.0.0.1 (a tiny threaded HTTP server) and the test fixtures'
builders: browser subscriptions with real keys, alerts in the store."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.alerts.state import AlertRecord, AlertStore
from services.bus.events import AlertRaised, utcnow
from services.delivery.webpush import PushSubscription


class FakePushService:
    """Answers POSTs to /fail with 500 and to anything else with 201, after `delay_s`.

    `received` counts requests by path as they arrive; `answered` those answered;
    `in_flight()` the paths of requests received and not yet answered."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.received: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.bodies: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with service.lock:
                    service.received[self.path] += 1
                    service.bodies.append((self.path, body))
                time.sleep(service.delay_s)
                code = 500 if self.path.startswith("/fail") else 201
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with service.lock:
                    service.answered[self.path] += 1

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePushService:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def in_flight(self) -> Counter[str]:
        with self.lock:
            return self.received - self.answered


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def browser_subscription(endpoint: str) -> PushSubscription:
    """What a browser would post: its own P-256 key and auth secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return PushSubscription.model_validate(
        {"endpoint": endpoint, "keys": {"p256dh": b64(point), "auth": b64(os.urandom(16))}}
    )


def make_alert(client: redis.Redis, alert_id: str, *, child: str = "Mia", severity: str = "warning",
               recipients: tuple[str, ...] = ("*",), at: datetime | None = None,
               kind: str = "upset", state: str = "raised") -> AlertRecord:
    """An alert record as the engine writes it, and its AlertRaised event (returned unsent)."""
    record = AlertRecord.model_validate({
        "id": alert_id, "child": child, "kind": kind, "severity": severity,
        "reason": f"{child} has been crying for 3 minutes", "raised_at": at or utcnow(),
        "state": state, "frame_id": f"frame{alert_id[:8]}", "camera": "cot", "recipients": list(recipients),
    })
    with client.pipeline(transaction=True) as pipe:
        AlertStore(client).create(record, pipe)
        pipe.execute()
    return record


def raised(record: AlertRecord) -> AlertRaised:
    return AlertRaised(id=record.id, occurred_at=record.raised_at, source="alerts", alert_id=record.id,
                       child=record.child, kind=record.kind, severity=record.severity,
                       reason=record.reason, frame_id=record.frame_id)


def feed_entries(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange("cradle:alerts:feed")]  # type: ignore[union-attr,misc]


def feed_alerts(client: redis.Redis) -> Counter[tuple[str, str]]:
    """(alert id, user) of each `alert` entry on the live feed."""
    return Counter((json.loads(f["data"])["alert_id"], f["for"]) for f in feed_entries(client)
                   if f["event"] == "alert")
