"""Notifications' deliveries: composing them, sending them (SMTP, an SMS gateway, a development
mailbox), the worker that claims due ones from the outbox, and the inbound SMTP listener for replies.
Who is notified of what is decided in server/chat (chat.notify_rules, chat.outbox, chat.replies)."""
