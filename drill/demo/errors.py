"""The one error the demo raises on purpose."""


class DemoError(Exception):
    """The demo cannot run on this machine (a missing package, no PostgreSQL); the message says how to fix it."""
