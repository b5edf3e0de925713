"""The demo app: appId `demo` and the TalkJS documentation's three users."""

DEMO_APP_ID = "demo"
DEMO_USERS = (
    {"id": "123456", "name": "Alice", "email": ["alice@example.com"], "role": "default", "locale": "en-US"},
    {"id": "654321", "name": "Sebastian", "email": ["sebastian@example.com"], "role": "default", "locale": "en-US"},
    {"id": "456789", "name": "Steve", "email": ["steve@example.com"], "role": "default", "locale": "en-US"},
)
