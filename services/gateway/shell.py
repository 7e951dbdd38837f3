"""The family web app's shell: the PWA of plain ES modules in `web/`, served by the gateway.

There is no build step: the browser loads `web/js/*.js` as modules. The service worker
(`/sw.js`, at the root so it controls the whole app) caches the shell under a name made
from the hash of every file in `web/`, so a new release replaces the old shell at once.
API answers are never cached: they are the family's private data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent / "web"

# The app loads only its own files; pictures and spoken replies come in as blobs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self), camera=()",
}
NO_CACHE = {"Cache-Control": "no-cache"}  # always revalidated: a new release shows at once


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A hash of every file of the web app: the service worker's cache name."""
    digest = hashlib.sha256()
    for path in sorted(p for p in WEB.rglob("*") if p.is_file()):
        digest.update(path.relative_to(WEB).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def shell_files() -> tuple[str, ...]:
    """The URLs the service worker caches for offline use."""
    files = sorted(p.relative_to(WEB).as_posix() for p in WEB.rglob("*") if p.is_file())
    served_apart = ("index.html", "sw.js", "manifest.webmanifest")
    return ("/", "/manifest.webmanifest", *(f"/static/{name}" for name in files if name not in served_apart))


@lru_cache(maxsize=1)
def service_worker_source() -> str:
    """sw.js with its cache name and file list filled in (read once per process)."""
    source = (WEB / "sw.js").read_text(encoding="utf-8")
    files = ", ".join(f'"{url}"' for url in shell_files())
    return source.replace('"__VERSION__"', f'"{shell_version()}"').replace('"__FILES__"', files)


def mount(app: FastAPI) -> None:
    """Serve the app at `/`, its files under `/static/` and the service worker at `/sw.js`."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={**SECURITY_HEADERS, **NO_CACHE})

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        return Response(service_worker_source(), media_type="text/javascript",
                        headers={**NO_CACHE, "Service-Worker-Allowed": "/"})

    @app.get("/manifest.webmanifest", include_in_schema=False)
    def manifest() -> FileResponse:
        return FileResponse(WEB / "manifest.webmanifest", media_type="application/manifest+json",
                            headers=NO_CACHE)

    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.middleware("http")
    async def static_headers(request: Request,
                             call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/static/"):
            response.headers.update({**NO_CACHE, "X-Content-Type-Options": "nosniff"})
        return response
