"""The family's app over HTTPS, as a phone on the home network sees it.

A real Caddy runs the Caddyfile Cradle writes (services/https.py) in front of the real
gateway, with its local authority's data in a temporary folder. Its root certificate is
put in a fresh NSS database that Chromium reads, so Chromium trusts it as a phone that
installed it from the sign-in screen does: no certificate error is ignored. The browser
reaches a name that is not localhost (cradle.home.arpa, mapped to 127.0.0.1), in a
phone-sized window, and the things only a secure context may do must work: the
microphone (push-to-talk with Chromium's fake one), the service worker and a push
notification.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from services import https
from services.alerts.state import AlertRecord
from services.auth import Role, UserStore
from services.bus.events import utcnow
from services.delivery.channels import payload
from services.redis_runtime import free_port
from services.settings import Settings
from services.settings.https import HttpsSettings
from tests.chatbot.stack import Chatbot, stop
from tests.conftest import needs, wait_for
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

NAME = "cradle.home.arpa"  # a name for the home network (RFC 8375) that is not localhost
USER = "Grandpa Ken"

pytestmark = [
    needs(CHROMIUM.is_file(), "Debian's chromium is missing: run make setup"),
    needs(shutil.which("caddy") is not None, "Debian's caddy is missing: run make setup"),
]


@dataclass
class Front:
    url: str  # https://cradle.home.arpa:PORT
    port: int
    token: str
    root: Path  # the local authority's root certificate
    settings: Settings
    redis: redis.Redis


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def front(chatbot: Chatbot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """Caddy on a free port in front of the gateway on another, as `cradle up` runs them."""
    if not whisper_present():
        pytest.fail("Whisper tiny.en is missing: run `make setup`")
    logs = tmp_path_factory.mktemp("https")
    port = free_port()
    settings = chatbot.settings.model_copy(update={  # the speech worker's data_dir: voice uploads go there
        "gateway": chatbot.settings.gateway.model_copy(update={"port": free_port()}),
        "https": HttpsSettings(names=(NAME, "localhost"), port=port),
    })
    door = https.front_door(settings, dict(os.environ))
    assert door is not None, https.unavailable(settings)
    worker = speech_worker(chatbot, logs)
    _user, token = UserStore(chatbot.redis).add(USER, Role.caregiver)
    root = settings.https.root_certificate(settings.data_dir)
    caddy = subprocess.Popen(door.argv, env=door.env, stdout=(logs / "caddy.log").open("ab"),
                             stderr=subprocess.STDOUT)
    try:
        with running_gateway(settings, port=settings.gateway.port):
            wait_for(lambda: (root.is_file() and _listening(port)) or caddy.poll() is not None, 30,
                     what="Caddy and its root certificate")
            assert caddy.poll() is None, (logs / "caddy.log").read_text()[-3000:]
            yield Front(f"https://{NAME}:{port}", port, token, root, settings, chatbot.redis)
    finally:
        stop(caddy)
        stop(worker)
        UserStore(chatbot.redis).revoke(USER)


@pytest.fixture(scope="module")
def browser(front: Front, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium that trusts Cradle's root as an installed certificate: a fresh NSS database
    in its own HOME, and NAME resolved to this machine."""
    home = tmp_path_factory.mktemp("phone")
    nssdb = f"sql:{home}/.pki/nssdb"
    (home / ".pki" / "nssdb").mkdir(parents=True)
    subprocess.run(["certutil", "-d", nssdb, "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", nssdb, "-A", "-t", "C,,", "-n", "cradle", "-i", str(front.root)],
                   check=True)
    wav = spoken_question(tmp_path_factory.mktemp("voice"))
    with sync_playwright() as playwright:
        yield launch(playwright, wav, f"--host-resolver-rules=MAP {NAME} 127.0.0.1",
                     env={**os.environ, "HOME": str(home)})


