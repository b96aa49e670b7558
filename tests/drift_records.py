"""Baseline records built by hand, as ``drill.collect.capture`` would capture them, for the pure
tests of the comparison and the ``drift`` check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from drill.baseline.model import (
    AgentRecord,
    Approval,
    Baseline,
    DatabaseRecord,
    Holder,
    LifecycleRecord,
    Power,
    QueryRecord,
    Setting,
    TargetRecord,
)
from drill.facts import ApprovedBaseline, DriftFacts, Record

APPROVED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def vault(
    *,
    days: int = 30,
    mode: str = "COMPLIANCE",
    rules: tuple[LifecycleRecord, ...] = (),
    ci: tuple[Power, ...] = (),
    **overrides: Any,
) -> TargetRecord:
    record = TargetRecord(
        name="vault",
        type="s3",
        settings=(
            Setting("location", "s3://vault/pg"),
            Setting("versioning", "Enabled", strength=2),
            Setting("default lock mode", mode, strength={"COMPLIANCE": 2, "GOVERNANCE": 1}.get(mode, 0)),
            Setting("default lock days", days, strength=days),
            Setting("bucket policy", "ab" * 32, shown="1 statement, sha256 abababababab"),
        ),
        lifecycle=rules,
        holders=(Holder(None, "arn:aws:iam::123456789012:user/drill"), Holder("ci", powers=ci)),
    )
    return replace(record, **overrides)


def orders(targets: tuple[str, ...] = ("vault", "offsite"), **overrides: Any) -> DatabaseRecord:
    record = DatabaseRecord(
        name="orders",
        targets=targets,
        settings=(
            Setting("copies", 2, strength=2),
            Setting("max_age", 93600.0, shown="1d 2h", strength=-93600.0),
        ),
        checks=(QueryRecord("rows", "cd" * 32, "> 0"),),
    )
    return replace(record, **overrides)


def rule(rule_id: str = "purge", **fields: Any) -> LifecycleRecord:
    return LifecycleRecord(rule_id=rule_id, enabled=True, prefix="pg/", **fields)


DELETE = Power("s3:DeleteObjectVersion", "allowed", "user ci, inline policy 'ci-granted', statement 1")


def baseline(*records: Record, by: str = "alice") -> ApprovedBaseline:
    approval = Approval(by, APPROVED_AT, "0.9.0", "/etc/drill/drill.toml", "ef" * 32)
    approved = Baseline(
        approval,
        targets=tuple(record for record in records if isinstance(record, TargetRecord)),
        databases=tuple(record for record in records if isinstance(record, DatabaseRecord)),
        agents=tuple(record for record in records if isinstance(record, AgentRecord)),
    )
    return ApprovedBaseline("/var/lib/drill/baseline.json", "12" * 32, approved)


def pair(
    approved: Record | None,
    today: Record | None,
    agents: tuple[str, ...] = ("ci",),
    targets: tuple[str, ...] = ("vault", "offsite"),
) -> DriftFacts:
    state = baseline(*(record for record in (approved,) if record is not None))
    return DriftFacts(state, NOW, approved, today, agents, targets)
