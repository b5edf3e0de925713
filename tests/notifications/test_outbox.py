"""The outbox's state machine on a real database: claims are tokens, a lapsed claim cannot overwrite
its successor's outcome, a never-quiet conversation holds a notification only so long, and attempts
that never finished end as failed, and (PostgreSQL) a claim waits for a send that is committing."""

from __future__ import annotations

import pytest

from server.chat import ids, missed, notify_rules, outbox
from server.chat.messages import send_batch
from server.chat.validation import parse_message_batch
from server.db.database import Database
from server.db.models import App, Conversation, Notification, Participant, User


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/outbox.db")
    database.start()
    yield database
    database.close()


def _world(delay: int = 0):
    now = ids.now_ms()
    app = App.create(app_id="shop", name="Shop", secret_key="sk", created_at=now, notification_delay=delay)
    conversation = Conversation.create(app=app, conversation_id="order", created_at=now)
    for user_id in ("buyer", "seller"):
        user = User.create(app=app, user_id=user_id, name=user_id, email=f'["{user_id}@example.com"]', created_at=now)
        Participant.create(conversation=conversation, user=user, joined_at=now, last_activity_at=now)
    return app


def _send(app, text: str) -> None:
    batch = parse_message_batch([{"text": text, "sender": "buyer", "type": "UserMessage"}])
    send_batch(app, "order", batch, "rest", audience=notify_rules.Audience(channels=("email",)))


def _lapse(notification_id: int) -> None:
    Notification.update(due_at=ids.now_ms() - 1).where(Notification.id == notification_id).execute()


def test_a_lapsed_claim_cannot_overwrite_the_outcome_of_the_one_that_took_over(db):
    def run():
        app = _world()
        _send(app, "hello")
        [first] = outbox.claim_due()
        _lapse(first[0])  # the first delivery hangs past its claim
        [second] = outbox.claim_due()
        assert second == (first[0], first[1] + 1)
        assert outbox.finish(second, "sent", "sent to seller@example.com") is True
        assert outbox.finish(first, "failed", "late") is False  # the hung one comes back: nothing changes
        assert outbox.retry(first, "late", 1) == "taken over"
        row = Notification.get_by_id(first[0])
        return row.status, row.detail

    assert db.write_blocking(run) == ("sent", "sent to seller@example.com")


def test_claims_that_never_finish_end_as_failed(db):
    def run():
        app = _world()
        _send(app, "hello")
        for _ in range(outbox.MAX_ATTEMPTS):
            [claim] = outbox.claim_due()
            _lapse(claim[0])
        assert outbox.claim_due() == []
        return Notification.get_by_id(claim[0])

    row = db.write_blocking(run)
    assert row.status == "failed" and "never finished" in row.detail


def test_a_conversation_that_is_never_quiet_holds_a_notification_only_so_long(db):
    def run():
        app = _world(delay=60)
        _send(app, "hello")
        row = Notification.get()
        _lapse(row.id)
        assert outbox.claim_due() == []  # the conversation just had a message: put off by its quiet period
        hold_ends = row.created_at + 60_000 + 1000 * notify_rules.MAX_HOLD_SECONDS
        # messages kept coming for 20 minutes: the quiet period would end later still, the hold does not
        Conversation.update(last_message_at=row.created_at + 20 * 60_000).execute()
        Notification.update(due_at=ids.now_ms() - 1).execute()
        outbox.claim_due()
        return hold_ends, Notification.get_by_id(row.id).due_at

    hold_ends, due_at = db.write_blocking(run)
    assert due_at == hold_ends


def test_a_message_sent_while_one_is_being_delivered_goes_in_the_next_and_only_there(db):
    def run():
        app = _world()
        _send(app, "one")
        [first] = outbox.claim_due()
        _send(app, "two")  # while the first is being sent: a new notification starts
        first_says = missed.load(first[0])
        outbox.release([first])  # e.g. a shutdown: both are due again now
        claims = outbox.claim_due()
        return first_says, [missed.load(c[0]) for c in claims]

    first_says, again = db.write_blocking(run)
    assert [m.text for m in first_says.messages] == ["one"]
    assert sorted([m.text for m in said.messages] for said in again) == [["one"], ["two"]]  # nothing twice


def test_on_postgresql_a_claim_waits_for_a_committing_send_and_covers_its_message(postgres_url):
    """A send that is committing when a notification is claimed: the claim waits for the conversation's
    lock, then covers the message (else the send, having seen the notification pending, started none
    and the message would be told of by no one)."""
    import threading

    import psycopg

    database = Database(postgres_url)
    database.start()
    try:
        def setup():
            app = _world()
            _send(app, "one")
            Notification.update(due_at=ids.now_ms() - 1).execute()
            return Conversation.get().id

        conversation_pk = database.write_blocking(setup)
        with psycopg.connect(postgres_url) as send:  # a send into the conversation, mid-transaction
            send.execute("SELECT id FROM conversation WHERE id = %s FOR UPDATE", (conversation_pk,))
            seq = send.execute(
                "INSERT INTO message (message_id, conversation_id, sender_id, type, text, custom, origin, created_at) "
                "SELECT 'msg_two', %s, id, 'UserMessage', 'two', '{}', 'rest', %s FROM \"user\" WHERE user_id = 'buyer' "
                "RETURNING seq", (conversation_pk, ids.now_ms())).fetchone()[0]
            claims: list = []
            claiming = threading.Thread(target=lambda: claims.extend(database.write_blocking(outbox.claim_due)))
            claiming.start()
            claiming.join(1.0)
            assert claiming.is_alive(), "the claim must wait for the send's lock on the conversation"
            send.commit()
            claiming.join(10)
        [claim] = claims
        says = database.read_blocking(missed.load, claim[0])
        assert [m.text for m in says.messages] == ["one", "two"]
        assert database.read_blocking(lambda: Notification.get_by_id(claim[0]).last_seq) == seq
    finally:
        database.close()
