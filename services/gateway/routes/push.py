"""Web Push subscriptions: `GET /api/push/key` (the VAPID public key the browser
subscribes with), `POST /api/push/subscriptions` and `DELETE /api/push/subscriptions`.

A subscription is checked as the push services make them before it is saved: an https
endpoint, `p256dh` the base64url of an uncompressed P-256 point (65 bytes, first 0x04),
`auth` the base64url of a 16-byte secret. Anything else could never be delivered to.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from services.delivery.webpush import PushKeys, PushSubscription, Subscriptions, read_public_key
from services.gateway.deps import CurrentUser, State

router = APIRouter(prefix="/api/push", tags=["push"])


class PublicKey(BaseModel):
    public_key: str


class Subscribed(BaseModel):
    id: str


BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def decoded(key: str, what: str, size: int) -> bytes:
    """The bytes of a base64url `key` (padded or not), which must be `size` long."""
    if not BASE64URL.match(key):
        raise ValueError(f"{what} must be base64url (A-Z, a-z, 0-9, - and _)")
    try:
        raw = base64.urlsafe_b64decode(key.rstrip("=") + "=" * (-len(key.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not valid base64url") from exc
    if len(raw) != size:
        raise ValueError(f"{what} must decode to {size} bytes, not {len(raw)}")
    return raw


class BrowserSubscription(PushSubscription):
    """A subscription as a browser's push service makes it; refused otherwise."""

    @field_validator("endpoint")
    @classmethod
    def _https(cls, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname or " " in endpoint or not endpoint.isprintable():
            raise ValueError("must be the https:// URL of a push service")
        return endpoint

    @field_validator("keys")
    @classmethod
    def _keys(cls, keys: PushKeys) -> PushKeys:
        if decoded(keys.p256dh, "keys.p256dh", 65)[0] != 0x04:
            raise ValueError("keys.p256dh must be an uncompressed P-256 point (it starts with 0x04)")
        decoded(keys.auth, "keys.auth", 16)
        return keys


class Unsubscribe(BaseModel):
    endpoint: str = Field(max_length=1000)


@router.get("/key", response_model=PublicKey, summary="The VAPID public key (applicationServerKey)")
def key(_user: CurrentUser, state: State) -> PublicKey:
    _private, public = state.settings.delivery.key_files(state.settings.data_dir)
    found = read_public_key(public)
    if found is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Web Push has no keys yet: run 'cradle push keys'")
    return PublicKey(public_key=found)


@router.post("/subscriptions", response_model=Subscribed, status_code=status.HTTP_201_CREATED,
             summary="Send my alerts to this browser")
def subscribe(subscription: BrowserSubscription, user: CurrentUser, state: State) -> Subscribed:
    return Subscribed(id=Subscriptions(state.redis).add(user.name, subscription))


@router.delete("/subscriptions", status_code=status.HTTP_204_NO_CONTENT,
               summary="Stop pushes to this browser")
def unsubscribe(body: Unsubscribe, user: CurrentUser, state: State) -> None:
    if not Subscriptions(state.redis).remove(user.name, body.endpoint):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription for you")
