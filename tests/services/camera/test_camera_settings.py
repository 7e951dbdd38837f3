"""Cameras from settings: a list in the environment or the config file, checked at start."""

from __future__ import annotations

import json

import pytest

from services.settings import SettingsError, load_settings


def test_cameras_come_from_the_environment_with_their_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    cameras = [{"name": "cot", "child": "Mia", "room": "nursery", "source": "rtsp://cam.local/1",
                "sample_hz": 2},
               {"name": "play-room", "child": "Leo", "source": "/srv/cams/play", "motion_threshold": 0}]
    monkeypatch.setenv("CRADLE_CAMERA__CAMERAS", json.dumps(cameras))
    camera = load_settings().camera
    assert [(c.name, c.child, c.sample_hz, c.motion_threshold) for c in camera.cameras] == [
        ("cot", "Mia", 2.0, None), ("play-room", "Leo", None, 0.0)]


@pytest.mark.parametrize(("cameras", "complaint"), [
    ([{"name": "cot", "child": "Mia", "source": "a.mp4"}] * 2, "cot appear twice"),
    ([{"name": "../cot", "child": "Mia", "source": "a.mp4"}], "camera.cameras.name"),
    ([{"name": "cot", "child": "Mia", "source": "a.mp4", "fps": 3}], "is not a Cradle setting"),
])
def test_bad_cameras_stop_the_start_with_the_reason(cameras: list[dict[str, object]], complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings(camera={"cameras": cameras})
