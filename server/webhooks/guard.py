"""Where a webhook may go: https (or http where the app allows it), and never, unless
PARLEY_WEBHOOK_ALLOW_PRIVATE is set, to loopback, private, link-local (cloud metadata), multicast or
reserved addresses. Checked when sending, against the address the request then connects to (the
request goes to that very address, so a name that resolves differently a moment later changes nothing)."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(Exception):
    """The webhook URL may not be called; the message says why (not retried)."""


class Unresolved(OSError):
    """The host name did not resolve now (retried like a refused connection)."""


@dataclasses.dataclass(frozen=True)
class Target:
    url: str  # with the resolved address in place of the host name
    host: str  # for the Host header and TLS (SNI and the certificate check)
    address: str


def check_url(url: str, allow_http: bool) -> None:
    """The URL's form (at configuration time and again when sending)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused(f"a webhook URL is https://host/path, got {url[:200]!r}")
    if parts.scheme == "http" and not allow_http:
        raise Refused("webhook URLs must be https:// (allow http:// for this app in its settings, for development)")
    if parts.username or parts.password:
        raise Refused("a webhook URL carries no user or password")


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _meanings(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """The address, and any IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    found = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        found += [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())) if v4 is not None]
        if ip in NAT64 or int(ip) >> 32 == 0:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


async def resolve(url: str, allow_http: bool, allow_private: bool) -> Target:
    check_url(url, allow_http)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Unresolved(f"cannot resolve {parts.hostname}: {error}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        for address in addresses:
            if not all(ip.is_global and not ip.is_multicast for ip in _meanings(ipaddress.ip_address(address))):
                raise Refused(f"{parts.hostname} resolves to {address}, a private or reserved address "
                              "(set PARLEY_WEBHOOK_ALLOW_PRIVATE=1 to allow it)")
    address = addresses[0]
    shown = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=f"{shown}:{port}").geturl()
    return Target(pinned, parts.hostname, address)
