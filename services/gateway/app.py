"""The HTTP gateway: `uvicorn --factory services.gateway.app:create_app`.

The app factory builds nothing that talks to the network; the lifespan opens the Redis
pool, the Celery sender and the HTTP client and starts the upload prober's helper, and
closes them on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from services.auth import UserStore
from services.gateway.deps import current_user
from services.gateway.limits import Guard, upload_limit
from services.gateway.observability import Metrics, install
from services.gateway.probe import Prober
from services.gateway.routes import (
    alerts,
    certificate,
    chat,
    family,
    frames,
    games,
    health,
    labels,
    me,
    metrics,
    push,
    teach,
    timeline,
    voice,
)
from services.gateway.shell import mount as mount_web_app
from services.gateway.state import GatewayState
from services.gateway.validation import refuse_unencodable, validation_failed
from services.redis_runtime import connect
from services.settings import Settings, get_settings
from services.tasks import create_celery


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.redis.url:
        raise RuntimeError("the gateway needs CRADLE_REDIS__URL; start it with 'cradle up'")
    redis_url = settings.redis.url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(redis_url, settings)
        celery = create_celery(settings, redis_url, include=False)
        prober = Prober()
        prober.warm()
        async with httpx.AsyncClient() as http:
            app.state.cradle = GatewayState(settings=settings, redis=client, celery=celery,
                                            users=UserStore(client), http=http, prober=prober)
            try:
                yield
            finally:
                prober.close()
                celery.close()
                client.close()

    limits = settings.gateway.limits
    app = FastAPI(
        title="Cradle",
        summary="A private, self-hosted family assistant for the nursery.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=limits.body_bytes,  # a router's own limit (own_limit) replaces it
        dependencies=[Depends(refuse_unencodable)],
        exception_handlers={RequestValidationError: validation_failed},
    )
    app.add_middleware(Guard, limits=limits)  # added before observe, so its refusals are logged
    app.state.metrics = Metrics()
    install(app, app.state.metrics)
    own_limit = {id(chat.router): limits.chat_bytes, id(games.router): limits.game_bytes,  # by id:
                 id(labels.router): limits.label_bytes, id(push.router): limits.push_bytes,  # routers
                 id(voice.router): upload_limit(settings.speech)}  # do not hash
    for router in (health.router, me.router, metrics.router, chat.router, voice.router, alerts.router,
                   timeline.router, frames.router, push.router, games.router, labels.router,
                   teach.router, family.router):
        app.include_router(router, max_body_size=own_limit.get(id(router)))
    app.include_router(certificate.router)  # public: the phones fetch it before signing in
    _add_docs(app, public=settings.gateway.public_docs)
    mount_web_app(app)
    return app


def _add_docs(app: FastAPI, *, public: bool) -> None:
    """OpenAPI and Swagger UI; behind a token unless public_docs (development) is set."""
    guard = [] if public else [Depends(current_user)]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Cradle API")
