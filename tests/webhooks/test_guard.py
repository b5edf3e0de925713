"""The webhook address guard: what counts as private, including IPv6 forms that carry an IPv4 address."""

from __future__ import annotations

import pytest

from server.webhooks import guard


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "::1", "fd00::1",
                                     "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1", "224.0.0.1"])
async def test_private_reserved_and_embedded_addresses_are_refused(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(guard.Refused, match="private or reserved"):
        await guard.resolve(f"https://{host}/hook", allow_http=False, allow_private=False)


async def test_a_public_address_is_pinned_and_keeps_its_host_name_for_tls():
    target = await guard.resolve("https://93.184.215.14:8443/hook?x=1", allow_http=False, allow_private=False)
    assert target.url == "https://93.184.215.14:8443/hook?x=1" and target.address == "93.184.215.14"


async def test_a_name_that_does_not_resolve_now_is_retried_not_refused(monkeypatch):
    import asyncio
    import socket

    async def resolver_down(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver_down)  # no DNS query leaves the machine
    with pytest.raises(guard.Unresolved) as unresolved:
        await guard.resolve("https://backend.example.com/hook", allow_http=False, allow_private=False)
    assert isinstance(unresolved.value, OSError) and not isinstance(unresolved.value, guard.Refused)


def test_plain_http_and_credentials_need_more():
    with pytest.raises(guard.Refused, match="must be https"):
        guard.check_url("http://example.com/hook", allow_http=False)
    with pytest.raises(guard.Refused, match="no user or password"):
        guard.check_url("https://user:pw@example.com/hook", allow_http=False)