@pytest.fixture
def page(browser: Browser, front: Front) -> Iterator[Page]:
    """A phone-sized page on the https address, signed in through the link `cradle users add`
    prints for it."""
    context = browser.new_context(viewport=PHONE, has_touch=True, base_url=front.url,
                                  permissions=["microphone"])
    context.add_init_script(PLAYED)
    tab = context.new_page()
    link = https.phone_url(front.settings)
    assert link == front.url  # the sign-in link and QR code name the front door
    tab.goto(f"{link}/#token={front.token}")
    expect(tab.locator("#who")).to_have_text(USER)
    yield tab
    context.close()


def _trusting(root: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(root))


def test_the_certificate_to_install_is_caddys_root(front: Front) -> None:
    answer = httpx.get(f"https://localhost:{front.port}/ca.crt", verify=_trusting(front.root))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-x509-ca-cert"
    assert answer.content == front.root.read_bytes()
    assert answer.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert "cradle-root.crt" in answer.headers["content-disposition"]


def test_before_caddy_made_one_the_certificate_is_a_clear_404(gateway: TestClient) -> None:
    answer = gateway.get("/ca.crt")  # no token: a phone fetches it before it can sign in
    assert answer.status_code == 404
    assert "no certificate yet" in answer.json()["detail"]


def test_the_gateway_sees_the_phones_address_through_caddy(
    front: Front, caplog: pytest.LogCaptureFixture
) -> None:
    """Caddy passes the caller's address on (X-Forwarded-For) and the gateway, which trusts
    it from 127.0.0.1 only, logs that address, not Caddy's."""
    phone = httpx.HTTPTransport(local_address="127.0.0.2", verify=_trusting(front.root))
    with caplog.at_level(logging.WARNING, logger="cradle.auth"), httpx.Client(transport=phone) as client:
        answer = client.get(f"https://localhost:{front.port}/api/me")
    assert answer.status_code == 401
    refused = [getattr(r, "client", None) for r in caplog.records
               if r.name == "cradle.auth" and r.getMessage() == "unauthorised request"]
    assert refused == ["127.0.0.2"]


def test_the_app_is_a_secure_context_with_its_service_worker(page: Page, front: Front) -> None:
    assert page.url.startswith(f"https://{NAME}:{front.port}/")
    assert page.evaluate("window.isSecureContext") is True
    assert page.evaluate("'PushManager' in window && !!navigator.mediaDevices") is True
    # claimed; polled from Python, since wait_for_function evaluates a string the page's CSP refuses
    wait_for(lambda: page.evaluate("navigator.serviceWorker.controller !== null"), 60, what="a controller")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{front.url}/sw.js"


def test_push_to_talk_over_https_records_the_question_and_answers(page: Page) -> None:
    spoken = ask_by_voice(page)
    assert spoken.status == 200
    heard = page.locator(".bubble.me").last.inner_text().lower()
    assert "calm" in heard and "game" in heard
    expect(page.locator(".bubble.cradle").last).to_contain_text("try", ignore_case=True)


def test_a_push_message_over_https_shows_a_notification(page: Page, front: Front) -> None:
    record = AlertRecord(id=uuid.uuid4().hex, child=CHILD, kind="hazard", severity="urgent",
                         reason=f"{CHILD} is near the stairs", raised_at=utcnow(), state="raised",
                         recipients=["*"])
    shown = push_and_read_notifications(page, front.url, payload(record))
    assert shown == [{"title": f"URGENT: {CHILD} may be in danger", "body": record.reason, "tag": record.id,
                      "url": f"/#/alerts/{record.id}", "sticky": True}]


def test_the_sign_in_screen_says_how_to_install_the_certificate(browser: Browser, front: Front) -> None:
    context = browser.new_context(viewport=PHONE, base_url=front.url)
    page = context.new_page()
    page.goto("/")
    help_ = page.locator("#certificate")
    help_.get_by_text("Install Cradle's certificate on this phone").click()
    download_link = help_.get_by_role("link", name="Download Cradle's certificate")
    expect(download_link).to_have_attribute("href", "/ca.crt")
    expect(help_).to_contain_text("Encryption & credentials")
    expect(help_).to_contain_text("Certificate Trust Settings")
    with page.expect_download() as download:
        download_link.click()
    assert Path(download.value.path()).read_bytes() == front.root.read_bytes()
    assert download.value.suggested_filename == "cradle-root.crt"
    context.close()
