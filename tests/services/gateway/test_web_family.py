"""The Family screen in Debian's headless Chromium (Playwright), over the real gateway and
Redis: a parent sees the children and the caregivers, adds, edits and removes a child; a
caregiver sees the same and no way to change it. axe finds nothing serious on the screen.
(No chatbot is needed, so this does not ride on test_web_app.py's heavy stack.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Browser, Page, expect, sync_playwright

from services.auth import Role, UserStore
from services.family import FamilyStore
from services.settings import Settings
from tests.conftest import needs
from tests.services.gateway.browser import CHROMIUM, PHONE, running_gateway
from tests.services.gateway.test_web_app import assert_accessible, capture

pytestmark = needs(CHROMIUM.is_file(), "Debian's chromium is missing: run make setup")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=str(CHROMIUM))


@pytest.fixture
def base_url(settings: Settings, client: redis.Redis) -> Iterator[str]:
    with running_gateway(settings) as port:
        yield f"http://127.0.0.1:{port}"


def signed_in(browser: Browser, base_url: str, client: redis.Redis, name: str, role: Role) -> Page:
    _user, token = UserStore(client).add(name, role)
    page = browser.new_context(viewport=PHONE, base_url=base_url).new_page()
    page.goto(f"/#token={token}")
    expect(page.locator("#who")).to_have_text(name)
    page.goto("/#/family")
    expect(page.locator("#family-title")).to_be_visible()
    return page


def test_a_parent_names_the_children_and_a_caregiver_only_looks(
        browser: Browser, base_url: str, client: redis.Redis, settings: Settings) -> None:
    page = signed_in(browser, base_url, client, "Anna", Role.parent)
    children = page.locator("#family-children > li")
    expect(children).to_have_count(1)
    expect(children.first).to_contain_text("Baby")
    expect(children.first).to_contain_text("Watched by demo")
    expect(page.locator("#family-caregivers")).to_contain_text("Anna · parent")

    screen = page.locator("#view-family")
    screen.get_by_text("Add a child").click()
    screen.get_by_label("Name", exact=True).fill("Zoë")
    screen.get_by_label("Date of birth").fill("2025-03-14")
    screen.get_by_label("Cradle speaks of them as").select_option("she")
    screen.get_by_label("Nicknames").fill("Zozo, Bug")
    screen.get_by_label("demo").check()
    screen.get_by_role("button", name="Add the child").click()
    expect(children).to_have_count(2)
    zoe = children.nth(1)
    expect(zoe).to_contain_text("Zoë")
    expect(zoe).to_contain_text("Also called Zozo, Bug")
    expect(zoe).to_contain_text(re.compile(r"Born (14 March|March 14,) 2025 \(\d+ months\)"))
    expect(zoe).to_contain_text("Watched by demo")
    expect(children.first).to_contain_text("No camera watches this child")  # the camera moved to Zoë
    family = FamilyStore(client, settings)
    assert family.get("zozo").born is not None and family.camera_children() == {"demo": "zoe"}
    assert_accessible(page, "family")
    capture(page, "family", whole=True)

    screen.get_by_role("button", name="Edit Zoë").click()
    screen.get_by_label("Name", exact=True).fill("Baby")  # another child's name: refused, said on the form
    screen.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#child-form-error")).to_contain_text("already called baby")
    screen.get_by_label("Name", exact=True).fill("Zoé Anne")
    screen.get_by_role("button", name="Save the changes").click()
    expect(zoe).to_contain_text("Zoé Anne")
    assert family.get("zoe").name == "Zoé Anne"

    page.once("dialog", lambda dialog: dialog.accept())
    screen.get_by_role("button", name="Remove Zoé Anne").click()
    expect(children).to_have_count(1)
    assert [c.name for c in family.children()] == ["Baby"]

    nana = signed_in(browser, base_url, client, "Nana", Role.caregiver)
    expect(nana.locator("#family-children > li")).to_have_count(1)
    expect(nana.locator("#family-caregivers")).to_contain_text("Nana · caregiver")
    expect(nana.locator("#child-add")).to_be_hidden()
    expect(nana.get_by_role("button", name="Remove Baby")).to_have_count(0)
    assert_accessible(nana, "family-caregiver")
