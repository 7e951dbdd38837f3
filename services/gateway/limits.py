"""Limits on what one request may make the gateway hold, and for how long.

Body sizes are FastAPI's own `max_body_size` (per router, set in app.py): checked
against Content-Length before a byte is read, and counted while a chunked body streams.
`Guard`, an ASGI middleware, adds what FastAPI lacks: a cap on the number and size of
headers (uvicorn's h11 parser caps the bytes at the socket, `header_bytes`; this covers
any server) and a deadline on the body, so a client that declares a body and stops
sending is answered 408 and its connection closed instead of holding it for good.
"""

from __future__ import annotations

import anyio
from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.settings.limits import GatewayLimits
from services.settings.sections import SpeechSettings

UPLOAD_ENVELOPE = 64 * 1024  # multipart boundaries and part headers around an upload
CLOSE = (b"connection", b"close")


def upload_limit(speech: SpeechSettings) -> int:
    """The body limit of the upload routes: the largest upload and its multipart envelope
    (the route refuses more than speech.max_bytes of audio itself, with a clearer 413)."""
    return speech.max_bytes + UPLOAD_ENVELOPE


def header_problem(headers: list[tuple[bytes, bytes]], limits: GatewayLimits) -> str | None:
    """Why these headers are refused, or None."""
    if len(headers) > limits.header_count:
        return f"{len(headers)} headers: at most {limits.header_count} are accepted"
    size = sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"
    if size > limits.header_bytes:
        return f"{size} bytes of headers: at most {limits.header_bytes} are accepted"
    return None


class Guard:
    """Refuses too many or too large headers (431) and a body that takes longer than
    `body_timeout_s` to arrive (408, with the connection closed)."""

    def __init__(self, app: ASGIApp, limits: GatewayLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = header_problem(scope["headers"], self.limits)
        if problem is not None:
            refusal = JSONResponse({"detail": problem}, status.HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE,
                                   headers={"Connection": "close"})
            await refusal(scope, receive, send)
            return
        await self.app(scope, self._in_time(receive), self._closing(send))

    def _in_time(self, receive: Receive) -> Receive:
        timeout = self.limits.body_timeout_s
        deadline = anyio.current_time() + timeout
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:  # later reads only wait for the client to leave (SSE): no deadline
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                body_done = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            raise HTTPException(
                status.HTTP_408_REQUEST_TIMEOUT,
                f"the request body did not arrive within {timeout:g} s: send it whole, then wait",
                headers={"Connection": "close"},
            )

        return receive_in_time

    @staticmethod
    def _closing(send: Send) -> Send:
        """Closes the connection after a 413: the rest of the body is never read, so the
        connection cannot carry another request."""

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        return send_closing
