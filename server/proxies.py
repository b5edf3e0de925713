"""Which address a request comes from, trusting `X-Forwarded-For` only from configured proxies.

A client can write anything into `X-Forwarded-For`, so the header is read only when the peer
itself is a trusted proxy (`PARLEY_TRUSTED_PROXIES`), and then from the right: the first address
that is not a trusted proxy is the client. Every per-address limit (connections, sign-ins, user
creation) keys on this one answer, for HTTP and websockets alike.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16, ::1` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(networks)


class ClientAddress:
    def __init__(self, trusted: Iterable[Network] = ()) -> None:
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def resolve(self, peer: str, forwarded_for: str | None) -> str:
        if not self.trusted or not forwarded_for or not self._is_trusted(peer):
            return peer
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            if not self._is_trusted(hop):
                return hop
        return peer

    def __call__(self, scope: dict[str, Any]) -> str:
        """The client address of an ASGI scope (HTTP or websocket)."""
        peer = (scope.get("client") or ("unknown",))[0]
        forwarded = None
        if self.trusted:
            for key, value in scope.get("headers", ()):
                if key == b"x-forwarded-for":
                    forwarded = value.decode("latin-1") if forwarded is None else forwarded + "," + value.decode("latin-1")
        return self.resolve(peer, forwarded)
