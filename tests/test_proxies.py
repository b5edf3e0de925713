"""Which address a request comes from: X-Forwarded-For is believed only from trusted proxies."""

from server.proxies import ClientAddress, parse_networks


def scope(peer: str, *forwarded: str) -> dict:
    return {"client": (peer, 1234), "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded]}


def test_without_trusted_proxies_the_peer_is_the_client():
    assert ClientAddress()(scope("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_a_trusted_proxy_names_the_client_from_the_right():
    resolve = ClientAddress(parse_networks("10.0.0.0/8"))
    assert resolve(scope("10.0.0.2", "198.51.100.1")) == "198.51.100.1"
    # a client cannot choose its address by sending a header of its own: the rightmost untrusted hop wins
    assert resolve(scope("10.0.0.2", "1.2.3.4, 198.51.100.1")) == "198.51.100.1"
    assert resolve(scope("10.0.0.2", "198.51.100.1, 10.0.0.7")) == "198.51.100.1"
    assert resolve(scope("10.0.0.2", "1.2.3.4", "198.51.100.1")) == "198.51.100.1"  # several headers


def test_an_untrusted_peer_is_not_believed():
    assert ClientAddress(parse_networks("10.0.0.0/8"))(scope("203.0.113.5", "1.2.3.4")) == "203.0.113.5"


def test_only_proxies_all_the_way_means_the_peer():
    assert ClientAddress(parse_networks("10.0.0.0/8"))(scope("10.0.0.2", "10.0.0.3")) == "10.0.0.2"


def test_bad_networks_are_named():
    import pytest

    with pytest.raises(ValueError, match="'proxy.example' is not an IP address"):
        parse_networks("10.0.0.1, proxy.example")
