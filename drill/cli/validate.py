"""``drill validate`` and ``drill list-checks``: what can be known without touching any storage."""

from __future__ import annotations

from drill.cli.common import ConfigOption, console, load


def validate(config: ConfigOption) -> None:
    """Check a config file without touching any storage; exit 2 with every problem if it is invalid."""
    loaded = load(config)
    c = loaded.config
    print(
        f"{config} is valid: {len(c.targets)} targets, {len(c.databases)} databases, {len(c.agents)} agents."
    )


def list_checks() -> None:
    """List every check drill knows, with what it judges and how severe a failure is."""
    from rich.table import Table

    from drill.registry import discover

    table = Table(header_style="bold")
    for column in ("id", "scope", "phase", "severity", "what it verifies"):
        table.add_column(column)
    for spec in discover():
        table.add_row(spec.id, spec.scope.value, spec.phase.value, spec.severity.value, spec.title)
    console().print(table)
