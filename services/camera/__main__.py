"""`python -m services.camera`: every configured camera, or the demo camera, until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from services import logs
from services.camera.demo import demo_camera
from services.camera.ingest import Ingest
from services.redis_runtime import connect
from services.settings import SettingsError, get_settings
from services.tasks import create_celery

log = logging.getLogger("services.camera")


def main() -> None:
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    if not settings.redis.url:
        sys.exit("camera ingest needs CRADLE_REDIS__URL; start it with 'cradle up'")
    logs.configure(settings.gateway.log_level)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    cameras = list(settings.camera.cameras)
    if not cameras and settings.camera.demo:
        log.info("no camera configured: playing the demo camera (set camera.cameras to use yours)")
        cameras = [demo_camera(settings.data_dir)]
    if not cameras:
        log.warning("no camera configured and camera.demo is off: nothing to watch")
        stop.wait()
        return
    client = connect(settings.redis.url, settings)
    celery = create_celery(settings, include=False)
    ingest = Ingest(settings, client, celery, cameras).start()
    try:
        ingest.run(stop)
    finally:
        ingest.stop()
        log.info("camera ingest stopped: %s, %s", ingest.stats, ingest.dispatcher.stats)
        celery.close()


if __name__ == "__main__":
    main()
