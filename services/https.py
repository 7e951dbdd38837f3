"""HTTPS for the family's phones: Caddy in front of the gateway, with `tls internal`.

A phone only lets a page use the microphone, a service worker and Web Push in a secure
context, and on a home network no public certificate authority will vouch for
`192.168.1.20` or `nursery.local`. Caddy's own local authority does: it makes a root
certificate once (kept under data_dir/caddy), which each phone installs from the app's
sign-in screen (`/ca.crt`), and issues short-lived certificates for every name here.

Cradle writes the Caddyfile from the settings at each start (data_dir/run/Caddyfile);
`phone_url` is the one place that decides the address the phones use.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from services.settings import Settings
from services.settings.https import served_name


def lan_addresses() -> list[str]:
    """This machine's private IPv4 addresses (the home network's), read from its network
    interfaces: nothing is sent anywhere."""
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(address.address)
            if ip.is_private and not (ip.is_loopback or ip.is_link_local):
                found.append(str(ip))
    return sorted(set(found), key=ipaddress.IPv4Address)


def default_names(hostname: str, addresses: list[str]) -> tuple[str, ...]:
    """What the phones may type or be sent, most dependable first: an address works on any
    home network; HOSTNAME.local needs mDNS (avahi) and HOSTNAME the router's DNS."""
    names = [*addresses]
    try:
        host = served_name(hostname.split(".")[0])
        names += [f"{host}.local", host]
    except ValueError:  # a hostname no certificate can name (an underscore, say)
        pass
    names.append("localhost")
    return tuple(dict.fromkeys(names))


def served_names(settings: Settings) -> tuple[str, ...]:
    """The names and addresses Caddy serves: the configured ones, or those found here."""
    return settings.https.names or default_names(socket.gethostname(), lan_addresses())


def site_address(name: str, port: int) -> str:
    host = f"[{name}]" if ":" in name else name  # an IPv6 address
    return f"https://{host}" + ("" if port == 443 else f":{port}")


def quoted(text: str) -> str:
    """One Caddyfile token, spaces and all. Caddy reads `{$NAME}` as an environment
    variable even between quotes, and its escapes are few: a token holding a quote, a
    backslash, a line break or `{$` is refused rather than guessed at."""
    bad = [c for c in ('"', "\\", "\n", "\r", "{$") if c in text]
    if bad:
        raise ValueError(f"Caddy cannot be given {text!r}: it holds {' and '.join(map(repr, bad))}")
    return f'"{text}"'


def caddyfile(names: tuple[str, ...], port: int, upstream: str, storage: Path) -> str:
    """The Caddyfile for Caddy as Cradle's front door.

    `admin off`: no admin endpoint, so two stacks on one machine never collide on :2019.
    No redirects from port 80 (it needs root, and a system Caddy may hold it) and no
    attempt to install the root into this machine's trust store: the phones install it.
    `flush_interval -1` sends each live-feed event (SSE) on at once; Caddy adds
    X-Forwarded-For and X-Forwarded-Proto, which the gateway trusts from 127.0.0.1.
    """
    if not names:
        raise ValueError("Caddy needs at least one name or address to serve")
    sites = ", ".join(site_address(served_name(name), port) for name in names)
    return (
        "# Written by Cradle from its https settings at each start: edits here are lost.\n"
        "{\n"
        "\tadmin off\n"
        "\tauto_https disable_redirects\n"
        "\tskip_install_trust\n"
        "\tstorage file_system {\n"
        f"\t\troot {quoted(str(storage))}\n"
        "\t}\n"
        "}\n"
        "\n"
        f"{sites} {{\n"
        "\ttls internal\n"
        f"\treverse_proxy {quoted(upstream)} {{\n"
        "\t\tflush_interval -1\n"
        "\t}\n"
        "}\n"
    )


def caddy_program(settings: Settings) -> str | None:
    """The caddy executable, or None when it is not installed."""
    return shutil.which(settings.https.caddy)


def unavailable(settings: Settings) -> str | None:
    """Why `cradle up` runs no HTTPS front door, or None when it runs one."""
    if not settings.https.enabled:
        return "HTTPS is off (https.enabled is false)"
    if caddy_program(settings) is None:
        return (f"HTTPS is off: {settings.https.caddy} is not installed (sudo apt-get install caddy); "
                "phones cannot use the microphone or notifications over plain http")
    try:
        quoted(str(settings.https.storage_dir(settings.data_dir)))
    except ValueError as exc:
        return f"HTTPS is off: {exc}; choose another data_dir or https.storage"
    return None


def gateway_address(settings: Settings) -> str:
    host = settings.gateway.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"[{host}]:{settings.gateway.port}" if ":" in host else f"{host}:{settings.gateway.port}"


@dataclass(frozen=True)
class FrontDoor:
    """How to run Caddy for this stack."""

    argv: list[str]
    env: dict[str, str]
    caddyfile: Path


def front_door(settings: Settings, env: dict[str, str]) -> FrontDoor | None:
    """Writes data_dir/run/Caddyfile and returns how to run Caddy on it (its state, even
    its autosaved config, stays under the storage folder), or None when HTTPS is off."""
    program = caddy_program(settings)
    if unavailable(settings) or program is None:
        return None
    storage = settings.https.storage_dir(settings.data_dir)
    storage.mkdir(parents=True, exist_ok=True)
    path = settings.run_dir / "Caddyfile"
    path.parent.mkdir(parents=True, exist_ok=True)
    names, port = served_names(settings), settings.https.port
    path.write_text(caddyfile(names, port, gateway_address(settings), storage))
    caddy_env = {**env, "XDG_DATA_HOME": str(storage), "XDG_CONFIG_HOME": str(storage / "config")}
    return FrontDoor([program, "run", "--config", str(path), "--adapter", "caddyfile"], caddy_env, path)


def https_url(settings: Settings) -> str:
    """The front door's address under its first name."""
    return site_address(served_names(settings)[0], settings.https.port)


def phone_url(settings: Settings) -> str | None:
    """The address the family's phones use: delivery.public_url when set, else the HTTPS
    front door when it runs here; None when neither (only this machine reaches the app)."""
    if settings.delivery.public_url:
        return settings.delivery.public_url.rstrip("/")
    if unavailable(settings) is None:
        return https_url(settings)
    return None
