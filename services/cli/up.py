"""`cradle up` starts the stack on this machine; `cradle status` says how it is."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from celery import Celery
from rich.console import Console
from rich.table import Table

from services import https
from services import rasa_project as project
from services.bus import liveness
from services.cli.common import settings_or_exit
from services.redis_runtime import RedisUnavailable, connect, reachable
from services.settings import Settings
from services.stack import Stack, pid_alive, read_state
from services.tasks import QUEUES, create_celery

console = Console()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return False
    return True


def _gateway_up(url: str) -> bool:
    return _answers(url + "/health")


def _workers_answering(celery: Celery, timeout: float = 1.0) -> set[str]:
    """The queues whose workers answer a ping."""
    try:
        replies = celery.control.ping(timeout=timeout)
    except Exception:
        return set()
    return {name.split("@")[0] for reply in replies for name in reply}


def _chatbot_urls(settings: Settings) -> dict[str, str]:
    """What must answer for the chatbot to be up: the Rasa server and the action server."""
    if not settings.rasa.enabled:
        return {}
    actions = settings.rasa.actions_url.removesuffix("/webhook")
    return {"rasa": settings.rasa.url.rstrip("/") + "/", "actions": actions + "/health"}


def _wait_until_ready(stack: Stack, stopping: threading.Event) -> bool:
    settings = stack.settings
    url = f"http://{settings.gateway.host}:{settings.gateway.port}"
    deadline = time.monotonic() + max(120.0, settings.rasa.start_timeout_s if settings.rasa.enabled else 0)
    gateway, queues, chatbot = False, set[str](), set[str]()
    celery = create_celery(settings, stack.redis_url, include=False)
    with console.status("starting workers and gateway") as status, contextlib.closing(celery):
        while time.monotonic() < deadline and not stopping.is_set():
            gateway = gateway or _gateway_up(url)
            queues = _workers_answering(celery)
            chatbot |= {name for name, check in _chatbot_urls(settings).items()
                        if name not in chatbot and _answers(check)}
            missing = [q for q in QUEUES if q not in queues] + ([] if gateway else ["gateway"])
            missing += [name for name in _chatbot_urls(settings) if name not in chatbot]
            if not missing:
                return True
            status.update(f"waiting for {', '.join(missing)}")
            for line in stack.supervise_once():
                console.print(f"[yellow]{line}[/]")
            time.sleep(0.5)
    return False


def up() -> None:
    """Start Redis (configured or embedded), the Celery workers and the gateway; Ctrl-C stops."""
    settings = settings_or_exit()
    running = read_state(settings)
    if running:
        console.print(f"[yellow]Cradle is already running (supervisor pid {running['pid']}).[/]")
        raise typer.Exit(1)
    stopping = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack = Stack(settings)
    try:
        stack.start_redis()
    except RedisUnavailable as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    where = "embedded, data in " + str(settings.data_dir / "redis") if stack.embedded else "configured"
    console.print(f"Redis: {stack.redis_url} ({where})")
    if settings.rasa.enabled:
        stack.chatbot_model = _chatbot_model(stack)
    stack.start()
    try:
        if _wait_until_ready(stack, stopping):
            _print_table(settings, read_state(settings) or {})
            console.print(f"[bold green]Cradle is up.[/] Logs: {settings.log_dir}. Ctrl-C stops it.")
            console.print(f"The family's app: http://{settings.gateway.host}:{settings.gateway.port}/ "
                          "(sign in with a link from 'cradle users add NAME').")
            _say_https(settings)
        elif not stopping.is_set():
            console.print(f"[red]Not everything started; see the logs in {settings.log_dir}.[/]")
        while not stopping.is_set():
            for line in stack.supervise_once():
                console.print(f"[yellow]{line}[/]")
            stopping.wait(1.0)
    finally:
        with console.status("stopping Cradle"):
            stack.stop()
        console.print("Cradle stopped.")


def _say_https(settings: Settings) -> None:
    """Where the phones open the app, or why they cannot over https."""
    off = https.unavailable(settings)
    if off:
        console.print(f"[yellow]{off}.[/]")
        return
    others = https.served_names(settings)[1:]
    also = f" (or {', '.join(others)})" if others else ""
    console.print(f"On the phones: {https.https_url(settings)}/{also}; install Cradle's certificate "
                  "from the sign-in screen, once per phone.")


def _chatbot_model(stack: Stack) -> Path:
    """The Rasa model for the current chatbot data, trained first when the data changed."""
    try:
        with console.status("training the chatbot (its data changed since the last model)"):
            model, trained = project.train(stack.settings)
    except project.ChatbotError as exc:
        console.print(f"[red]{exc}[/]")
        stack.stop()
        raise typer.Exit(1) from exc
    console.print(f"Chatbot model: {model}" + (" (trained now)" if trained else ""))
    return model


def _print_table(settings: Settings, state: dict[str, Any]) -> bool:
    """Print each part's state; returns whether everything is up."""
    table = Table("part", "state", "pid", "detail")
    ok = True
    redis_url = state.get("redis_url", "")
    redis_ok = bool(redis_url) and reachable(redis_url)
    table.add_row(
        "redis", _mark(redis_ok), "-",
        redis_url + (" (embedded)" if state.get("redis_embedded") else ""),
    )
    ok &= redis_ok
    answering: set[str] = set()
    beating: set[str] = set()  # bus consumer groups with a live consumer
    if redis_ok:
        with contextlib.closing(create_celery(settings, redis_url, include=False)) as celery:
            answering = _workers_answering(celery)
        with contextlib.closing(connect(redis_url, settings)) as client:
            beating = set(liveness.groups(client, settings.bus))
            beating -= set(liveness.groups_without_live_consumer(client, settings.bus))
    for name, part in state.get("parts", {}).items():
        alive = pid_alive(int(part.get("pid") or 0))
        detail = part["log"]
        if name.startswith("worker-"):
            answers = name.removeprefix("worker-") in answering
            alive = alive and answers
            detail = ("answers ping; " if answers else "no ping reply; ") + detail
        elif name in ("timeline", "alerts", "delivery"):
            beats = name in beating
            alive = alive and beats
            detail = ("consumer beats; " if beats else "no consumer heartbeat; ") + detail
        elif name == "gateway":
            up = alive and _gateway_up(state["gateway_url"])
            alive = up
            detail = state["gateway_url"] + "; " + detail
        elif name == "caddy":
            listening = alive and _listening(settings.https.port)
            alive = listening
            detail = f"https port {settings.https.port}; " + detail
        elif name in _chatbot_urls(settings):
            check = _chatbot_urls(settings)[name]
            alive = alive and _answers(check)
            detail = check + "; " + detail
        if part.get("restarts"):
            detail += f"; restarted {part['restarts']} times"
        ok &= alive
        table.add_row(name, _mark(alive), str(part.get("pid")), detail)
    if redis_ok:
        client = connect(redis_url, settings)
        backlog = {queue: client.llen(queue) for queue in QUEUES}
        client.close()
        table.caption = "queued tasks: " + ", ".join(f"{q} {n}" for q, n in backlog.items())
    console.print(table)
    return ok


def _mark(ok: bool) -> str:
    return "[green]up[/]" if ok else "[red]down[/]"


def status() -> None:
    """Show whether each part of the running stack is up; exit 1 when something is down."""
    settings = settings_or_exit()
    state = read_state(settings)
    if not state:
        console.print("Cradle is not running here ('cradle up' starts it).")
        raise typer.Exit(3)
    if not _print_table(settings, state):
        raise typer.Exit(1)
