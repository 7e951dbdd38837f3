"""The delivery settings section and `cradle push keys`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from py_vapid import Vapid
from typer.testing import CliRunner

from services.cli.main import app
from services.delivery.webpush import application_server_key
from services.settings import SettingsError, get_settings, load_settings
from services.settings.delivery import DeliverySettings


def test_the_placeholder_subject_is_refused_only_at_home() -> None:
    placeholder = DeliverySettings()
    assert "CRADLE_DELIVERY__VAPID_SUBJECT" in (placeholder.subject_problem("home") or "")
    assert placeholder.subject_problem("development") is None
    assert DeliverySettings(vapid_subject="mailto:anna@family.home").subject_problem("home") is None


def test_bad_delivery_settings_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRADLE_DELIVERY__VAPID_SUBJECT", "anna@family.home")
    monkeypatch.setenv("CRADLE_DELIVERY__APPRISE_URLS", json.dumps({"Anna": ["not a url"]}))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "delivery.vapid_subject (CRADLE_DELIVERY__VAPID_SUBJECT)" in message
    assert "delivery.apprise_urls" in message


def test_apprise_urls_come_from_the_environment_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRADLE_DELIVERY__APPRISE_URLS", json.dumps({"Anna": ["ntfys://ntfy.sh/anna"]}))
    assert load_settings().delivery.apprise_urls == {"anna": ["ntfys://ntfy.sh/anna"]}


def test_push_keys_makes_a_private_key_only_its_owner_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRADLE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        made = runner.invoke(app, ["push", "keys"])
        kept = runner.invoke(app, ["push", "keys"])
        replaced = runner.invoke(app, ["push", "keys", "--force"])
    finally:
        get_settings.cache_clear()
    assert made.exit_code == kept.exit_code == replaced.exit_code == 0, made.output
    private, public = tmp_path / "push" / "vapid-private.pem", tmp_path / "push" / "vapid-public.txt"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = public.read_text().strip()
    assert application_server_key(Vapid.from_file(str(private))) == key
    assert key in "".join(replaced.output.split())  # printed, however the console wraps it
    assert "exist" in kept.output and "subscribe again" in " ".join(replaced.output.split())
