"""The family web app end to end, in Debian's headless Chromium driven by Playwright.

Everything behind the page is real: the gateway on a real port (uvicorn), Redis, the
Rasa server and the action server (the session's `chatbot`), a Celery speech worker
with Whisper tiny.en and the Piper voice. The microphone is Chromium's fake device
playing a WAV file the Piper voice spoke. Screenshots of each screen and the axe
reports go to var/reports/web/ (test artefacts); axe must find no serious or critical
violation on any screen.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from models.mood.synth import draw_face, make_session
from services.alerts.state import AlertRecord, AlertStore
from services.auth import Role, UserStore
from services.bus.events import CaptionObserved, FrameCaptured, MoodObserved, utcnow
from services.delivery.alert_feed import AlertFeed, SseChannel
from services.delivery.channels import payload
from services.labels import LabelStore
from services.settings import Settings
from services.timeline.store import Timeline
from tests.chatbot.stack import Chatbot, stop
from tests.conftest import ROOT, needs, wait_for
from tests.services.gateway.browser import (
    CHILD,
    CHROMIUM,
    PHONE,
    PLAYED,
    ask_by_voice,
    launch,
    push_and_read_notifications,
    running_gateway,
    speech_worker,
    spoken_question,
    whisper_present,
)

REPORTS = ROOT / "var" / "reports" / "web"

pytestmark = needs(CHROMIUM.is_file(), "Debian's chromium is missing: run make setup")


@dataclass
class Stack:
    url: str
    token: str
    user: str
    settings: Settings
    redis: redis.Redis


@pytest.fixture(scope="module")
def stack(chatbot: Chatbot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not whisper_present():
        pytest.fail("Whisper tiny.en is missing: run `make setup`")
    worker = speech_worker(chatbot, tmp_path_factory.mktemp("web"))
    _user, token = UserStore(chatbot.redis).add("Grandma Jo", Role.caregiver)
    try:
        with running_gateway(chatbot.settings) as port:
            yield Stack(f"http://127.0.0.1:{port}", token, "Grandma Jo", chatbot.settings, chatbot.redis)
    finally:
        stop(worker)
        UserStore(chatbot.redis).revoke("Grandma Jo")


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_question(tmp_path_factory.mktemp("voice"))


@pytest.fixture(scope="module")
def browser(question_wav: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield launch(playwright, question_wav)


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A phone-sized page, signed in through the link `cradle users add` prints."""
    context = browser.new_context(viewport=PHONE, has_touch=True, base_url=stack.url,
                                  permissions=["microphone"])
    context.add_init_script(PLAYED)
    tab = context.new_page()
    tab.goto(f"/#token={stack.token}")
    expect(tab.locator("#who")).to_have_text(stack.user)
    yield tab
    context.close()


def shows_a_picture(img: Locator) -> None:
    """The <img> holds a decoded picture (fetched with the token, shown from a blob: URL)."""
    wait_for(lambda: img.evaluate("i => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0"), 15,
             what="the picture")


