"""A clock that jumps: cooldowns do not silence a kind after the clock went back, and
escalations neither wait out a backward jump nor run every step at once after a forward one."""

from __future__ import annotations

from datetime import timedelta

import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.escalation import Escalator
from services.alerts.state import ESCALATIONS
from tests.services.alerts.factories import DAY, Clock, hazard
from tests.services.alerts.test_escalation import BUS, RULES, urgent_alert
from tests.services.alerts.test_rules import play


@settings(max_examples=80, deadline=None)
@given(jump=st.integers(-7200, 7200))
def test_a_hazard_after_a_clock_jump_is_an_alert_unless_within_the_cooldown(jump: int) -> None:
    """Two sightings make an alert; two more `jump` seconds later (the clock jumped) make a
    second one unless they fall within the cooldown on either side of the first."""
    first = [hazard(DAY), hazard(DAY + timedelta(seconds=1))]
    later = DAY + timedelta(seconds=1 + jump)
    second = [hazard(later), hazard(later + timedelta(seconds=1))]
    raised = [v for v in play(first + second) if v.disposition == "raised"]
    gap = 1 + jump  # from the first alert's sighting to the second's
    cooldown = RULES.cooldown("hazard").total_seconds()
    assert len(raised) == (1 if -cooldown < gap < cooldown else 2), [v.finding.at for v in raised]


def test_an_escalation_does_not_wait_out_a_clock_that_went_back(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    escalator = Escalator(client, RULES, BUS, clock)
    clock.advance(-300)  # five minutes back: the step due in 120 s now looks 420 s away
    assert escalator.tick() == []
    assert client.zscore(ESCALATIONS, alert_id) == (clock.now + escalator.after).timestamp()
    clock.advance(RULES.escalate_after_s)
    assert escalator.tick() == [alert_id]


def test_after_a_jump_forward_one_step_at_a_time(client: redis.Redis) -> None:
    clock = Clock(DAY)
    alert_id = urgent_alert(client, clock)
    escalator = Escalator(client, RULES, BUS, clock)
    clock.advance(3600)
    assert escalator.tick() == [alert_id]
    assert escalator.tick() == []  # the next step is a full step away, not due at once
    clock.advance(RULES.escalate_after_s)
    assert escalator.tick() == [alert_id]
