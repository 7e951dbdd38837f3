"""`POST /api/chat`: a typed question to the assistant, its reply in words fit for speech."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.chat import ChatUnavailable, reply
from services.gateway.deps import CurrentUser, State

router = APIRouter(prefix="/api", tags=["chat"])
log = logging.getLogger("cradle.chat")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="What the user said or typed.")

    @field_validator("text")
    @classmethod
    def _words(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("say something: the message is blank")
        return text.strip()


class ChatOut(BaseModel):
    reply: str = Field(description="The assistant's answer, short and plain enough to be spoken.")
    timings_ms: dict[str, float]


@router.post("/chat", response_model=ChatOut, summary="Ask the assistant in words")
async def chat(body: ChatIn, user: CurrentUser, state: State) -> ChatOut:
    if not state.settings.rasa.enabled:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the chatbot is not part of this stack (rasa.enabled is false)")
    started = time.perf_counter()
    try:
        answer = await reply(state.http, state.settings.rasa, user.name, body.text)
    except ChatUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    took = round((time.perf_counter() - started) * 1000, 1)
    log.info("chat reply", extra={"timings_ms": {"chatbot": took}})
    return ChatOut(reply=answer or "", timings_ms={"chatbot": took})
