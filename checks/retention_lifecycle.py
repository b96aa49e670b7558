"""retention_lifecycle: no lifecycle rule expires or deletes snapshots sooner than min_retention.

A lifecycle rule cannot remove a locked version before its date, but it hides current versions
behind a delete marker and destroys noncurrent ones as soon as no lock holds them. A rule shorter
than the promised retention therefore quietly shortens that promise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from drill.facts import (
    DatabaseTargetFacts,
    FilesystemPosture,
    LifecycleRule,
    TargetFacts,
    full_pattern,
    known,
)
from drill.model import Control, Evidence, Scope, Severity
from drill.registry import Outcome, check

_DAY = timedelta(days=1)
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class _Deletion:
    """One way a rule removes snapshots, and whether that comes sooner than min_retention allows."""

    action: str  # current | noncurrent | date
    description: str
    too_soon: bool
    days: int | None = None
    on: datetime | None = None


@dataclass(frozen=True)
class RuleRow:
    """A lifecycle rule that may touch the snapshots, and which of its deletions come too soon."""

    rule_id: str
    prefix: str | None
    expire_current_days: int | None
    expire_noncurrent_days: int | None
    expire_on: datetime | None
    delete_created_before: datetime | None
    conditions_unknown: bool
    too_soon: tuple[str, ...]  # current, noncurrent, date, created_before
    raw: Mapping[str, Any]  # the rule as the store returned it


@dataclass(frozen=True)
class IgnoredRule:
    """A lifecycle rule that cannot touch the snapshots, and why."""

    rule_id: str
    reason: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class LifecycleEvidence(Evidence):
    """The target's lifecycle rules judged against min_retention; ``offending`` names those too soon."""

    kind: ClassVar[str] = "retention_lifecycle"
    min_retention_days: float
    rules: tuple[RuleRow, ...]
    snapshot_patterns: tuple[str, ...] = ()
    ignored: tuple[IgnoredRule, ...] = ()
    offending: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoLifecycleEvidence(Evidence):
    """The target's kind of storage has no lifecycle rules."""

    kind: ClassVar[str] = "retention_lifecycle.not_applicable"
    target_type: str


@check(
    "retention_lifecycle",
    severity=Severity.HIGH,
    scope=Scope.TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Lengthen the named lifecycle rules to at least min_retention, or narrow their prefix or filter "
        "so that they no longer match the snapshots; a rule that expires backups early undoes the retention "
        "the policy promises."
    ),
    evidence=(LifecycleEvidence, NoLifecycleEvidence),
)
def retention_lifecycle(facts: TargetFacts) -> Iterator[Outcome]:
    """No lifecycle rule deletes snapshots sooner than min_retention."""
    posture = known(facts.posture)
    if isinstance(posture, FilesystemPosture):
        yield Outcome.skipped(
            f"Target {facts.target.name} is a filesystem: filesystems have no lifecycle rules; "
            "retention there is the backup tool's job.",
            NoLifecycleEvidence(target_type=facts.target.type.value),
        )
        return
    rules = known(posture.lifecycle)
    min_retention = facts.policy.min_retention
    required_days = min_retention / _DAY
    if not rules:
        yield Outcome.passed(
            f"Target {facts.target.name} has no lifecycle rules: no lifecycle rule deletes snapshots.",
            LifecycleEvidence(min_retention_days=required_days, rules=()),
        )
        return

    patterns = _snapshot_patterns(facts)
    applicable: list[LifecycleRule] = []
    ignored: list[IgnoredRule] = []
    for rule in rules:
        reason = _ignored_because(rule, patterns)
        if reason is None:
            applicable.append(rule)
        else:
            ignored.append(IgnoredRule(rule.rule_id, reason, dict(rule.raw)))

    offending: list[tuple[LifecycleRule, list[_Deletion]]] = []
    for rule in applicable:
        too_soon = [deletion for deletion in _deletions(rule, facts.now, min_retention) if deletion.too_soon]
        if too_soon:
            offending.append((rule, too_soon))

    evidence = LifecycleEvidence(
        min_retention_days=required_days,
        snapshot_patterns=tuple(patterns),
        rules=tuple(_described(rule, facts.now, min_retention) for rule in applicable),
        ignored=tuple(ignored),
    )
    if offending:
        sentences = "; ".join(
            _offence(rule, deletion, required_days) for rule, deletions in offending for deletion in deletions
        )
        yield Outcome.failed(
            f"Lifecycle rules on target {facts.target.name} would delete snapshots sooner than "
            f"min_retention ({required_days:g} days): {sentences}.",
            replace(evidence, offending=tuple(rule.rule_id for rule, _ in offending)),
        )
        return
    if applicable:
        names = ", ".join(repr(rule.rule_id) for rule in applicable)
        noun = "rule" if len(applicable) == 1 else "rules"
        yield Outcome.passed(
            f"Lifecycle {noun} {names} on target {facts.target.name} delete snapshots no sooner than "
            f"min_retention ({required_days:g} days).",
            evidence,
        )
    else:
        yield Outcome.passed(
            f"No enabled lifecycle rule on target {facts.target.name} covers the snapshots: "
            "no lifecycle rule deletes snapshots.",
            evidence,
        )


