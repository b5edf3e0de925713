"""Rules and use cases. REST and Socket.IO handlers are thin adapters over this package."""
