"""Socket.IO adapters: the server, its event handlers, rooms and presence."""
