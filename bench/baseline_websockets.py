"""Baseline: a bare `websockets` broadcast server: every text frame received goes to all other clients."""

import asyncio
import sys

from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

CLIENTS = set()


async def handler(websocket):
    CLIENTS.add(websocket)
    try:
        async for message in websocket:
            broadcast(CLIENTS - {websocket}, message)
    except ConnectionClosed:  # the load generator ends its clients without closing handshakes
        pass
    finally:
        CLIENTS.discard(websocket)


async def main(port):
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
