"""The Notifications tab and the development mailbox in Chromium, at desktop and phone sizes."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server.chat import admin
from tests.browser.conftest import ARTIFACTS, visit
from tests.notifications.conftest import settled

PASSWORD = "correct horse battery"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
MESSAGES = ["Hi Sam, is the bike still for sale?", "I could pick it up <b>today</b> after 5.", "Let me know!"]


@pytest.fixture
def order(server, demo_app, api_demo):
    """Bea wrote three messages in "Order #42" while Sam was away (sent: to the development mailbox), and
    Quinn's only address is not one (failed)."""
    server.update_app("demo", notificationDelay=1, notificationLink="https://shop.example.com/chat/{conversationId}")
    people = {"bea": {"name": "Bea Buyer", "email": ["bea@example.com"]},
              "sam": {"name": "Sam Seller", "email": ["sam@example.com"]},
              "quinn": {"name": "Quinn", "email": ["not an address"]}}
    for user_id, user in people.items():
        assert api_demo.put(f"users/{user_id}", json=user).status_code == 200
    assert api_demo.put("conversations/order-42", json={"subject": "Order #42", "participants": list(people)}).status_code == 200
    messages = [{"text": text, "sender": "bea", "type": "UserMessage"} for text in MESSAGES]
    assert api_demo.post("conversations/order-42/messages", json=messages).status_code == 200
    rows = {row["userId"]: row for row in settled(server, "demo", 2)}
    assert (rows["sam"]["status"], rows["sam"]["messages"], rows["quinn"]["status"]) == ("sent", 3, "failed")
    return rows


async def owner_at(browser, server, device):
    await admin.set_password(server.app.chat, PASSWORD)
    owner = await visit(browser, f"{server.base_url}/dashboard", **DEVICES[device])
    await owner.page.get_by_label("Admin password").fill(PASSWORD)
    await owner.page.get_by_role("button", name="Sign in").click()
    await expect(owner.page.get_by_role("heading", name="Apps")).to_be_visible()
    return owner


async def fits(page) -> bool:
    """No horizontal scrolling of the page itself (a wide table scrolls inside its own box)."""
    return await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("device", list(DEVICES))
async def test_the_notifications_tab_and_one_email_as_sent(server, order, browser, device):
    owner = await owner_at(browser, server, device)
    page = owner.page
    await page.get_by_role("link", name="Demo").click()
    await page.get_by_role("link", name="Notifications").click()
    await expect(page.get_by_text("Email is kept in the development mailbox")).to_be_visible()
    sam = page.locator("tbody tr", has_text="sam@example.com")
    await expect(sam.locator(".badge")).to_have_text("sent")
    await expect(sam.get_by_role("link", name="order-42")).to_be_visible()
    quinn = page.locator("tbody tr", has=page.locator("code", has_text="quinn"))
    await expect(quinn.locator(".badge")).to_have_text("failed")
    await expect(quinn).to_contain_text("not a valid email address")
    assert await fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-notifications-{device}.png"), full_page=True)

    await sam.get_by_role("link", name="View").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("3 new messages in Order #42 (Demo)")
    email = page.frame_locator("iframe.email-frame")
    for text in MESSAGES:
        await expect(email.get_by_text(text)).to_be_visible()  # the <b> as written, not bold: escaped
    button = email.get_by_role("link", name="Open the conversation")
    await expect(button).to_have_attribute("href", "https://shop.example.com/chat/order-42")
    await expect(button).to_have_css("background-color", "rgb(47, 91, 234)")  # the email's inline styles apply
    await expect(page.locator("pre.email-text")).to_contain_text("Let me know!")
    assert await fits(page)
    assert not [line for line in owner.console if "Content Security Policy" in line], owner.console
    await page.screenshot(path=str(ARTIFACTS / f"notification-email-{device}.png"), full_page=True)
    await owner.context.close()
