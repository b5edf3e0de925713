"""HTTP adapters: REST API v1, and later the embed views, dashboard and demo."""
