"""Each kind of source through the one interface, and `cradle camera test`."""

from __future__ import annotations

import http.server
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from services.camera.sources import AvSource, FolderSource, SnapshotSource, SourceError, open_source
from services.cli.main import app
from services.settings import get_settings
from tests.services.camera.clips import moving_clip


@pytest.fixture
def snapshot_server() -> Iterator[str]:
    """A local camera answering /snapshot.jpg with a 96x64 JPEG, and 500 on anything else."""
    body = io.BytesIO()
    Image.new("RGB", (96, 64), (10, 200, 30)).save(body, format="JPEG")

    class Camera(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/snapshot.jpg"
            self.send_response(200 if ok else 500)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            self.wfile.write(body.getvalue() if ok else b"broken")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_video_file_plays_at_its_own_pace_and_loops(tmp_path: Path) -> None:
    clip = moving_clip(tmp_path / "clip.mp4", seconds=0.5, fps=10)
    source = open_source(str(clip), loop=True)
    assert isinstance(source, AvSource) and source.kind == "file"
    assert source.describe() == {"width": 128, "height": 128, "fps": 10.0, "codec": "h264"}
    started = time.monotonic()
    pictures = [source.read() for _ in range(8)]  # past the end: it starts again
    assert 0.55 <= time.monotonic() - started <= 1.2
    assert pictures[0].rgb.shape == (128, 128, 3)
    source.close()
    with pytest.raises(SourceError, match="ended"):
        once = open_source(str(clip), loop=False)
        for _ in range(10):
            once.read()


def test_a_snapshot_url_is_asked_at_the_sample_rate(snapshot_server: str) -> None:
    source = open_source(f"{snapshot_server}/snapshot.jpg", sample_hz=10)
    assert isinstance(source, SnapshotSource)
    started = time.monotonic()
    pictures = [source.read() for _ in range(4)]
    assert time.monotonic() - started >= 0.29
    assert pictures[-1].rgb.shape == (64, 96, 3)
    broken = open_source(f"{snapshot_server}/other", snapshot=True)
    with pytest.raises(SourceError, match="500"):
        broken.read()


def test_a_folder_gives_its_newest_image_once(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    Image.new("RGB", (32, 32), (255, 0, 0)).save(folder / "a.jpg")
    source = open_source(str(folder), timeout_s=0.5, sample_hz=20)
    assert isinstance(source, FolderSource)
    assert source.read().rgb[0, 0, 0] > 200
    with pytest.raises(SourceError, match="no new image"):
        source.read()  # nothing new: a camera that stopped writing
    time.sleep(0.01)
    Image.new("RGB", (32, 32), (0, 0, 255)).save(folder / "b.png")
    assert source.read().rgb[0, 0, 2] > 200


def test_cradle_camera_test_says_whether_a_source_works(
    tmp_path: Path, snapshot_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()  # the command reads the process's settings once
    clip = moving_clip(tmp_path / "clip.mp4", seconds=1.0, fps=10)
    runner = CliRunner()
    works = runner.invoke(app, ["camera", "test", str(clip), "--seconds", "0.5",
                                "--out", str(tmp_path / "shot.jpg")])
    assert works.exit_code == 0, works.output
    assert "works" in works.output and "128 x 128" in works.output and "10.0" in works.output
    assert Image.open(tmp_path / "shot.jpg").size == (128, 128)
    snap = runner.invoke(app, ["camera", "test", f"{snapshot_server}/snapshot.jpg", "--seconds", "0"])
    assert snap.exit_code == 0, snap.output
    assert list((tmp_path / "data" / "camera").glob("test-*.jpg"))
    refused = runner.invoke(app, ["camera", "test", "rtsp://127.0.0.1:9/cot", "--timeout", "2"])
    assert refused.exit_code == 1 and "does not work" in refused.output
    get_settings.cache_clear()