def _snapshot_patterns(facts: TargetFacts) -> list[str]:
    """The full key patterns of the snapshots on this target, computed from the config.

    Computed rather than read from each listing, so that an unreadable listing does not keep a
    lifecycle rule from being judged.
    """
    patterns = {full_pattern(facts.target, _pattern(copy)) for copy in facts.latest}
    return sorted(patterns) or [full_pattern(facts.target, "*")]


def _pattern(copy: DatabaseTargetFacts) -> str:
    """A dump copy's snapshot pattern; a pgBackRest repository's objects are all its backups' and WAL."""
    if copy.repository is not None or copy.database.snapshot_pattern is None:
        return "*"
    return copy.database.snapshot_pattern


def _literal(pattern: str) -> str:
    return _GLOB.split(pattern, maxsplit=1)[0]


def _ignored_because(rule: LifecycleRule, patterns: list[str]) -> str | None:
    """Why the rule cannot touch the snapshots, or None when it may."""
    if not rule.enabled:
        return "disabled"
    bounds = (
        rule.expire_current_days,
        rule.expire_noncurrent_days,
        rule.expire_on,
        rule.delete_created_before,
    )
    if all(bound is None for bound in bounds):
        return "deletes nothing"
    if not rule.prefix:
        return None
    for pattern in patterns:
        literal = _literal(pattern)
        # Either the prefix covers every snapshot, or it narrows into the pattern and covers some.
        if literal.startswith(rule.prefix) or rule.prefix.startswith(literal):
            return None
    return f"prefix {rule.prefix!r} covers no snapshot pattern"


def _deletions(rule: LifecycleRule, now: datetime, min_retention: timedelta) -> list[_Deletion]:
    deletions: list[_Deletion] = []
    if rule.expire_current_days is not None:
        days = rule.expire_current_days
        deletions.append(
            _Deletion(
                "current",
                f"expires current versions after {_days(days)}",
                days * _DAY < min_retention,
                days=days,
            )
        )
    if rule.expire_noncurrent_days is not None:
        days = rule.expire_noncurrent_days
        deletions.append(
            _Deletion(
                "noncurrent",
                f"deletes noncurrent versions {_days(days)} after they become noncurrent",
                days * _DAY < min_retention,
                days=days,
            )
        )
    if rule.expire_on is not None:
        on = rule.expire_on if rule.expire_on.tzinfo else rule.expire_on.replace(tzinfo=UTC)
        # From (date - min_retention) on, a snapshot written now would be expired before it is old enough.
        deletions.append(
            _Deletion(
                "date",
                f"expires every matching object on {on:%Y-%m-%d}",
                on < now + min_retention,
                on=on,
            )
        )
    if rule.delete_created_before is not None:
        before = rule.delete_created_before
        before = before if before.tzinfo else before.replace(tzinfo=UTC)
        # Snapshots written after the date are safe; one still inside its retention window that was
        # written before the date is deleted, so the rule harms while the date is within the window.
        deletions.append(
            _Deletion(
                "created_before",
                f"deletes every matching object created before {before:%Y-%m-%d}",
                before > now - min_retention,
                on=before,
            )
        )
    return deletions


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _offence(rule: LifecycleRule, deletion: _Deletion, required_days: float) -> str:
    if deletion.on is not None:
        requirement = f"before a snapshot written now has been kept {required_days:g} days"
    else:
        requirement = f"sooner than the {required_days:g} days required"
    assumption = (
        " (its filter on tags or sizes cannot be evaluated by drill, so it is assumed to apply)"
        if rule.conditions_unknown
        else ""
    )
    return f"rule {rule.rule_id!r} {deletion.description}, {requirement}{assumption}"


def _described(rule: LifecycleRule, now: datetime, min_retention: timedelta) -> RuleRow:
    return RuleRow(
        rule_id=rule.rule_id,
        prefix=rule.prefix,
        expire_current_days=rule.expire_current_days,
        expire_noncurrent_days=rule.expire_noncurrent_days,
        expire_on=rule.expire_on,
        delete_created_before=rule.delete_created_before,
        conditions_unknown=rule.conditions_unknown,
        too_soon=tuple(d.action for d in _deletions(rule, now, min_retention) if d.too_soon),
        raw=dict(rule.raw),
    )
