"""The `https` section: Caddy as the front door, so a phone on the home network gets the
secure context it needs for the microphone, the service worker and Web Push. Every
field has a default, a bound and a description."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

# One DNS label: letters, digits and inner hyphens (RFC 1123), 63 characters at most.
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def served_name(text: str) -> str:
    """`text` as a name Caddy can serve and issue a certificate for: a host name (lower
    case, no trailing dot) or an IP address (IPv6 without brackets). Raises ValueError
    saying what is wrong."""
    name = text.strip().lower().removesuffix(".")
    try:
        return str(ipaddress.ip_address(name.removeprefix("[").removesuffix("]")))
    except ValueError:
        pass
    if not name or len(name) > 253 or not all(LABEL.match(label) for label in name.split(".")):
        raise ValueError(f"{text!r} is neither a host name (letters, digits, '-' and '.') nor an IP address")
    return name


class HttpsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    enabled: bool = Field(
        default=True,
        description="Run Caddy in front of the gateway (cradle up) with certificates from its own "
        "local authority, so phones reach the app over https://.",
    )
    names: tuple[str, ...] = Field(
        default=(), max_length=64,
        description="Names and addresses the phones use, the first in sign-in links. Empty: found "
        "at start without the network: the LAN IPv4 addresses, HOSTNAME.local, HOSTNAME, localhost.",
    )
    port: int = Field(
        default=8443, ge=1, le=65_535,
        description="HTTPS port on every interface. 443 needs root (or CAP_NET_BIND_SERVICE for "
        "caddy), so 8443 by default.",
    )
    storage: Path = Field(
        default=Path("caddy"),
        description="Caddy's data folder, relative to data_dir: its local certificate authority "
        "(pki/authorities/local/root.crt is what the phones install) and certificates.",
    )
    caddy: str = Field(
        default="caddy", min_length=1, max_length=500,
        description="The caddy program: a name on PATH or a path (Debian's package: caddy).",
    )

    @field_validator("names")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(served_name(name) for name in names)
        twice = sorted({name for name in cleaned if cleaned.count(name) > 1})
        if twice:
            raise ValueError(f"names must differ: {', '.join(twice)} appear twice")
        return cleaned

    def storage_dir(self, data_dir: Path) -> Path:
        return (data_dir / self.storage).resolve()

    def root_certificate(self, data_dir: Path) -> Path:
        """The local authority's root certificate (PEM), once Caddy has made it."""
        return self.storage_dir(data_dir) / "pki" / "authorities" / "local" / "root.crt"
