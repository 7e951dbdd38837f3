"""The action server the Rasa server calls (`python -m chatbot.actions [--port 5055]`).

rasa-sdk's own app (Sanic) with Cradle's actions registered, served in one process.
Before it listens it makes sure the games catalogue is in Redis (when missing or older
than the shipped one) and loads the sentence-embedding model, so the first question is
as quick as the rest and /health means ready. One process rather than Sanic's worker
manager: the manager gives a worker 30 s to come up, which that warm-up can exceed on a
busy two-core machine, and the actions already run off the event loop in threads.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from rasa_sdk.constants import DEFAULT_KEEP_ALIVE_TIMEOUT
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from chatbot.actions.household import household

log = logging.getLogger("chatbot.actions")


def warm_up(*_args: Any) -> None:
    # One thread for MiniLM: a query is a dozen tokens, which a second thread does not make
    # quicker on this two-core box (18 ms either way), while it takes the core Rasa and the
    # vision worker need (p95 24 ms against 19 ms with the camera running).
    torch.set_num_threads(1)
    games = household().games
    imported = games.ensure_catalogue()
    if imported:
        log.info("imported %d games from the catalogue", imported)
    games.search("a calm game", limit=1)  # loads MiniLM and the games now, not on the first question
    log.info("actions ready")


def create_app(argv: list[str] | None = None) -> tuple[Sanic, str, int]:
    """rasa-sdk's app with Cradle's actions and the warm-up; its host and port."""
    args = create_argument_parser().parse_args(argv)
    executor = ActionExecutor()
    executor.register_package("chatbot.actions")
    app = create_app_for_serve(executor, cors_origins=args.cors, auto_reload=False,
                               endpoints=args.endpoints, keep_alive_timeout=DEFAULT_KEEP_ALIVE_TIMEOUT)
    app.register_listener(warm_up, "before_server_start")
    host = household().settings.rasa.actions_host
    return app, host, int(args.port)


def serve(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app, host, port = create_app(argv)
    app.prepare(host=host, port=port, single_process=True, motd=False)
    log.info("action server on http://%s:%s", host, port)
    Sanic.serve_single(primary=app)
