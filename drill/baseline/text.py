"""The approved baseline as lines a reader can follow: what ``drill baseline show`` prints and the
evidence pack shows. Pure: it formats ``drill.baseline.model``.
"""

from __future__ import annotations

from collections.abc import Iterator

from drill.baseline.model import Baseline, Holder


def describe(baseline: Baseline) -> Iterator[str]:
    """Every recorded value, one line each, indented under its target, database or agent."""
    approval = baseline.approval
    yield f"Approved {approval.at:%Y-%m-%d %H:%M:%S} UTC by {approval.by} (drill {approval.drill_version})."
    yield f"Config: {approval.config_path} (sha256 {approval.config_sha256})."
    for target in baseline.targets:
        yield f"Target {target.name} ({target.type}):"
        for setting in target.settings:
            reason = f" ({setting.unread})" if setting.unread is not None else ""
            yield f"  {setting.name}: {setting.text()}{reason}"
        if target.lifecycle_unread is not None:
            yield f"  lifecycle rules: unread ({target.lifecycle_unread})"
        elif not target.lifecycle:
            yield "  lifecycle rules: none that delete"
        for rule in target.lifecycle:
            yield f"  lifecycle rule {rule.rule_id!r}: {rule.describe()}"
        for holder in target.holders:
            yield f"  {_holder(holder)}"
    for database in baseline.databases:
        yield f"Database {database.name}: targets {', '.join(database.targets) or 'none'}"
        for setting in database.settings:
            yield f"  {setting.name}: {setting.text()}"
        for query in database.checks:
            yield f"  integrity check {query.name!r}: expects {query.expect}, sql sha256 {query.sql_sha256[:12]}"
    for agent in baseline.agents:
        yield f"Agent {agent.name}: scans {', '.join(agent.paths) or 'no paths'}"
    unread = baseline.unread()
    if unread:
        yield "Not monitored (could not be read when approved):"
        yield from (f"  {line}" for line in unread)


def _holder(holder: Holder) -> str:
    who = holder.name + (f" ({holder.principal})" if holder.principal else "")
    if holder.unread is not None:
        return f"{who}: powers unread ({holder.unread})"
    if not holder.powers:
        return f"{who}: no destructive permission"
    powers = ", ".join(
        power.permission + ("" if power.answer == "allowed" else " (unknown)") for power in holder.powers
    )
    return f"{who}: may {powers}"
