"""The HTTP side: REST API, webhooks, public pages and the admin app, built by ``create_app``."""
