"""docs/notifications.md states the numbers the code uses."""

from __future__ import annotations

import pathlib

from server.chat import notify_rules, outbox, replies
from server.notify import inbound, worker

DOC = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()


def test_the_documented_figures_are_the_implemented_ones():
    assert notify_rules.MAX_DELAY_SECONDS == 900 and "0 to 900" in DOC
    assert f"at most the {notify_rules.KEEP} newest messages" in DOC
    assert f"{outbox.MAX_ATTEMPTS} attempts in all" in DOC
    assert f"after {outbox.CLAIM_MS // 60_000} minutes" in DOC
    assert f"older than {replies.REPLY_DAYS} days" in DOC
    assert inbound.MAX_BYTES == 1_000_000 and "over 1 MB" in DOC
    assert notify_rules.MAX_HOLD_SECONDS == 15 * 60 and "at most 15 minutes past that" in DOC
    assert worker.DELIVERY_SECONDS == 90 and "bounded to 90" in DOC and worker.STOP_WAIT_SECONDS == 25 and "(25 seconds" in DOC
    assert "lists each app's 50 latest" in DOC
