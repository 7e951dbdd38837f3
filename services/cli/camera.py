"""`cradle camera`: try a camera source, and see how the running cameras are doing."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image
from rich.console import Console
from rich.table import Table

from services.camera.sources import SourceError, open_source
from services.camera.status import COUNTERS, CameraStatus
from services.cli.common import settings_or_exit
from services.stack import redis_for_cli

app = typer.Typer(help="Cameras: test a source, show their state.", no_args_is_help=True)
console = Console()


@app.command()
def test(
    url: Annotated[str, typer.Argument(help="rtsp://, http(s):// stream or snapshot, folder, video file.")],
    seconds: Annotated[float, typer.Option(help="How long to read, to measure the frame rate.")] = 3.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait to connect and for each picture.")] = 10.0,
    out: Annotated[Path | None, typer.Option(help="Snapshot file (default: data_dir/camera/).")] = None,
    snapshot: Annotated[bool | None, typer.Option(
        "--snapshot/--stream", help="Force an http(s) URL to be read as a snapshot URL or a stream.",
    )] = None,
) -> None:
    """Open a source, grab frames, print size, frame rate and latency, save a snapshot."""
    settings = settings_or_exit()
    started = time.perf_counter()
    try:
        source = open_source(url, timeout_s=timeout, sample_hz=max(settings.camera.sample_hz, 1.0),
                             snapshot=snapshot)
        opened = time.perf_counter()
        try:
            first = source.read()
            got_first = time.perf_counter()
            count, last = 1, first
            while time.perf_counter() - got_first < seconds:
                last = source.read()
                count += 1
            spent = time.perf_counter() - got_first
            facts = source.describe()
        finally:
            source.close()
    except SourceError as exc:
        console.print(f"[red]✗ {url} does not work:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    height, width = last.rgb.shape[:2]
    target = out or settings.data_dir / "camera" / f"test-{datetime.now():%Y%m%d-%H%M%S}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(last.rgb).save(target, format="JPEG", quality=90)
    console.print(f"[green]✓ {url} works[/] ({source.kind})", highlight=False)
    console.print(f"  size          {width} x {height}")
    console.print(f"  frame rate    {(count - 1) / spent if spent > 0 and count > 1 else 0:.1f} fps read"
                  f" (source says {facts.get('fps') or 'nothing'})")
    console.print(f"  open          {(opened - started) * 1000:.0f} ms")
    console.print(f"  first picture {(got_first - opened) * 1000:.0f} ms after opening")
    console.print(f"  snapshot      {target}", highlight=False)


@app.command()
def status() -> None:
    """Each camera's state and counters, as the running camera process reports them."""
    settings = settings_or_exit()
    with redis_for_cli(settings) as client:
        cameras = CameraStatus(client).all()
    if not cameras:
        console.print("No camera has reported yet (is `cradle up` running?).")
        raise typer.Exit(3)
    table = Table("camera", "child", "room", "state", "since", *COUNTERS, "error")
    for name, fields in cameras.items():
        table.add_row(name, fields.get("child", ""), fields.get("room", ""), fields.get("state", ""),
                      fields.get("since", "")[:19], *(fields.get(c, "0") for c in COUNTERS),
                      fields.get("error", ""))
    console.print(table)
    if any(fields.get("state") == "offline" for fields in cameras.values()):
        raise typer.Exit(1)
