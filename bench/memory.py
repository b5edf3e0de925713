"""Where an idle guest connection's memory goes: a tracemalloc breakdown, by source line.

    python bench/memory.py [guests]

Runs Parley in this process (uvicorn on a thread, a temporary SQLite database), connects
`guests` (default 2,000) minimal Engine.IO/Socket.IO clients from a child process, each joined
to one room as a guest, and prints the allocations that grew, per connection. Python objects
only: the kernel's socket buffers and the allocator's slack are not in it (`make bench` measures
RSS). Only 127.0.0.1 is used; the clients stop by themselves.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.chat import apps  # noqa: E402
from server.config import Settings  # noqa: E402
from server.serving import tune_gc, uvicorn_config  # noqa: E402
from tests.conftest import free_port  # noqa: E402

CLIENT = textwrap.dedent('''
    import asyncio, json, sys
    import websockets
    url, app_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    async def guest(i, ready):
        async with websockets.connect(url, compression=None, max_queue=4) as ws:
            await ws.recv()
            await ws.send("40" + json.dumps({"appId": app_id, "me": {"id": f"g{i}", "name": f"G {i}"}}))
            await ws.recv()
            await ws.send("421" + json.dumps(["conversation:join", {"conversationId": "room", "asGuest": True}]))
            while True:
                text = await ws.recv()
                if text.startswith("431"):
                    ready.set_result(True) if not ready.done() else None
                elif text == "2":
                    await ws.send("3")
    async def main():
        readies = []
        tasks = []
        for i in range(n):
            ready = asyncio.get_running_loop().create_future()
            tasks.append(asyncio.create_task(guest(i, ready)))
            readies.append(ready)
            if i % 100 == 99:
                await asyncio.gather(*readies[-100:])
        await asyncio.gather(*readies)
        print("joined", flush=True)
        await asyncio.sleep(float(sys.argv[4]))
    asyncio.run(main())
''')


def main() -> int:
    guests = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    tune_gc()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(database_url=f"sqlite:///{tmp}/memory.db", port=port, log_level="warning",
                            connections_per_address=guests + 10, packets_per_second=1000)
        app = create_app(settings)
        server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, "warning"))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        tenant = app.chat.db.write_blocking(apps._create_app, "memory", None)[0]
        rates = {k: "1000000/second" for k in ("connectionsPerAddress", "usersCreatedPerAddress", "joinsPerConnection")}
        app.chat.db.write_blocking(apps._update_settings, tenant["appId"], apps.parse_settings(rates))
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/v1/{tenant['appId']}/",
                           headers={"Authorization": f"Bearer {tenant['secretKey']}"})
        api.put("users/host", json={"name": "Host"}).raise_for_status()
        api.put("conversations/room", json={"participants": ["host"]}).raise_for_status()
        time.sleep(0.5)
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        clients = subprocess.Popen([sys.executable, "-c", CLIENT, url, tenant["appId"], str(guests), "5"],
                                   stdout=subprocess.PIPE, text=True)
        assert clients.stdout is not None and clients.stdout.readline().strip() == "joined"
        time.sleep(2)
        gc.collect()  # what the connections keep, not garbage waiting for the next collection
        after = tracemalloc.take_snapshot()
        stats = after.compare_to(before, "lineno")
        grown = sum(s.size_diff for s in stats)
        print(f"{guests} guests: {grown / guests / 1024:.1f} KB of Python allocations per connection")
        for stat in stats[:25]:
            frame = stat.traceback[0]
            where = f"{Path(frame.filename).as_posix().split('site-packages/')[-1].replace(str(ROOT) + '/', '')}:{frame.lineno}"
            print(f"  {stat.size_diff / guests:8.0f} B  {stat.count_diff / guests:6.1f} objects  {where}")
        clients.wait(timeout=60)
        server.should_exit = True
        thread.join(timeout=10)
    print(json.dumps({"guests": guests, "bytesPerConnection": round(grown / guests)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
