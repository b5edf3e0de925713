"""The Webhooks tab in Chromium against a real receiver that verifies signatures: settings, test events,
a failed attempt and its retry, redelivery; at desktop and phone sizes."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import expect

from server.config import Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard_notifications import DEVICES, fits, owner_at
from tests.conftest import free_port
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401 (the fixture)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/parley.db", port=free_port(), log_level="warning",
                    webhook_allow_private=True, webhook_retry_seconds=1)


async def arrived(receiver: Receiver, count: int, timeout: float = 15) -> list[dict]:
    """The first `count` verified test events (without blocking the browser's event loop)."""
    deadline = time.monotonic() + timeout
    while len(receiver.of_type("webhook.test")) < count:
        assert time.monotonic() < deadline, f"timed out waiting for {count} test events; got {receiver.requests}"
        await asyncio.sleep(0.05)
    assert all(valid for _, valid, _ in receiver.requests)
    return receiver.of_type("webhook.test")


async def row_until(page, row, check, timeout: float = 15):
    """Reload the log until the row's cells pass `check` (the worker delivers in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        cells = {name: (await row.locator(f".{name}").inner_text()).strip()
                 for name in ("badge", "attempts", "response", "next-attempt", "detail")}
        if check(cells):
            return cells
        assert time.monotonic() < deadline, f"the row stayed {cells}"
        await asyncio.sleep(0.1)
        await page.reload()


@pytest.mark.parametrize("device", list(DEVICES))
async def test_webhook_settings_test_events_retries_and_redelivery(server, demo_app, receiver, browser, device):  # noqa: F811
    receiver.secret_key = demo_app["secretKey"]
    page = (await owner_at(browser, server, device)).page
    await page.get_by_role("link", name="Demo").click()
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_text("No events yet")).to_be_visible()
    await page.get_by_label("Webhook URL").fill(receiver.url)
    for box in await page.locator('input[name="webhookEvents"]').all():
        await box.check()
    await page.get_by_label("Allow plain http:// (development)").check()
    await page.get_by_role("button", name="Save webhook").click()
    await expect(page.get_by_role("status")).to_contain_text("Webhook settings saved")
    await expect(page.get_by_label("Webhook URL")).to_have_value(receiver.url)

    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_contain_text("Test event queued")
    first = (await arrived(receiver, 1))[0]
    assert first["data"] == {"appId": "demo", "message": "A test event from Parley"}
    row = page.locator("tbody tr", has_text=first["id"])
    cells = await row_until(page, row, lambda c: c["badge"] == "delivered")
    assert (cells["attempts"], cells["response"], cells["next-attempt"]) == ("1", "200", "")

    receiver.statuses = [500]
    await page.get_by_role("button", name="Send test event").click()
    newest = page.locator("tbody tr").first
    cells = await row_until(page, newest, lambda c: c["badge"] in ("pending", "delivered") and c["response"] != "—")
    assert (cells["badge"], cells["attempts"], cells["detail"]) == ("pending", "1", "HTTP 500")
    assert cells["next-attempt"].startswith("20")  # a UTC time, about a second away
    second = (await arrived(receiver, 2))[1]
    await expect(newest.locator(".event-id")).to_have_text(second["id"])
    cells = await row_until(page, newest, lambda c: c["badge"] == "delivered")
    assert (cells["attempts"], cells["response"], cells["next-attempt"]) == ("2", "200", "")

    await row.get_by_role("button", name="Redeliver").click()
    await expect(page.get_by_role("status")).to_contain_text("Event queued to be sent again")
    again = (await arrived(receiver, 3))[2]
    assert again == first  # the same event, id and body
    await row_until(page, row, lambda c: c["badge"] == "delivered")
    assert await fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-webhooks-{device}.png"), full_page=True)
