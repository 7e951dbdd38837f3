"""The `gateway.limits` section: how much a request may send the gateway, and how slowly.

Each route family has its own body limit, checked against Content-Length before the body
is read and counted while it streams; uploads (voice) keep speech.max_bytes. Every field
has a default, a bound and a description.
"""

from __future__ import annotations

from pydantic import Field

from services.settings.base import Section

KIB = 1024


class GatewayLimits(Section):
    body_bytes: int = Field(
        default=16 * KIB, ge=KIB, le=16 * KIB * KIB,
        description="Largest request body, in bytes, of a route without a limit of its own.",
    )
    chat_bytes: int = Field(
        default=32 * KIB, ge=KIB, le=KIB * KIB,
        description="Largest body of POST /api/chat, in bytes (2,000 characters, JSON-escaped).",
    )
    game_bytes: int = Field(
        default=64 * KIB, ge=KIB, le=4 * KIB * KIB,
        description="Largest body of the games routes (a new game, a vote), in bytes.",
    )
    label_bytes: int = Field(
        default=8 * KIB, ge=KIB, le=KIB * KIB,
        description="Largest body of the labels routes (a mood and scene tags), in bytes.",
    )
    push_bytes: int = Field(
        default=8 * KIB, ge=KIB, le=KIB * KIB,
        description="Largest body of the push routes (a browser's subscription), in bytes.",
    )
    header_count: int = Field(
        default=100, ge=16, le=1000,
        description="Most headers a request may carry; more is answered 431.",
    )
    header_bytes: int = Field(
        default=16 * KIB, ge=4 * KIB, le=KIB * KIB,
        description="Largest request line and headers together, in bytes; more is refused "
        "before the request is read further.",
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, le=600,
        description="Seconds a client has to send a request's whole body; a slower one is "
        "answered 408 and its connection closed.",
    )
