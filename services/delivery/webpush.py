"""Web Push: VAPID keys, each user's browser subscriptions, and the channel (pywebpush).

`cradle push keys` writes the VAPID key pair under data_dir; the web app fetches the
public key (`GET /api/push/key`), subscribes, and posts its subscription. Subscriptions
live in Redis per user (`cradle:push:subs:<user>`, field = SHA-256 of the endpoint); a
push service answering 404 or 410 has forgotten the subscription, which is then dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

import redis
import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pydantic import BaseModel, ConfigDict, Field
from pywebpush import WebPushException, webpush

from services.alerts.state import AlertRecord
from services.delivery.channels import DeliveryFailed, payload
from services.settings.delivery import DeliverySettings

log = logging.getLogger(__name__)
SUBS = "cradle:push:subs"
GONE = (404, 410)  # the push service no longer knows this subscription


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=16, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class PushSubscription(BaseModel):
    """What the browser's `PushSubscription.toJSON()` gives."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(pattern=r"^https?://", max_length=1000)
    keys: PushKeys
    expirationTime: int | None = None  # the browser's name for it

    @property
    def id(self) -> str:
        return hashlib.sha256(self.endpoint.encode()).hexdigest()[:16]


def generate_keys(private: Path, public: Path) -> str:
    """Write a new VAPID key pair (the private one readable by its owner only); returns
    the public key as the browser wants it (base64url of the uncompressed point)."""
    vapid = Vapid()
    vapid.generate_keys()
    private.parent.mkdir(parents=True, exist_ok=True)
    public.parent.mkdir(parents=True, exist_ok=True)
    private.touch(mode=0o600)
    private.write_bytes(vapid.private_pem())
    key = application_server_key(vapid)
    public.write_text(key + "\n")
    return key


def application_server_key(vapid: Vapid) -> str:
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_public_key(public: Path) -> str | None:
    try:
        return public.read_text().strip() or None
    except OSError:
        return None


class Subscriptions:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def add(self, user: str, subscription: PushSubscription) -> str:
        self.client.hset(f"{SUBS}:{user.lower()}", subscription.id, subscription.model_dump_json())
        return subscription.id

    def remove(self, user: str, endpoint: str) -> bool:
        sub_id = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
        return bool(self.client.hdel(f"{SUBS}:{user.lower()}", sub_id))

    def of(self, user: str) -> dict[str, PushSubscription]:
        raw: dict[str, str] = self.client.hgetall(f"{SUBS}:{user.lower()}")  # type: ignore[assignment]
        return {sub_id: PushSubscription.model_validate_json(body) for sub_id, body in raw.items()}

    def drop(self, user: str, sub_id: str) -> None:
        self.client.hdel(f"{SUBS}:{user.lower()}", sub_id)


class WebPushChannel:
    """Sends to every browser a user subscribed; delivered when one of them accepted."""

    name = "webpush"

    def __init__(self, client: redis.Redis, settings: DeliverySettings, private_key: Path) -> None:
        self.subscriptions = Subscriptions(client)
        self.settings = settings
        self.vapid = Vapid.from_file(str(private_key))
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:  # one per sender thread: requests sessions are not thread-safe
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def reaches(self, user: str) -> bool:
        return bool(self.subscriptions.client.hlen(f"{SUBS}:{user.lower()}"))

    def send(self, alert: AlertRecord, user: str) -> None:
        body = json.dumps(payload(alert, self.settings.public_url))
        errors: list[str] = []
        transient = delivered = False
        for sub_id, subscription in self.subscriptions.of(user).items():
            try:
                self._push(subscription, body, urgent=alert.severity == "urgent", topic=alert.id)
                delivered = True
            except WebPushException as exc:
                code = exc.status_code
                errors.append(f"{subscription.endpoint[:60]}: HTTP {code}")
                if code in GONE:
                    log.info("push subscription %s of %s is gone; dropped", sub_id, user)
                    self.subscriptions.drop(user, sub_id)
                else:
                    transient = True
            except (requests.RequestException, OSError) as exc:
                errors.append(f"{subscription.endpoint[:60]}: {type(exc).__name__}")
                transient = True
        if delivered:  # a browser that failed is not tried again: the user has the alert
            return
        if not errors:
            raise DeliveryFailed(f"{user} has no push subscription", permanent=True)
        raise DeliveryFailed("; ".join(errors), permanent=not transient)

    def _push(self, subscription: PushSubscription, body: str, *, urgent: bool, topic: str) -> None:
        info: dict[str, Any] = subscription.model_dump(exclude={"expirationTime"})
        webpush(
            info, data=body, vapid_private_key=self.vapid,
            vapid_claims={"sub": self.settings.vapid_subject},
            ttl=self.settings.push_ttl_s, timeout=self.settings.send_timeout_s,
            # Topic: a resend while the first is still queued replaces it on the push service.
            headers={"Urgency": "high" if urgent else "normal", "Topic": topic[:32]},
            requests_session=self._session(),
        )

    def stop(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
