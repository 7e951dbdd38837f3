"""Web Push subscriptions: `GET /api/push/key` (the VAPID public key the browser
subscribes with), `POST /api/push/subscriptions` and `DELETE /api/push/subscriptions`."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from services.delivery.webpush import PushSubscription, Subscriptions, read_public_key
from services.gateway.deps import CurrentUser, State

router = APIRouter(prefix="/api/push", tags=["push"])


class PublicKey(BaseModel):
    public_key: str


class Subscribed(BaseModel):
    id: str


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
def subscribe(subscription: PushSubscription, user: CurrentUser, state: State) -> Subscribed:
    if state.settings.environment == "home" and not subscription.endpoint.startswith("https://"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "a push endpoint must be https://")
    return Subscribed(id=Subscriptions(state.redis).add(user.name, subscription))


@router.delete("/subscriptions", status_code=status.HTTP_204_NO_CONTENT,
               summary="Stop pushes to this browser")
def unsubscribe(body: Unsubscribe, user: CurrentUser, state: State) -> None:
    if not Subscriptions(state.redis).remove(user.name, body.endpoint):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription for you")