def capture(page: Page, name: str, *, whole: bool = False) -> None:
    """A screenshot of what the phone shows (or of the whole page) for the test's artefacts."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=REPORTS / f"{name}.png", full_page=whole)


def assert_accessible(page: Page, name: str) -> None:
    """axe-core on the screen as shown: no serious or critical violation."""
    results = Axe().run(page)
    REPORTS.mkdir(parents=True, exist_ok=True)
    violations: list[dict[str, Any]] = results.response["violations"]
    (REPORTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
           for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(bad)


def write_frame(settings: Settings, timeline: Timeline, frame_id: str, at: datetime, mood: str,
                caption: str | None = None, rng: random.Random | None = None, familiar: bool = True) -> Path:
    """A camera frame as the pipeline leaves it: the JPEG, its capture, its mood, a caption."""
    rng = rng or random.Random(frame_id)
    relative = f"nursery/{at:%Y-%m-%d}/{at:%H%M%S}-{frame_id}.jpg"
    path = settings.frames_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_face(mood, 240, make_session("web", at, random.Random(7)), rng).save(path, quality=85)
    probabilities = {m: 0.04 for m in ("feed", "happy", "upset", "sleep")} | {mood: 0.88}
    timeline.add(FrameCaptured(id=f"cap-{frame_id}", occurred_at=at, frame_id=frame_id, camera="nursery",
                               child=CHILD, path=relative, captured_at=at))
    timeline.add(MoodObserved(id=f"mood-{frame_id}", occurred_at=at, frame_id=frame_id, camera="nursery",
                              child=CHILD, mood=mood, probabilities=probabilities, model_version="web-test",
                              familiar=familiar))
    if caption:
        timeline.add(CaptionObserved(id=f"cap-text-{frame_id}", occurred_at=at, frame_id=frame_id,
                                     camera="nursery", child=CHILD, text=caption, score=0.8,
                                     model_version="web-test", familiar=familiar))
    return path


@pytest.fixture(scope="module")
def day(stack: Stack) -> dict[str, str]:
    """An hour and a half of a day: asleep, fed, upset for a while, happy now. Returns the frame
    ids of the upset stretch (the classifier's mistake the labelling test corrects)."""
    timeline, now = Timeline(stack.redis), utcnow()
    plan = ([("sleep", "the baby is sleeping in the cot")] * 30
            + [("feed", "the baby is drinking from a bottle")] * 6
            + [("upset", "the baby is crying")] * 3
            + [("happy", "the baby is playing with a toy")] * 6)
    upset = {}
    for index, (mood, caption) in enumerate(plan):  # a frame every two minutes, as a camera sends
        at = now - timedelta(minutes=2 * (len(plan) - index)) + timedelta(minutes=1)
        frame_id = f"web{index:04d}"
        write_frame(stack.settings, timeline, frame_id, at, mood, caption)
        if mood == "upset":
            upset[frame_id] = at.isoformat()
    return upset


def test_sign_in_is_remembered_and_sign_out_forgets(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport=PHONE, base_url=stack.url)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Cradle")).to_be_visible()
    assert_accessible(page, "signin")
    capture(page, "signin")
    page.get_by_label("Your token").fill("cr_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("doesn't know that token")

    page.get_by_label("Your token").fill(stack.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(stack.user)
    expect(page.get_by_role("heading", name="Ask Cradle")).to_be_visible()
    page.reload()  # remembered on the device
    expect(page.locator("#who")).to_have_text(stack.user)
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Cradle")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("Signed out")
    expect(page.locator("#chat-log li")).to_have_count(0)  # nothing of the last user's stays
    assert page.evaluate("localStorage.getItem('cradle.session')") is None
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to Cradle")).to_be_visible()
    context.close()


def test_a_sign_in_link_keeps_the_token_out_of_the_address_bar(page: Page) -> None:
    assert "token" not in page.url
    assert page.url.endswith("#/chat")


def test_a_typed_question_is_answered_from_the_timeline(page: Page, day: dict[str, str]) -> None:
    expect(page.get_by_role("group", name="Suggestions").get_by_role("button")).to_have_count(5)
    replies = page.locator(".bubble.cradle:not(.thinking)")
    expect(replies).to_have_count(1)  # the welcome
    page.get_by_label("Your message").fill("hello there")
    page.get_by_role("button", name="Send").click()
    expect(replies).to_have_count(2, timeout=30_000)
    assert (replies.last.text_content() or "").startswith("Cradle: Hello")  # a screen reader hears who

    page.get_by_role("button", name="How is she?").click()
    expect(page.locator(".bubble.me").last).to_contain_text("How is she?")
    expect(replies).to_have_count(3, timeout=30_000)
    expect(replies.last).to_contain_text("happy")
    assert_accessible(page, "chat")
    capture(page, "chat")


def test_push_to_talk_shows_the_transcript_and_plays_the_reply(page: Page) -> None:
    spoken = ask_by_voice(page)
    assert spoken.status == 200 and spoken.headers["content-type"] == "audio/ogg"
    wait_for(lambda: page.evaluate("window.__played.some(p => p.duration > 0.5)"), 20,
             what="the spoken reply to play")
    heard = page.locator(".bubble.me").last.inner_text().lower()
    assert "calm" in heard and "game" in heard
    expect(page.locator(".bubble.cradle").last).to_contain_text("try", ignore_case=True)
    capture(page, "chat-voice")


def test_a_live_alert_arrives_with_its_snapshot_and_one_tap_acknowledges_it(
    page: Page, stack: Stack, day: dict[str, str]
) -> None:
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")

    frame_id, at = next(iter(day.items()))
    record = AlertRecord(id=uuid.uuid4().hex, child=CHILD, kind="upset", severity="urgent",
                         reason=f"{CHILD} has been crying for 3 minutes",
                         raised_at=datetime.fromisoformat(at),
                         state="raised", frame_id=frame_id, camera="nursery", recipients=["*"])
    with stack.redis.pipeline(transaction=True) as pipe:  # as the alerts engine writes it
        AlertStore(stack.redis).create(record, pipe)
        pipe.execute()
    SseChannel(AlertFeed(stack.redis)).send(record, stack.user.lower())  # what the dispatcher does

    card = page.locator(f'li[data-id="{record.id}"]')
    expect(card).to_contain_text(f"urgent {CHILD} is upset")
    expect(card).to_contain_text("crying for 3 minutes")
    expect(page.locator("#alert-badge")).to_have_text("1")
    shows_a_picture(card.locator("img"))
    assert_accessible(page, "alerts")
    capture(page, "alerts")

    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text(f"Acknowledged by {stack.user}")
    expect(page.locator("#alert-badge")).to_be_hidden()
    stored = AlertStore(stack.redis).get(record.id)
    assert stored is not None and stored.state == "acknowledged"
    assert (stored.acknowledged_by or "").lower() == stack.user.lower()


def test_a_dropped_connection_is_shown_and_comes_back(page: Page) -> None:
    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("#connection")).to_have_text("Live")
    page.context.set_offline(True)
    expect(page.locator("#connection")).to_contain_text("Offline")
    expect(page.locator("#connection")).to_have_attribute("data-state", "down")
    page.context.set_offline(False)
    expect(page.locator("#connection")).to_have_text("Live", timeout=20_000)


def test_the_shell_opens_offline_from_the_service_workers_cache(page: Page) -> None:
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # installed: the shell is cached
    page.reload()
    page.context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_role("heading", name="Ask Cradle")).to_be_visible()
        expect(page.locator("#who")).to_have_text("Grandma Jo")  # remembered on the device
        expect(page.locator("#connection")).to_have_attribute("data-state", "down")
        capture(page, "offline")
    finally:
        page.context.set_offline(False)
    expect(page.locator("#connection")).to_have_text("Live", timeout=20_000)


def test_a_push_message_shows_a_notification_that_opens_the_alert(page: Page, stack: Stack) -> None:
    """The service worker's push handler, fed a message as the browser's push service would
    (Chromium's DevTools protocol: no push service is reachable from here)."""
    record = AlertRecord(id=uuid.uuid4().hex, child=CHILD, kind="upset", severity="urgent",
                         reason=f"{CHILD} has been crying for 3 minutes", raised_at=utcnow(),
                         state="raised", recipients=["*"])
    shown = push_and_read_notifications(page, stack.url, payload(record))  # what the Web Push channel sends
    assert shown == [{"title": f"URGENT: {CHILD} is upset", "body": record.reason, "tag": record.id,
                      "url": f"/#/alerts/{record.id}", "sticky": True}]


def test_today_shows_the_picture_the_moods_sleep_and_what_happened(page: Page, day: dict[str, str]) -> None:
    page.get_by_role("link", name="Today").click()
    expect(page.locator("#mood-now")).to_contain_text(f"{CHILD} is happy · since")
    expect(page.locator("#snapshot")).to_have_attribute("alt", re.compile(f"^{CHILD} at "))
    shows_a_picture(page.locator("#snapshot"))
    chart = page.get_by_role("img", name="moods over the last 24 hours", exact=False)
    expect(chart).to_have_attribute("aria-label", re.compile(r"happy \d+%.*|asleep \d+%"))
    assert "asleep" in (chart.get_attribute("aria-label") or "")
    for mood in ("sleep", "feed", "upset", "happy"):
        assert page.locator(f"#mood-chart rect.mood-{mood}").count() > 0, mood
    assert page.locator("#sleep-chart rect.mood-sleep").count() >= 1
    assert page.locator("#sleep-chart circle.mood-feed").count() >= 1
    expect(page.locator("#sleep-summary")).to_contain_text("sleep")
    expect(page.locator("#happened")).to_contain_text("the baby is drinking from a bottle")
    assert_accessible(page, "today")
    capture(page, "today", whole=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    capture(page, "today-desktop", whole=True)


def test_games_filter_rate_read_aloud_and_add(page: Page, stack: Stack) -> None:
    page.get_by_role("link", name="Games").click()
    expect(page.locator("#games-count")).to_contain_text("found", timeout=60_000)
    page.get_by_label("Place").select_option("car")
    page.get_by_label("Energy").select_option("calm")
    page.get_by_label("No toys needed").check()
    expect(page.locator("#games-count")).to_contain_text("found")
    cards = page.locator("#game-list > li")
    metas = cards.locator(":scope > p.meta")
    wait_for(lambda: all("car" in m for m in metas.all_inner_texts()), 10, what="only car games")
    assert metas.count() > 0 and all("car" in m and "calm" in m for m in metas.all_inner_texts())
    assert all(t == "No toys needed" for t in cards.locator(":scope > p:nth-of-type(2)").all_inner_texts())
    assert_accessible(page, "games")
    capture(page, "games")

    first = cards.first
    title = first.locator("h2").inner_text()
    first.get_by_role("button", name=f"I like {title}").click()
    expect(page.locator("#game-list").get_by_role("button", name=f"I like {title}")).to_have_attribute(
        "aria-pressed", "true")
    with page.expect_response(lambda r: "/api/voice/replies/" in r.url, timeout=60_000) as spoken:
        page.locator("#game-list > li").first.get_by_role("button", name="Read it aloud").click()
    assert spoken.value.status == 200
    wait_for(lambda: page.evaluate("window.__played.some(p => p.duration > 3)"), 20,
             what="the game to be read aloud")

    page.get_by_text("Add a game of your own").click()
    form = page.locator("#game-form")
    form.get_by_label("Name").fill("Sock puppet hello")  # the catalogue has it: refused, and said why
    form.get_by_label("Car").check()
    form.get_by_label("Steps (one a line, two to five)").fill(
        "Put a sock on your hand.\nSay hello in a funny voice.")
    form.get_by_label("Safety note").fill("Keep the sock on your hand, never in reach of the mouth.")
    form.get_by_role("button", name="Save the game").click()
    refused = "the family already has this game: Sock puppet hello"
    expect(page.locator("#game-form-error")).to_have_text(refused)
    form.get_by_label("Name").fill("Teddy's hat parade")
    form.get_by_label("Steps (one a line, two to five)").fill(
        "Put a paper hat on teddy.\nMarch him along the back of the seat, singing a marching song.")
    form.get_by_label("Safety note").fill("Paper hats only: nothing small enough to swallow.")
    form.get_by_role("button", name="Save the game").click()
    expect(page.locator("#game-list > li").first.locator("h2")).to_have_text("Teddy's hat parade")
    page.get_by_label("Looking for").fill("teddy hat parade")
    expect(page.locator("#game-list > li").first).to_contain_text("Added by Grandma Jo")


def test_a_wrong_mood_is_corrected_by_keyboard_and_kept_for_training(
    page: Page, stack: Stack, day: dict[str, str]
) -> None:
    page.get_by_role("link", name="Teach").click()
    upset_id = sorted(day)[-1]
    tile = page.locator(f'article.frame[data-id="{upset_id}"]')
    expect(tile).to_contain_text("Cradle said upset")
    tile.scroll_into_view_if_needed()  # pictures load as they come near the screen
    shows_a_picture(tile.locator("img"))
    assert_accessible(page, "labels")
    capture(page, "labels")

    tile.focus()
    page.keyboard.press("2")  # happy
    tile = page.locator(f'article.frame[data-id="{upset_id}"]')
    expect(tile).to_contain_text(f"Marked happy by {stack.user}")
    expect(tile.get_by_role("button", name="Happy")).to_have_attribute("aria-pressed", "true")
    kept = list((stack.settings.data_dir / "labels" / "frames").glob(f"*/{upset_id}.jpg"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    label = LabelStore.of(stack.redis, stack.settings).get(upset_id)
    assert label is not None and label.mood == "happy"

    expect(tile).to_be_focused()
    frames = page.locator("article.frame")
    order = frames.evaluate_all("tiles => tiles.map(t => t.dataset.id)")
    page.keyboard.press("ArrowRight")  # newest first: the next tile is the frame before
    after = frames.nth(order.index(upset_id) + 1)
    expect(after).to_be_focused()
    after.get_by_role("button", name="Asleep").tap()
    expect(frames.nth(order.index(upset_id) + 1)).to_contain_text("Marked asleep")

    # Scene tags, several at once, and a label taken back; the panel counts them.
    tile = page.locator(f'article.frame[data-id="{upset_id}"]')
    tile.get_by_role("button", name="On the floor").click()
    tile = page.locator(f'article.frame[data-id="{upset_id}"]')
    expect(tile.get_by_role("button", name="On the floor")).to_have_attribute("aria-pressed", "true")
    tile.get_by_role("button", name="Near the stairs").click()
    tile = page.locator(f'article.frame[data-id="{upset_id}"]')
    expect(tile).to_contain_text("Marked happy, on the floor, near the stairs")
    label = LabelStore.of(stack.redis, stack.settings).get(upset_id)
    assert label is not None and (label.mood, label.tags) == ("happy", ("on_floor", "near_stairs"))
    status = page.locator("#teach-status")
    expect(status).to_contain_text("2 pictures labelled over 1 day")
    expect(status).to_contain_text("Near the stairs 1")
    expect(status).to_contain_text("labels from at least two days")
    expect(status.get_by_role("button", name="Train now")).to_be_visible()
    assert_accessible(page, "labels-tagged")
    tile.get_by_role("button", name="Remove label").click()
    expect(page.locator(f'article.frame[data-id="{upset_id}"]')).to_contain_text("Cradle said upset")
    assert LabelStore.of(stack.redis, stack.settings).get(upset_id) is None
    shutil.rmtree(stack.settings.data_dir / "labels")  # the next run starts clean


def test_today_says_so_when_the_cameras_view_is_new(page: Page, stack: Stack) -> None:
    """Frames the models were not taught (a real camera before any teaching): Today guesses
    no mood and tells no caption; it says the view is new and where to teach it. (Last in
    this file: it leaves the latest frames unfamiliar.)"""
    timeline, now = Timeline(stack.redis), utcnow()
    for index in range(8):
        write_frame(stack.settings, timeline, f"new{index:04d}", now - timedelta(seconds=20 * (8 - index)),
                    "happy", "a baby is crawling by the staircase", familiar=False)
    page.get_by_role("link", name="Today").click()
    expect(page.locator("#mood-now")).to_have_text(
        "I can't tell yet: the camera's view is new to me. Teach me what it shows on the Teach screen.")
    expect(page.locator("#happened")).not_to_contain_text("staircase")
    assert_accessible(page, "today-new-view")
    capture(page, "today-new-view")
