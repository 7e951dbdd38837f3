"""The timeline: every event about a child, kept in Redis, and what it means (sleep,
feeds, moods over time, hazards, alerts, captions).

The gateway and the chatbot's actions use the names below; the consumer that fills the
timeline (store.py, `python -m services.timeline`) is the timeline's own."""

from services.timeline.runs import Observation, split_runs
from services.timeline.store import Clock, Timeline
from services.timeline.views import Span

__all__ = ["Clock", "Observation", "Span", "Timeline", "split_runs"]
