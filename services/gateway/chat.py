"""The chatbot behind a small client: Rasa's REST channel, one sender per Cradle user."""

from __future__ import annotations

import httpx

from services.settings.sections import RasaSettings


class ChatUnavailable(RuntimeError):
    """Rasa did not answer; the message says why."""


async def reply(http: httpx.AsyncClient, rasa: RasaSettings, sender: str, text: str) -> str | None:
    """Rasa's answer to `text` from `sender`, as one speakable string; None when the
    chatbot is not part of this stack."""
    if not rasa.enabled:
        return None
    try:
        response = await http.post(
            rasa.url.rstrip("/") + "/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=rasa.timeout_s,
        )
        response.raise_for_status()
        messages = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ChatUnavailable(f"the chatbot did not answer: {type(exc).__name__}: {exc}") from exc
    return " ".join(m["text"] for m in messages if isinstance(m, dict) and m.get("text")) or None
