"""Cradle's custom Rasa actions, served by rasa-sdk in the main environment:

    python -m rasa_sdk --actions chatbot.actions

rasa-sdk's executor imports every module of this package and registers every concrete
`rasa_sdk.Action` subclass it then knows, so a new action needs only its class in one of
these modules (and its name in chatbot/domain.yml). Base classes must be abstract
(`abc.ABC` with an abstract method) or the executor registers them too. Nothing here
runs at import time: `household()` connects on the first action.

About a child (child.py):
    action_mood_now       how the child is now, and since when
    action_day_summary    moods, sleeps, feeds, alerts and a caption or two over a period
    action_sleep          asleep or awake and since when; a period's sleep ("last night"),
                          asleep or not at a moment ("at 3 am")
    action_wake_time      when the last sleep ended (and, after a nap, when the day began)
    action_naps           today's (or a period's) naps, each and in total
    action_last_feed      when the last feed was and how long it lasted; a period's feeds
    action_correct_mood   a caregiver's correction: the frames go to the labelled data

Follow-ups (followup.py): action_follow_up, "and yesterday?", "what about Leo?": the last
question again, with the period or child the follow-up names.

Teaching (teach.py):
    action_correct_scene     what the camera shows: the latest frames get scene tags
    action_model_knowledge   how well Cradle knows the nursery, and what it still needs

Alerts (alerts.py): action_alerts, action_acknowledge_alert, action_mute_alerts,
action_unmute_alerts.

Games (games.py): action_game_search, action_game_next (also "something quieter", "for
the car": the last search with what was said changed), action_game_rate, action_game_read.
A game the family tells (game_telling.py): validate_game_form (game_form's answers),
action_game_read_back, action_game_save (yes), action_game_discard (no).

Shared: base.py (`CradleAction`: the answer runs off the event loop, failures become a
short sentence), household.py (the family and its timeline, alerts, games and labels behind one object),
phrases.py (spoken times, spans and pronouns), periods.py ("last night", "since lunch", "at 3 am"),
parsing.py (the games' and mutes' word parsing).
"""
