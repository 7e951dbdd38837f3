"""What the chatbot's evaluations share: settings that find the trained models and the Rasa
environment `make setup` built."""

from __future__ import annotations

import pytest

from services import rasa_project as project
from services.settings import Settings, load_settings
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def rasa_settings() -> Settings:
    settings = load_settings(environment="test", models={"dir": ROOT / "var" / "models"},
                             rasa={"venv": ROOT / ".venv-rasa"})
    try:
        project.rasa_command(settings)
    except project.ChatbotError as exc:
        pytest.fail(str(exc))
    return settings
