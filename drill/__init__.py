"""drill: verify that backups would survive the worst day, and prove it by restoring them."""

from importlib.metadata import PackageNotFoundError, version


def drill_version() -> str:
    try:
        return version("drill")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
