"""The latest 50 messages of a 1,000,000-message conversation, timed as the server reads them.

Usage: history.py DATABASE_FILE COUNT. Builds the conversation with bulk inserts, then times
`server.chat.messages.latest_messages` (the query and serialization REST and Socket.IO use).
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from server.chat import ids  # noqa: E402
from server.chat.messages import latest_messages  # noqa: E402
from server.db.database import Database  # noqa: E402
from server.db.models import App, Conversation, Message, Participant, User  # noqa: E402

BATCH = 10_000


def build(count: int) -> Conversation:
    now = ids.now_ms()
    app = App.create(app_id="history", name="history", secret_key="sk", created_at=now)
    users = [User.create(app=app, user_id=f"u{i}", name=f"User {i}", created_at=now) for i in range(3)]
    conversation = Conversation.create(app=app, conversation_id="big", created_at=now)
    for user in users:
        Participant.create(conversation=conversation, user=user, joined_at=now, last_activity_at=now)
    fields = [Message.message_id, Message.conversation, Message.sender, Message.type, Message.text,
              Message.custom, Message.origin, Message.created_at]
    for start in range(0, count, BATCH):
        rows = [(f"msg_h{i}", conversation.id, users[i % 3].id, "UserMessage", f"message number {i}", "{}", "rest",
                 now + i) for i in range(start, min(count, start + BATCH))]
        Message.insert_many(rows, fields=fields).execute()
    return conversation


def main() -> None:
    path, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    database = Database(f"sqlite:///{path}", readers=1)
    database.start()
    try:
        conversation = database.write_blocking(build, count)
        database.write_blocking(lambda: database.peewee.execute_sql("ANALYZE"))
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            page = database.read_blocking(latest_messages, conversation, 50)
            timings.append((time.perf_counter() - started) * 1000)
        assert len(page) == 50 and page[0]["text"] == f"message number {count - 1}"
        timings.sort()
        print(json.dumps({"messages": count, "runs": len(timings), "p50Ms": statistics.median(timings),
                          "p99Ms": timings[int(len(timings) * 0.99) - 1]}))
    finally:
        database.close()


if __name__ == "__main__":
    main()
