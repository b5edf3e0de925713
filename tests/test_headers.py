"""Security headers by kind of response, and inputs the probe found breaking things (L1, L5)."""

from __future__ import annotations

import re

import httpx
import pytest

from server.web.headers import DASHBOARD_CSP


def test_dashboard_pages_cannot_be_framed_or_cached(server):
    response = httpx.get(f"{server.base_url}/dashboard/login")
    headers = response.headers
    assert headers["content-security-policy"] == DASHBOARD_CSP and "frame-ancestors 'none'" in DASHBOARD_CSP
    assert "script-src 'self';" in DASHBOARD_CSP and "unsafe-inline" not in DASHBOARD_CSP.split("style-src")[0]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


def test_dashboard_templates_have_no_inline_script_or_javascript_urls():
    import pathlib

    for path in pathlib.Path(__file__).resolve().parents[1].joinpath("templates", "dashboard").glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {path.name}"
        assert "javascript:" not in text and not re.search(r"<[^>]*\son[a-z]+\s*=", text), f"inline handler in {path.name}"


def test_chat_frames_always_send_a_csp(server, tenant):
    response = httpx.get(f"{server.base_url}/embed/{tenant['appId']}/chatbox", params={"origin": "https://site.example"})
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors *;" in csp and "script-src 'self';" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_demo_runs_its_inline_snippet_by_nonce(server):
    response = httpx.get(f"{server.base_url}/demo")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])[1]
    assert f'<script nonce="{nonce}">' in response.text
    assert httpx.get(f"{server.base_url}/demo").headers["content-security-policy"] != response.headers["content-security-policy"]


def test_rest_answers_are_not_cached_and_not_sniffed(server, tenant, api):
    response = api.get("conversations")
    assert response.headers["cache-control"] == "no-store" and response.headers["x-content-type-options"] == "nosniff"


def test_the_sdk_script_is_not_sniffed(server):
    assert httpx.get(f"{server.base_url}/talk.js").headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("value", ["9223372036854775808", "-1", "1e20", "99999999999999999999999", "12.5", "0x10"])
def test_out_of_range_numbers_are_400_not_500(api, value):
    api.put("users/u", json={"name": "U"})
    response = api.get("users/u/conversations", params={"lastMessageAfter": value})
    assert response.status_code == 400 and response.json()["errorCode"] == "INVALID_INPUT"


@pytest.mark.parametrize("limit", [1e20, -1e20, 2.5, True, "100000000000000000000000"])
async def test_out_of_range_limits_over_the_socket(server, tenant, api, limit):
    from tests.realtime_client import connect

    api.put("users/u", json={"name": "U"})
    api.put("conversations/c", json={"participants": ["u"]})
    client = await connect(server, tenant["appId"], "u")
    answer = await client.call("conversation:join", {"conversationId": "c", "limit": limit})
    assert answer["error"]["code"] == "INVALID_INPUT"
    await client.close()


def test_paths_that_are_not_utf8_are_refused(server, tenant, api):
    assert api.put("users/%FF", json={"name": "A"}).status_code == 400
    response = httpx.put(f"{server.base_url}/v1/{tenant['appId']}/users/%FE", json={"name": "B"},
                         headers={"Authorization": f"Bearer {tenant['secretKey']}"})
    assert response.status_code == 400 and response.json()["errorCode"] == "INVALID_PATH"
    assert api.put("users/%C3%A9t%C3%A9", json={"name": "Été"}).status_code == 200  # valid UTF-8 is fine
    assert api.get("users/été").json()["name"] == "Été"
