"""Hostile requests for the gateway's fuzz test: JSON no store can keep, sizes past every
limit, wrong types, odd dates and query strings, bytes that are not audio; and a raw
HTTP/1.1 client for what an HTTP library will not send (stalled bodies, 2,000 headers)."""

from __future__ import annotations

import io
import json
import re
import socket
import time
import wave
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import params
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from hypothesis import strategies as st
from starlette.responses import StreamingResponse

# Characters of every kind, lone surrogates and bidi overrides included.
ANY_CHAR = st.characters(exclude_categories=())
NASTY_TEXT = st.sampled_from([
    "\ud800", "a\udfffb", "\x00", "\u202e drawkcab", "\u2066x\u2069", "\t\r\n", "'; DROP TABLE--",
    "../../etc/passwd", "%00", "🙂" * 50, " ", "",
])
TEXT = st.one_of(st.text(ANY_CHAR, max_size=40), NASTY_TEXT,
                 st.builds(lambda n, c: c * n, st.integers(1_000, 100_000), st.sampled_from("x\ud800é")))
NUMBER = st.one_of(
    st.integers(), st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                     st.dictionaries(TEXT, inner, max_size=6)), max_leaves=20)
RAW_BODY = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"1e999999", b"-1e999999", b"NaN", b"Infinity", b'{"a": 1', b"\xff\xfe{}", b"[]", b"{}",
                     b"1" * 5_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 3_000 + b"1" + b"}" * 3_000]),
)
MOMENT = st.one_of(
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
                     "0001-01-01T00:00:00+23:59", "2024-02-30T00:00:00Z", "2024-05-01T12:00:00",
                     "1969-12-31T23:59:59Z", "2199-12-31T23:59:59-23:00", "now", "1e999", "-1", ""]),
    st.datetimes().map(lambda d: d.isoformat()),
)
QUERY_VALUE = st.one_of(TEXT.filter(lambda t: len(t) < 500), MOMENT,
                        NUMBER.map(str), st.sampled_from(["nan", "inf", "-0", "true", "[]"]))


def not_audio() -> st.SearchStrategy[bytes]:
    """Uploads that are no voice message: random bytes, JSON, an image, a broken WAV, a
    blink of sound."""
    return st.one_of(
        st.binary(max_size=4_000),
        st.sampled_from([
            json.dumps({"events": list(range(2_000))}).encode(),
            b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
            b"RIFF\x10\x00\x00\x00WAVEfmt garbage",
            b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",
            wav(0.05),
        ]),
    )


def wav(seconds: float, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV of silence `seconds` long."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


def fuzzed_routes(routes: list[Any]) -> list[tuple[str, RouteContext]]:
    """(method, route) for every API route of the app, included routers' too, but endless
    streams (SSE), whose answer never ends; they read no body."""
    found = []
    for route in iter_route_contexts(routes):
        answers = getattr(route, "response_class", None)
        answers = getattr(answers, "value", answers)  # a DefaultPlaceholder, or the class
        streams = isinstance(answers, type) and issubclass(answers, StreamingResponse)
        if isinstance(route.original_route, APIRoute) and not streams:
            found.extend((method, route) for method in sorted(set(route.methods) - {"HEAD"}))
    return found


def takes_upload(route: RouteContext) -> bool:
    return any(isinstance(param.field_info, params.Form) for param in route.dependant.body_params)


def body_names(route: RouteContext) -> list[str]:
    """The top-level field names of a route's JSON body, to aim hostile values at them."""
    names: list[str] = []
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        fields = getattr(annotation, "model_fields", None)
        names.extend(fields or [param.name])
    return names


@dataclass
class Hostile:
    path: str
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.content or b"") + sum(len(f[1]) for f in (self.files or {}).values())


def encoded(value: Any) -> bytes:
    """JSON as Python writes it: NaN, Infinity and lone surrogates (as \\ud800) included."""
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def requests(draw: st.DrawFn, route: RouteContext) -> Hostile:
    """One hostile request for `route`: odd path parameters and query strings, and a
    body of hostile JSON, raw bytes or a fake upload."""
    def fill(_param: re.Match[str]) -> str:
        value = draw(TEXT.filter(lambda t: 0 < len(t) < 300))
        return quote(value.encode("utf-8", "surrogatepass"), safe="")

    path = re.sub(r"\{(\w+)(:\w+)?\}", fill, route.path)
    known = [p.alias or p.name for p in route.dependant.query_params]
    short = TEXT.filter(lambda t: len(t) < 50)
    names = st.one_of(st.sampled_from(known), short) if known else short
    query = draw(st.dictionaries(names.filter(lambda t: t.isprintable() and t.isascii()), QUERY_VALUE,
                                  max_size=4))
    query = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in query.items()}
    request = Hostile(path, query)
    if takes_upload(route) and draw(st.booleans()):
        name = draw(st.sampled_from(["audio", "file", "x"]))
        media = draw(st.sampled_from(["audio/wav", "application/json", "application/octet-stream"]))
        request.files = {name: ("upload", draw(not_audio()), media)}
        return request
    aimed = body_names(route)
    kind = draw(st.sampled_from(["json", "aimed", "raw", "none"] if aimed else ["json", "raw", "none"]))
    if kind == "json":
        request.content = encoded(draw(JSON))
    elif kind == "aimed":  # the route's own field names, each with a hostile value
        request.content = encoded(draw(st.dictionaries(st.sampled_from(aimed), JSON, min_size=1)))
    elif kind == "raw":
        request.content = draw(RAW_BODY)
    if request.content is not None:
        request.headers["Content-Type"] = draw(st.sampled_from(["application/json", "application/json",
                                                                 "text/plain", "application/x+json"]))
    return request


# -- A raw HTTP/1.1 client: what httpx will not send.

def connect(port: int, timeout: float = 20.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def head(method: str, path: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class RawAnswer:
    status: int
    body: bytes
    closed: bool  # the server closed the connection after answering
    seconds: float  # from the call until the answer was read


def read_answer(conn: socket.socket, started: float | None = None) -> RawAnswer:
    """Read one answer to its end and whether the server then closed the connection
    (EOF before the socket's timeout). The body is as sent: chunk framing included."""
    started = time.monotonic() if started is None else started
    data, closed = b"", False
    try:
        while True:
            chunk = conn.recv(65_536)
            if not chunk:
                closed = True
                break
            data += chunk
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    seconds = time.monotonic() - started
    head_part, _, body = data.partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1]) if head_part.startswith(b"HTTP/1.1 ") else 0
    return RawAnswer(status, body, closed, seconds)
