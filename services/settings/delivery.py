"""The `delivery` section: how alerts reach the family (Web Push, apprise URLs, the live
feed), and how hard delivery tries. Every field has a default, a bound and a description."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ChannelName = Literal["webpush", "apprise", "sse"]
# Contact addresses that are no one's: fine for development, refused in a home deployment
# because push services use the subject to reach whoever runs the sender.
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net", "example.invalid", "localhost")


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    channels: tuple[ChannelName, ...] = Field(
        default=("webpush", "apprise", "sse"), min_length=1, max_length=3,
        description="Channels alerts go out on: webpush, apprise, sse.",
    )
    vapid_private_key: Path = Field(
        default=Path("push/vapid-private.pem"),
        description="VAPID private key (PEM), relative to data_dir; 'cradle push keys' makes it.",
    )
    vapid_public_key: Path = Field(
        default=Path("push/vapid-public.txt"),
        description="VAPID public key (the browser's applicationServerKey), relative to data_dir.",
    )
    vapid_subject: str = Field(
        default="mailto:cradle@example.invalid", min_length=8, max_length=200,
        description="Contact for push services: mailto:you@your.domain or an https URL. "
        "The placeholder is refused outside development and test.",
    )
    push_ttl_s: int = Field(
        default=900, ge=0, le=24 * 3600,
        description="How long a push service keeps an alert for a phone that is offline.",
    )
    apprise_urls: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Apprise URLs per user name (ntfy://, tgram://, signal://, mailto://...), "
        "e.g. {\"anna\": [\"ntfys://ntfy.sh/anna-cradle\"]}.",
    )
    attempts: int = Field(
        default=5, ge=1, le=20, description="Tries per alert, user and channel before giving up."
    )
    backoff_s: float = Field(
        default=1.0, gt=0, le=300, description="Wait before the first retry; doubled each time."
    )
    backoff_max_s: float = Field(
        default=60.0, gt=0, le=3600, description="Longest wait between two tries."
    )
    send_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds one send to a push service may take."
    )
    senders: int = Field(
        default=4, ge=1, le=64, description="Sends in flight at once (one slow channel blocks none)."
    )
    poll_s: float = Field(
        default=0.1, gt=0, le=10, description="How often idle senders look for due deliveries."
    )
    sse_keepalive_s: float = Field(
        default=15.0, gt=0, le=300,
        description="Seconds between keep-alive comments on an idle live feed (proxies drop "
        "silent connections).",
    )
    feed_maxlen: int = Field(
        default=10_000, ge=100, le=10_000_000,
        description="Approximate cap on the live feed's length in Redis.",
    )
    public_url: str | None = Field(
        default=None, pattern=r"^https?://", max_length=300,
        description="The gateway's address as the family's phones reach it, for links in "
        "notifications; empty: no links.",
    )

    @field_validator("vapid_subject")
    @classmethod
    def _subject_scheme(cls, subject: str) -> str:
        if not subject.startswith(("mailto:", "https://")):
            raise ValueError("must be mailto:you@your.domain or an https:// URL")
        return subject

    @field_validator("apprise_urls")
    @classmethod
    def _urls(cls, table: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [url for urls in table.values() for url in urls if "://" not in url]
        if bad:
            raise ValueError(f"not apprise URLs (scheme://...): {bad}")
        return {user.lower(): urls for user, urls in table.items()}

    def subject_problem(self, environment: str) -> str | None:
        """Why Web Push must not start with this subject, or None."""
        domain = self.vapid_subject.rsplit("@", 1)[-1].split("/")[-1].split(":")[0]
        if environment == "home" and domain.endswith(PLACEHOLDER_DOMAINS):
            return (f"delivery.vapid_subject is the placeholder {self.vapid_subject!r}: set "
                    "CRADLE_DELIVERY__VAPID_SUBJECT=mailto:you@your.domain to turn on Web Push")
        return None

    def key_files(self, data_dir: Path) -> tuple[Path, Path]:
        """The VAPID private and public key files, resolved under `data_dir`."""
        return (data_dir / self.vapid_private_key).resolve(), (data_dir / self.vapid_public_key).resolve()
