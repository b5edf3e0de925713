"""The probe's tests use the browser fixtures too (real Chromium, a host site on its own origin)."""

from tests.browser.conftest import api_demo, browser, demo_app, host  # noqa: F401 (fixtures, by name)
