from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from services.settings import Settings, SettingsError, load_settings


def test_defaults_are_valid_and_embedded_redis_is_the_default() -> None:
    settings = load_settings()
    assert settings.redis.url is None
    assert settings.bus.max_deliveries >= 1
    assert settings.celery.visibility_timeout_s > settings.celery.task_time_limit_s


def test_environment_variables_reach_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRADLE_REDIS__URL", "redis://example.invalid:6390/2")
    monkeypatch.setenv("CRADLE_BUS__MAX_DELIVERIES", "7")
    settings = load_settings()
    assert settings.redis.url == "redis://example.invalid:6390/2"
    assert settings.bus.max_deliveries == 7


def test_a_bad_value_names_the_field_its_variable_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRADLE_GATEWAY__PORT", "70000")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "gateway.port" in message
    assert "CRADLE_GATEWAY__PORT" in message
    assert "≤ 65535" in message


def test_a_misspelt_variable_is_refused_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRADLE_REDIS_URL", "redis://localhost:6379/0")
    with pytest.raises(SettingsError, match="Did you mean CRADLE_REDIS__URL"):
        load_settings()


def test_yaml_file_is_read_and_unknown_keys_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cradle.yaml"
    config.write_text("gateway:\n  port: 9001\nalerts:\n  cooldown_s: 60\n")
    monkeypatch.setenv("CRADLE_CONFIG_FILE", str(config))
    settings = load_settings()
    assert (settings.gateway.port, settings.alerts.cooldown_s) == (9001, 60)

    config.write_text("gateway:\n  prot: 9001\n")
    with pytest.raises(SettingsError, match=r"gateway\.prot: is not a Cradle setting\. Did you mean 'port'"):
        load_settings()


def test_limits_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(SettingsError, match="visibility_timeout_s must exceed"):
        load_settings(celery={"task_time_limit_s": 4000, "task_soft_time_limit_s": 100})
    with pytest.raises(SettingsError, match="soft_time_limit_s must be below"):
        load_settings(celery={"task_time_limit_s": 100, "task_soft_time_limit_s": 100})


def test_redis_url_must_be_a_redis_url() -> None:
    with pytest.raises(SettingsError, match=r"redis\.url"):
        load_settings(redis={"url": "http://localhost:6379"})


@given(st.integers(min_value=-10_000, max_value=200_000))
def test_port_bound_is_enforced_for_every_value(port: int) -> None:
    if 1 <= port <= 65_535:
        assert Settings(gateway={"port": port}).gateway.port == port  # type: ignore[arg-type]
    else:
        with pytest.raises(SettingsError, match=r"gateway\.port"):
            load_settings(gateway={"port": port})


def test_the_family_defaults_to_the_demo_child_and_refuses_twins_with_one_id() -> None:
    family = load_settings().family
    assert [(c.id, c.spoken_name, c.pronoun) for c in family.children] == [("Baby", "Baby", "she")]
    named = load_settings(family={"children": [{"id": "cam-mia", "name": "Mia", "pronoun": "she",
                                                "born": "2026-01-15"}, {"id": "leo"}]}).family
    assert named.children[0].spoken_name == "Mia" and str(named.children[0].born) == "2026-01-15"
    assert named.children[1].spoken_name == "leo" and named.children[1].pronoun == "they"
    with pytest.raises(SettingsError, match="appear twice"):
        load_settings(family={"children": [{"id": "mia"}, {"id": "mia"}]})
    with pytest.raises(SettingsError, match="pronoun"):
        load_settings(family={"children": [{"id": "mia", "pronoun": "it"}]})


def test_a_moved_setting_is_refused_with_where_it_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRADLE_ALERTS__TIMEZONE", "Europe/Paris")
    with pytest.raises(SettingsError, match=r"alerts\.timezone \(CRADLE_ALERTS__TIMEZONE\): has moved to "
                       r"family\.timezone\. Set CRADLE_FAMILY__TIMEZONE") as caught:
        load_settings()
    assert str(caught.value).count("CRADLE_ALERTS__TIMEZONE") == 1  # told once, not also as unknown
    monkeypatch.delenv("CRADLE_ALERTS__TIMEZONE")
    config = tmp_path / "cradle.yaml"
    config.write_text("alerts:\n  switch_frames: 4\n")
    monkeypatch.setenv("CRADLE_CONFIG_FILE", str(config))
    with pytest.raises(SettingsError, match=r"alerts\.switch_frames .*has moved to runs\.switch_frames"):
        load_settings()
    monkeypatch.setenv("CRADLE_FAMILY__TIMEZONE", "Europe/Paris")
    config.write_text("runs:\n  switch_frames: 4\n")
    settings = load_settings()
    assert (settings.family.timezone, settings.runs.switch_frames) == ("Europe/Paris", 4)


@examples(deadline=None)  # the first example imports torch, for the device
@given(cores=st.integers(1, 64), processes=st.integers(0, 8), threads=st.integers(0, 8),
       in_flight=st.integers(0, 8), device=st.sampled_from(["cpu", "cuda"]))
def test_the_vision_worker_fills_the_cores_it_is_given(
    cores: int, processes: int, threads: int, in_flight: int, device: str
) -> None:
    """Left open, a CPU machine gets a vision process per core, one thread each, and the
    camera a batch in flight for each; a GPU gets one process on every core. A value
    set wins."""
    settings = load_settings(celery={"vision_concurrency": processes},
                             models={"device": device, "vision_threads": threads},
                             camera={"max_batches_in_flight": in_flight})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("services.settings.cpu_cores", lambda: cores)
        expected = processes or (cores if device == "cpu" else 1)
        assert settings.vision_processes == expected
        assert settings.vision_threads == (threads or max(1, cores // expected))
        assert settings.vision_batches_in_flight == (in_flight or expected)


def test_cradle_up_puts_questions_first_and_the_camera_after_speech(tmp_path: Path) -> None:
    """CPU priority as `cradle up` starts each part: the gateway and the chatbot at the
    top, speech below them, vision below speech, training last; vision as many processes
    as the settings resolve."""
    from services.stack import Stack

    settings = load_settings(environment="test", data_dir=tmp_path, models={"device": "cpu"},
                             celery={"vision_concurrency": 3})
    parts = {part.name: part.argv for part in Stack(settings, chatbot_model=tmp_path / "rasa.tar.gz").plan()}

    def niceness(name: str) -> int:
        argv = parts[name]
        return int(argv[2]) if argv[0] == "nice" else 0

    assert niceness("gateway") == niceness("actions") == niceness("rasa") == 0
    assert 0 < niceness("worker-speech") < niceness("worker-vision") < niceness("worker-training")
    vision = parts["worker-vision"]
    assert vision[vision.index("--concurrency") + 1] == "3"
