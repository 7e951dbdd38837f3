from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.bus.events import (
    EVENT_TYPES,
    AlertRaised,
    MalformedEvent,
    MoodObserved,
    parse_event,
)


def mood(**overrides: object) -> MoodObserved:
    fields: dict[str, object] = dict(
        frame_id="f1", camera="cot", child="Mia", mood="sleep",
        probabilities={"sleep": 0.9, "happy": 0.1}, model_version="mood-1",
    )
    fields.update(overrides)
    return MoodObserved(**fields)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    event = mood()
    assert parse_event(event.to_fields()) == event


@given(
    st.builds(
        AlertRaised,
        alert_id=st.text(min_size=1, max_size=20),
        child=st.text(max_size=20),
        kind=st.sampled_from(["upset", "hazard", "woke"]),
        severity=st.sampled_from(["info", "warning", "urgent"]),
        reason=st.text(max_size=200),
        frame_id=st.none() | st.text(max_size=20),
        occurred_at=st.datetimes(timezones=st.just(UTC)),
    )
)
def test_any_valid_alert_round_trips(event: AlertRaised) -> None:
    assert parse_event(event.to_fields()) == event


@given(st.text(max_size=200))
def test_arbitrary_text_is_malformed_never_a_crash(body: str) -> None:
    with pytest.raises(MalformedEvent):
        parse_event({"event": body})


@given(st.dictionaries(st.text(max_size=10), st.none() | st.integers() | st.text(max_size=10), max_size=6))
def test_arbitrary_objects_are_malformed(body: dict[str, object]) -> None:
    with pytest.raises(MalformedEvent):
        parse_event({"event": json.dumps(body)})


def test_wrong_schema_version_is_refused_by_name() -> None:
    body = json.loads(mood().model_dump_json())
    body["schema_version"] = 2
    with pytest.raises(MalformedEvent, match="schema version 2"):
        parse_event({"event": json.dumps(body)})


def test_missing_field_is_named() -> None:
    body = json.loads(mood().model_dump_json())
    del body["frame_id"]
    with pytest.raises(MalformedEvent, match="frame_id"):
        parse_event({"event": json.dumps(body)})


def test_a_mood_stored_before_events_carried_the_frame_path_still_reads() -> None:
    carried = mood(path="cot/2026-11-20/140000.000-f1.jpg")
    assert parse_event(carried.to_fields()) == carried
    old = mood()
    body = json.loads(old.model_dump_json())
    del body["path"]
    assert parse_event({"event": json.dumps(body)}) == old and old.path is None


def test_every_event_type_is_registered_once() -> None:
    assert all(cls.model_fields["type"].default == name for name, cls in EVENT_TYPES.items())
    assert mood().occurred_at <= datetime.now(UTC)


def test_an_entry_read_as_written_is_refused_for_its_version_too() -> None:
    body = json.loads(mood().model_dump_json())
    body["schema_version"] = 2
    with pytest.raises(MalformedEvent, match="schema version 2"):
        parse_event({"type": "mood.observed", "event": json.dumps(body)})


def test_the_body_says_what_an_event_is_whatever_the_type_field_says() -> None:
    event = mood()
    assert parse_event({"type": "caption.observed", "event": event.model_dump_json()}) == event
