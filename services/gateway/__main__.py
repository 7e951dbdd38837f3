"""`python -m services.gateway`: the gateway with Cradle's JSON logs."""

from __future__ import annotations

import sys

import uvicorn

from services import logs
from services.gateway.app import create_app
from services.settings import SettingsError, get_settings


def main() -> None:
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    logs.configure(settings.gateway.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # h11, not httptools: h11 caps the request line and headers it buffers (a 1 MB
        # header is refused before it is read whole); the app's Guard caps their number.
        http="h11",
        h11_max_incomplete_event_size=settings.gateway.limits.header_bytes,
    )


if __name__ == "__main__":
    main()
