"""The action server the Rasa server calls (`python -m chatbot.actions [--port 5055]`).

rasa-sdk's own server (Sanic) with Cradle's actions registered. Each server process
first makes sure the games catalogue is in Redis (when it is missing or older than the
shipped one) and loads the sentence-embedding model, before it answers: so the first
question is as quick as the rest, and /health means ready. That warm-up runs in the
server's worker process, after Sanic has chosen how to start processes (loading
MiniLM in the parent would fix the start method first and stop Sanic from starting).
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

from rasa_sdk.constants import DEFAULT_KEEP_ALIVE_TIMEOUT
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.worker.loader import AppLoader

from chatbot.actions.backend import backend

log = logging.getLogger("chatbot.actions")


def warm_up(*_args: Any) -> None:
    games = backend().games
    imported = games.ensure_catalogue()
    if imported:
        log.info("imported %d games from the catalogue", imported)
    games.search("a calm game", limit=1)  # loads MiniLM and the games now, not on the first question
    log.info("actions ready")


def create_app(executor: ActionExecutor, **options: Any) -> Sanic:
    """rasa-sdk's app, with the warm-up. It lives in a module of its own (not __main__) so
    Sanic's worker process, started with spawn, can import it by name."""
    app = create_app_for_serve(executor, **options)
    app.register_listener(warm_up, "before_server_start")
    return app


def serve(argv: list[str] | None = None) -> None:
    args = create_argument_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    executor = ActionExecutor()
    executor.register_package("chatbot.actions")
    loader = AppLoader(factory=partial(create_app, executor, cors_origins=args.cors, auto_reload=False,
                                       endpoints=args.endpoints, keep_alive_timeout=DEFAULT_KEEP_ALIVE_TIMEOUT))
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "0.0.0.0")  # cradle up: 127.0.0.1; a container: every address
    app.prepare(host=host, port=args.port, workers=1)
    log.info("action server on http://%s:%s", host, args.port)
    Sanic.serve(primary=app, app_loader=loader)

