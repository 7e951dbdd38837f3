"""Alerts: rules over the event stream (rules.py, config.py), alert records and mutes
(state.py), the bus handler (engine.py) and escalation (escalation.py)."""
