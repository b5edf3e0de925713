"""Webhooks' delivery: signing (TalkJS's scheme), refusing private addresses, and the worker that
claims events from the outbox (server.chat.webhook_outbox) and POSTs them with retries."""
