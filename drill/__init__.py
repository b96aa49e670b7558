"""drill: verify that backups would survive the worst day, and prove it by restoring them."""


def drill_version() -> str:
    """The installed distribution's version; ``0+unknown`` in a source tree that was never installed."""
    # importlib.metadata costs about 20 ms to import: paid by `drill version` and a run, not by --help.
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("drill")
    except PackageNotFoundError:
        return "0+unknown"
