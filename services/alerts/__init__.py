"""Alerts: rules over the event stream (rules.py), alert records and mutes (state.py),
the bus handler (engine.py) and escalation (escalation.py).

The gateway and the chatbot's actions use the names below; the rest is the engine's own.
(`acknowledge_alert`, because `acknowledge` is the name of its module.)"""

from services.alerts.acknowledge import acknowledge as acknowledge_alert
from services.alerts.rules import Mute
from services.alerts.state import AlertRecord, AlertStore, Mutes, State

__all__ = ["AlertRecord", "AlertStore", "Mute", "Mutes", "State", "acknowledge_alert"]
