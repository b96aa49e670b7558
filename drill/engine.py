"""Collect facts, run the checks over them, and assemble the run.

Nothing a check does can make a finding disappear: a check that raises, or that yields nothing,
becomes an ``error`` finding that says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from drill import drill_version
from drill.collect import CollectedFacts, collect
from drill.config import Database, LoadedConfig
from drill.facts import FactUnavailable, Subject
from drill.model import ConfigIdentity, DrillRun, Finding, Phase, Scope, Status
from drill.registry import CheckSpec, Outcome, discover


def evaluate(spec: CheckSpec, facts: Any) -> list[Finding]:
    """Run one check on one subject and turn every way it can end into findings."""
    subject: Subject = facts.subject
    try:
        outcomes = list(spec.function(facts))
        if not outcomes:
            outcomes = [Outcome.errored(f"Check {spec.id} reached no verdict; treated as not verified.")]
    except FactUnavailable as missing:
        outcomes = [Outcome.errored(f"Could not verify: {missing.reason}", reason=missing.reason)]
    except Exception as crash:  # a bug in a check must be visible, never a silently missing finding
        outcomes = [Outcome.errored(f"Check {spec.id} crashed: {type(crash).__name__}: {crash}")]
    return [
        Finding(
            check=spec.id,
            status=outcome.status,
            severity=outcome.severity or spec.severity,
            message=outcome.message,
            target=subject.target,
            database=subject.database,
            agent=subject.agent,
            evidence=dict(outcome.evidence),
            remediation=None if outcome.status in (Status.PASS, Status.SKIPPED) else spec.remediation,
        )
        for outcome in outcomes
    ]


def _subjects(collected: CollectedFacts) -> Mapping[Scope, Sequence[Any]]:
    return {
        Scope.TARGET: collected.targets,
        Scope.DATABASE: collected.databases,
        Scope.DATABASE_TARGET: collected.database_targets,
    }


def run_checks(specs: Iterable[CheckSpec], collected: CollectedFacts) -> list[Finding]:
    subjects = _subjects(collected)
    findings: list[Finding] = []
    for spec in specs:
        for facts in subjects.get(spec.scope, ()):
            findings.extend(evaluate(spec, facts))
    return findings


def select_databases(loaded: LoadedConfig, names: Sequence[str]) -> tuple[Database, ...]:
    """The databases to drill; an unknown name is a usage error raised as KeyError with the known names."""
    if not names:
        return loaded.config.databases
    known = {database.name: database for database in loaded.config.databases}
    missing = [name for name in names if name not in known]
    if missing:
        raise KeyError(f"unknown database {', '.join(missing)}; known: {', '.join(sorted(known)) or 'none'}")
    return tuple(known[name] for name in names)


def execute(
    loaded: LoadedConfig,
    *,
    command: str,
    phases: frozenset[Phase],
    databases: Sequence[str] = (),
    concurrency: int = 8,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> DrillRun:
    started = datetime.now(UTC)
    selected = select_databases(loaded, databases)
    collected = collect(
        loaded.config,
        now or started,
        environ=os.environ if environ is None else environ,
        concurrency=concurrency,
        databases=selected if databases else None,
    )
    specs = [spec for spec in discover() if spec.phase in phases]
    findings = run_checks(specs, collected)
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        command=command,
        started_at=started,
        finished_at=datetime.now(UTC),
        config=ConfigIdentity(str(loaded.path), loaded.sha256),
        drill_version=drill_version(),
        findings=tuple(findings),
    )
