"""What the gateway answers to input it cannot use.

FastAPI's own 422 echoes every bad input and its context back: a lone surrogate, NaN or
1e999999 cannot be encoded again (the answer became a 500), and a 32 MB body came back
as a 302 MB answer. `validation_failed` says where and why, with at most a short,
always-encodable excerpt of what was sent. `refuse_unencodable`, a dependency of every
route, refuses JSON that no store can keep: Python's json reads NaN, Infinity and
1e999999 (as inf) and keeps lone surrogates in strings, which then fail in Redis, the
embedder or the answer. `Moment` bounds the dates a route takes, so arithmetic on them
cannot overflow.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

MAX_PROBLEMS = 20  # problems listed in one answer
MAX_ECHO = 80  # characters of a bad input said back
MAX_KEY = 60  # characters of a field name in a location
MAX_MESSAGE = 300  # characters of one problem's message
EARLIEST, LATEST = 1970, 2199  # years a date given to a route may fall in
Loc = tuple[str | int, ...]


def printable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with what UTF-8 cannot hold (lone surrogates)
    written as escapes, so the answer always encodes."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def excerpt(value: Any) -> Any:
    """A bad input as it may be said back: short scalars as they are, long text cut,
    NaN and infinities as words; containers are left out (None)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else printable(str(value), 20)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return printable(value, MAX_ECHO)
    return None


def _place(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else printable(str(part), MAX_KEY) for part in loc]


def problem(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic/FastAPI error as the answer states it: type, place, message, excerpt."""
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    if error.get("type") == "json_invalid" and "error" in context:
        message = f"not valid JSON: {context['error']}"
    said: dict[str, Any] = {"type": printable(str(error.get("type", "invalid")), MAX_KEY),
                            "loc": _place(error.get("loc", ())), "msg": printable(message, MAX_MESSAGE)}
    shown = excerpt(error.get("input"))
    if shown is not None:
        said["input"] = shown
    return said


async def validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    """The app's one RequestValidationError handler: 422, small and always encodable."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = [problem(error) for error in errors[:MAX_PROBLEMS]]
    if len(errors) > MAX_PROBLEMS:
        detail.append({"type": "too_many_problems", "loc": [],
                       "msg": f"and {len(errors) - MAX_PROBLEMS} more problems"})
    return JSONResponse({"detail": detail}, status_code=422)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unencodable(value: Any) -> tuple[Loc, str, Any] | None:
    """The first place in parsed JSON that no store can keep, why, and what is there;
    None if all is well.

    Walks without recursion: a deeply nested body must not exhaust the stack."""
    todo: list[tuple[Loc, Any]] = [((), value)]
    while todo:
        loc, item = todo.pop()
        if isinstance(item, str) and not _encodes(item):
            return loc, "holds a lone surrogate (an unpaired \\ud800-\\udfff): send text as UTF-8", item
        if isinstance(item, float) and not math.isfinite(item):
            return loc, "is NaN or infinite: send a finite number", item
        if isinstance(item, dict):
            for key in item:
                if not _encodes(key):
                    return (*loc, key), "is a name with a lone surrogate: send text as UTF-8", key
            todo.extend(((*loc, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend(((*loc, index), child) for index, child in reversed(list(enumerate(item))))
    return None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def refuse_unencodable(request: Request) -> None:
    """A dependency of every route: 422 naming the field for a JSON body holding a lone
    surrogate, NaN or an infinity. Bodies that are not JSON are the route's business."""
    if not _is_json(request.headers.get("content-type", "")):
        return
    try:
        parsed = await request.json()  # already parsed, and cached, for a route that takes a body
    except (ValueError, RecursionError):
        return  # not JSON: FastAPI says so for a route that takes a body; the others ignore it
    found = unencodable(parsed)
    if found is not None:
        loc, why, item = found
        raise RequestValidationError([{"type": "unencodable", "loc": ("body", *loc), "msg": why,
                                       "input": item}])


def _bounded(moment: datetime) -> datetime:
    if not EARLIEST <= moment.year <= LATEST:
        raise ValueError(f"must fall between the years {EARLIEST} and {LATEST}")
    return moment


Moment = Annotated[datetime, AfterValidator(_bounded)]
