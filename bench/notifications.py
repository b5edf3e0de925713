"""What notifications cost: sends per second with them and without, and how fast the notifier empties a queue.

Usage: notifications.py [--participants 50] [--messages 2000] [--recipients 1000] [--quick] [--out FILE]

One `parley serve` on SQLite, the development mailbox (no SMTP: the cost measured is Parley's own). Phase
"sends": messages posted over REST, 8 at a time, into a conversation of `--participants` offline members, first
with every member's `notify` false (the baseline: no outbox rows), then with `notify` true and an email each (one
outbox row gathered per member and message); reported as the ratio of the two rates, measured in the same run.
Phase "drain": `--recipients` one-on-one conversations, one message each, the app's quiet period 0: the time
until every notification is marked sent, as notifications per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import time

import httpx

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.run import BENCH_RATES, ROOT, free_port, parley_env, server_process  # noqa: E402

CONCURRENCY = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a small run: 10 participants, 200 messages, 100 recipients")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.participants, args.messages, args.recipients = 10, 200, 100
    return args


def create_app(env: dict[str, str], delay: int) -> dict:
    run = [sys.executable, "-m", "server"]
    created = json.loads(subprocess.run([*run, "app", "create", "--name", "notify-bench"], env=env, check=True,
                                        capture_output=True, text=True, cwd=ROOT).stdout)
    rates = [f"{key}={value}" for key, value in BENCH_RATES.items()]
    subprocess.run([*run, "app", "set", created["appId"], f"notificationDelay={delay}", "participantLimit=100000", *rates],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    return created


async def post_all(api: httpx.AsyncClient, conversation: str, count: int) -> float:
    """Messages per second, `CONCURRENCY` requests in flight."""
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            body = [{"text": f"message {i}", "sender": "sender", "type": "UserMessage"}]
            (await api.post(f"conversations/{conversation}/messages", json=body)).raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


async def sends(base_url: str, app: dict, participants: int, messages: int) -> dict:
    headers = {"Authorization": f"Bearer {app['secretKey']}"}
    async with httpx.AsyncClient(base_url=f"{base_url}/v1/{app['appId']}/", headers=headers, timeout=60) as api:
        (await api.put("users/sender", json={"name": "Sender"})).raise_for_status()
        members = [f"m{i}" for i in range(participants)]
        for user_id in members:
            (await api.put(f"users/{user_id}", json={"name": user_id, "email": [f"{user_id}@example.com"]})).raise_for_status()
        rates = {}
        for label, notify in (("without", False), ("with", True)):
            conversation = f"group-{label}"
            (await api.put(f"conversations/{conversation}", json={"participants": ["sender"]})).raise_for_status()
            for user_id in members:
                (await api.put(f"conversations/{conversation}/participants/{user_id}", json={"notify": notify})).raise_for_status()
            await post_all(api, conversation, min(100, messages))  # warm up
            rates[label] = await post_all(api, conversation, messages)
    return {"participants": participants, "messages": messages, "withoutPerSecond": round(rates["without"], 1),
            "withPerSecond": round(rates["with"], 1), "ratio": round(rates["with"] / rates["without"], 3)}


async def drain(base_url: str, app: dict, recipients: int, database: pathlib.Path) -> dict:
    headers = {"Authorization": f"Bearer {app['secretKey']}"}
    async with httpx.AsyncClient(base_url=f"{base_url}/v1/{app['appId']}/", headers=headers, timeout=60) as api:
        for i in range(recipients):
            (await api.put(f"users/r{i}", json={"name": f"r{i}", "email": [f"r{i}@example.com"]})).raise_for_status()
            (await api.put(f"conversations/d{i}", json={"participants": ["sender", f"r{i}"]})).raise_for_status()
        started = time.perf_counter()
        for i in range(recipients):
            body = [{"text": "hello", "sender": "sender", "type": "UserMessage"}]
            (await api.post(f"conversations/d{i}/messages", json=body)).raise_for_status()
    while sent(database) < recipients:
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    return {"recipients": recipients, "seconds": round(seconds, 2), "perSecond": round(recipients / seconds, 1)}


def sent(database: pathlib.Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM notification WHERE status = 'sent' AND channel = 'email' AND "
                            "conversation_id IN (SELECT id FROM conversation WHERE conversation_id LIKE 'd%')").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        database = pathlib.Path(workdir) / "bench.db"
        env = parley_env(database)
        port = free_port()
        quiet = create_app(env, delay=900)  # nothing falls due while sends are timed
        draining = create_app(env, delay=0)
        with server_process([sys.executable, "-m", "server", "serve", "--port", str(port)], port, env):
            base_url = f"http://127.0.0.1:{port}"
            report = {"sends": asyncio.run(sends(base_url, quiet, args.participants, args.messages))}
            asyncio.run(_sender(base_url, draining))
            report["drain"] = asyncio.run(drain(base_url, draining, args.recipients, database))
    text = json.dumps(report, indent=2)
    print(text)
    out = args.out or ROOT / "bench" / "results" / f"notifications-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0


async def _sender(base_url: str, app: dict) -> None:
    headers = {"Authorization": f"Bearer {app['secretKey']}"}
    async with httpx.AsyncClient(base_url=f"{base_url}/v1/{app['appId']}/", headers=headers, timeout=60) as api:
        (await api.put("users/sender", json={"name": "Sender"})).raise_for_status()


if __name__ == "__main__":
    sys.exit(main())
