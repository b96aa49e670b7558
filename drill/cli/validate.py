"""``drill validate`` and ``drill list-checks``: what can be known before a run.

Validate reads no backup storage; for a pgbackrest target it asks pgBackRest (``info``) whether the
stanza exists and which repositories it has, as the run will.
"""

from __future__ import annotations

import os

from drill.cli.common import ConfigOption, console, error, load
from drill.exits import Exit


def validate(config: ConfigOption) -> None:
    """Check a config file (and that each pgBackRest stanza exists); exit 2 with every problem if not."""
    import typer

    from drill.config import TargetType

    loaded = load(config)
    c = loaded.config
    print(
        f"{config} is valid: {len(c.targets)} targets, {len(c.databases)} databases, {len(c.agents)} agents."
    )
    problems = 0
    for index, target in enumerate(c.targets):
        if target.type is not TargetType.PGBACKREST:
            continue
        from drill.storage.pgbackrest.command import PgBackRestFailed
        from drill.storage.pgbackrest.conf import ConfigUnreadable
        from drill.storage.pgbackrest.info import InfoUnreadable
        from drill.storage.pgbackrest.stanza import describe_stanza

        try:
            lines = describe_stanza(target, os.environ, timeout=c.run.timeout.total_seconds())
        except (PgBackRestFailed, ConfigUnreadable, InfoUnreadable) as problem:
            error(f"{config}: targets[{index}] ({target.name}): {problem}")
            problems += 1
            continue
        print(f"Target {target.name}: stanza {target.stanza}: " + "; ".join(lines) + ".")
    if problems:
        raise typer.Exit(Exit.USAGE)


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
