"""Baseline: stock python-socketio under uvicorn, a room broadcast and nothing else.

Speaks the same events as Parley for the load generator (`conversation:join` enters the room,
`message:send` emits `message:new` to it), with no database. permessage-deflate is off, as in
Parley, so the comparison is about the fan-out path (PERFORMANCE.md, finding 1).
"""

import sys

import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
ROOM = "room"


@sio.on("conversation:join")
async def join(sid, data):
    await sio.enter_room(sid, ROOM)
    return {}


@sio.on("message:send")
async def send(sid, data):
    message = {"text": data["text"], "custom": data.get("custom", {}), "conversationId": data["conversationId"]}
    await sio.emit("message:new", {"message": message}, room=ROOM)
    return {"message": message}


if __name__ == "__main__":
    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                ws_per_message_deflate=False)
