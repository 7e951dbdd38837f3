from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.caption.data import DataError, load_captions, split_images
from models.scenes import synthesize


def test_coco_json(tmp_path: Path) -> None:
    (tmp_path / "captions.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "annotations": [{"image_id": 1, "caption": "A baby."}, {"image_id": 2, "caption": "A cot."},
                        {"image_id": 1, "caption": "An infant."}]}))
    samples = {s.path.name: s for s in load_captions(tmp_path / "captions.json")}
    assert samples["a.jpg"].captions == ("A baby.", "An infant.")
    assert samples["b.jpg"].path == tmp_path / "b.jpg"


def test_flickr_captions_txt_and_token_file(tmp_path: Path) -> None:
    (tmp_path / "Images").mkdir()
    (tmp_path / "captions.txt").write_text(
        "image,caption\n1.jpg,A child in a pink dress , climbing stairs .\n1.jpg,A girl going up.\n")
    (tmp_path / "Flickr8k.token.txt").write_text("1.jpg#0\tA child climbing.\n1.jpg#1\tA girl.\n")
    for name in ("captions.txt", "Flickr8k.token.txt"):
        [sample] = load_captions(tmp_path / name)
        assert sample.path == tmp_path / "Images" / "1.jpg"
        assert len(sample.captions) == 2
    assert "pink dress , climbing" in load_captions(tmp_path / "captions.txt")[0].captions[0]


def test_csv_needs_image_and_caption_columns(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("path,text\na.jpg,hello\n")
    with pytest.raises(DataError, match="image"):
        load_captions(tmp_path / "bad.csv")


def test_split_never_puts_a_session_on_two_sides(tmp_path: Path) -> None:
    samples = load_captions(synthesize(tmp_path, images=70, sessions=10, size=64, seed=2))
    split = split_images(samples, 0.2, 0.2, by="session", seed=0)
    sessions = [{s.session for s in part} for part in (split.train, split.val, split.test)]
    assert not (sessions[0] & sessions[1]) and not (sessions[0] & sessions[2])
    assert not (sessions[1] & sessions[2])
    assert sum(len(p) for p in (split.train, split.val, split.test)) == len(samples)
    by_image = split_images(samples, 0.2, 0.2, by="image", seed=0)
    assert not {s.path for s in by_image.train} & {s.path for s in by_image.test}


def test_split_refuses_too_few_groups(tmp_path: Path) -> None:
    samples = load_captions(synthesize(tmp_path, images=14, sessions=2, size=64))
    with pytest.raises(DataError, match="too few"):
        split_images(samples, 0.3, 0.3)
