"""Browser tests: real headless Chromium (Debian's) driving host pages served from another origin."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import pathlib
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import free_port

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclasses.dataclass
class HostSite:
    """A site owner's web server on its own origin: pages are set per test."""

    base_url: str
    pages: dict[str, str]

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.base_url + path


@contextlib.contextmanager
def host_site() -> Iterator[HostSite]:
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield HostSite(f"http://127.0.0.1:{httpd.server_address[1]}", pages)
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def host() -> Iterator[HostSite]:
    with host_site() as site:
        yield site


@pytest.fixture
def demo_app(server) -> dict:
    if not pathlib.Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return server.create_app("Demo", "demo")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@dataclasses.dataclass
class Visitor:
    """One person in their own browser context, with what their console said."""

    context: BrowserContext
    page: Page
    console: list[str]

    def frame(self, container: str = "#talkjs-container"):
        """The chat frame mounted in `container` (a Popup's: "[data-parley-popup]")."""
        return self.page.frame_locator(f"{container} iframe")

    def messages(self):
        return self.frame().locator(".message__text")


async def visit(browser: Browser, url: str, **context_options) -> Visitor:
    context = await browser.new_context(**context_options)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    await page.goto(url)
    return Visitor(context, page, console)


@pytest.fixture
def api_demo(server, demo_app):
    import httpx

    headers = {"Authorization": f"Bearer {demo_app['secretKey']}"}
    with httpx.Client(base_url=f"{server.base_url}/v1/demo/", headers=headers, timeout=10) as client:
        yield client


async def mounted(visitor: Visitor) -> object:
    """Wait until the page's `window.mounted` promise exists and has settled; returns its value."""
    await visitor.page.wait_for_function("window.mounted !== undefined")
    return await visitor.page.evaluate("window.mounted")
