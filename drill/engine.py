"""Collect facts, run the checks over them, and assemble the run.

Nothing a check does can make a finding disappear: a check that raises, or that yields nothing,
becomes an ``error`` finding that says so. A run stopped by SIGTERM or Ctrl-C (``drill.stopping``)
is still assembled, from what was read by then, and marked interrupted.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drill import drill_version, history
from drill.baseline.model import Approval, Baseline
from drill.collect import collect
from drill.collect.capture import capture
from drill.config import Database, LoadedConfig, RestoreEngine
from drill.facts import CollectedFacts, DrillOutcome, FactUnavailable, RestoreFacts, Subject
from drill.model import (
    ConfigIdentity,
    CouldNotVerify,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Interruption,
    Phase,
    Scope,
    Status,
    Unavailable,
)
from drill.registry import CheckSpec, Outcome, discover
from drill.restore.binaries import CLIENT_TOOLS, SERVER_TOOLS, PgBinaries, RestoreSetupError, find_binaries
from drill.stopping import SWITCH, Interrupted, unwinding

if TYPE_CHECKING:
    from drill.restore.runner import Progress


def evaluate(spec: CheckSpec, facts: Any) -> list[Finding]:
    """Run one check on one subject and turn every way it can end into findings."""
    subject: Subject = facts.subject
    try:
        outcomes = list(spec.function(facts))
        spec.verify_evidence(outcomes)
        if not outcomes:
            outcomes = [Outcome.errored(f"Check {spec.id} reached no verdict; treated as not verified.")]
    except FactUnavailable as missing:
        outcomes = [Outcome.errored(f"Could not verify: {missing.reason}", CouldNotVerify(missing.reason))]
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
            evidence=outcome.evidence,
            remediation=None if outcome.status in (Status.PASS, Status.SKIPPED) else spec.remediation,
        )
        for outcome in outcomes
    ]


def _subjects(collected: CollectedFacts, restores: Sequence[RestoreFacts]) -> Mapping[Scope, Sequence[Any]]:
    return {
        Scope.TARGET: collected.targets,
        Scope.DATABASE: collected.databases,
        Scope.DATABASE_TARGET: collected.database_targets,
        Scope.AGENT: collected.agents,
        Scope.AGENT_TARGET: collected.agent_targets,
        Scope.VERIFIER_TARGET: collected.verifier_targets,
        Scope.REPOSITORY: collected.repositories,
        Scope.RESTORE: restores,
        Scope.BASELINE: collected.drift,
    }


def run_checks(
    specs: Iterable[CheckSpec], collected: CollectedFacts, restores: Sequence[RestoreFacts] = ()
) -> list[Finding]:
    subjects = _subjects(collected, restores)
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


def _drills(
    loaded: LoadedConfig,
    collected: CollectedFacts,
    environ: Mapping[str, str],
    *,
    keep: bool,
    progress: Progress | None,
    backup_set: str | None = None,
) -> list[RestoreFacts]:
    """Drill each database in turn; one database's broken dump or setup never stops the next."""
    # psycopg and the dump readers load only when a drill runs: a posture run never needs them.
    from drill.restore.owners import sweep_stale  # noqa: PLC0415
    from drill.restore.physical.dispatch import drill_newest  # noqa: PLC0415

    config = loaded.config
    report_dir = Path(config.report.dir)
    try:
        binaries: PgBinaries | Unavailable = find_binaries(
            Path(config.restore.bin_dir) if config.restore.bin_dir else None,
            require=CLIENT_TOOLS if config.restore.engine is RestoreEngine.DSN else SERVER_TOOLS,
        )
        sweep_stale(Path(config.restore.work_dir) if config.restore.work_dir else None)
    except RestoreSetupError as error:
        binaries = Unavailable(str(error))
    except OSError as error:  # the machine, not the backup: every drill is an error that says why
        binaries = Unavailable(f"The restore drill could not be set up: {type(error).__name__}: {error}")

    def dump_binaries() -> PgBinaries:
        # A stanza's drill finds the server of its backup's version itself: no dump programs
        # found here costs only the drills of dumps.
        if isinstance(binaries, Unavailable):
            raise RestoreSetupError(binaries.reason)
        return binaries

    restores = []
    for facts in collected.databases:
        outcome: DrillOutcome | Unavailable | None = None
        if SWITCH.stopped is not None:
            outcome = Unavailable(f"Not drilled: {SWITCH.stopped.reason}.")
        else:
            try:
                with unwinding():  # SIGTERM or Ctrl-C unwinds the drill, so its scratch server is removed
                    outcome = drill_newest(
                        facts,
                        config.restore,
                        dump_binaries,
                        environ,
                        keep=keep,
                        progress=progress,
                        backup_set=backup_set,
                    )
            except Interrupted as interruption:
                outcome = outcome or Unavailable(
                    f"The restore drill was interrupted by {interruption.signal_name} and did not finish."
                )
            except RestoreSetupError as error:
                outcome = Unavailable(str(error))
            except Exception as error:  # a bug must not cost the other databases their drill
                outcome = Unavailable(f"internal error while drilling: {type(error).__name__}: {error}")
        previous = history.previous_drill(report_dir, facts.database.name)
        restores.append(RestoreFacts(facts.database, facts.policy, facts.now, outcome, previous))
    return restores


def _with_proof(
    collected: CollectedFacts, restore_findings: Sequence[Finding], drilled: set[str], now: datetime
) -> CollectedFacts:
    """Count this run's clean restore drills as each database's last passing drill."""
    failing = {finding.database for finding in restore_findings if finding.status.is_failing}
    databases = tuple(
        replace(facts, last_passing_drill=now)
        if facts.database.name in drilled
        and facts.database.name not in failing
        and not isinstance(facts.last_passing_drill, Unavailable)  # an unreadable history stays unknown
        else facts
        for facts in collected.databases
    )
    return replace(collected, databases=databases)


def coverage(loaded: LoadedConfig, collected: CollectedFacts) -> Coverage:
    """What the run looked at, so that a report can group findings by database without the config."""
    return Coverage(
        databases=tuple(
            # A stanza's repositories are each a copy, named after it (main.repo1): findings name those.
            CoveredDatabase(
                facts.database.name,
                facts.database.site,
                tuple(dict.fromkeys(copy.target.name for copy in facts.copies)) or facts.database.targets,
            )
            for facts in collected.databases
        ),
        targets=tuple(facts.target.name for facts in collected.targets),
        agents=tuple(agent.name for agent in loaded.config.agents),
    )


def approve_baseline(
    loaded: LoadedConfig,
    *,
    by: str,
    concurrency: int = 8,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Baseline:
    """Today's configuration as a baseline approved by ``by``: storage and trust are read as
    ``drill check`` reads them, and nothing is restored."""
    now = now or datetime.now(UTC)
    SWITCH.forget_unanswered()
    collected = collect(
        loaded.config, now, environ=os.environ if environ is None else environ, concurrency=concurrency
    )
    targets, databases, agents = capture(loaded.config, collected)
    approval = Approval(by, now, drill_version(), str(loaded.path), loaded.sha256)
    return Baseline(approval, targets, databases, agents)


def execute(
    loaded: LoadedConfig,
    *,
    command: str,
    phases: frozenset[Phase],
    databases: Sequence[str] = (),
    concurrency: int = 8,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
    keep: bool = False,
    progress: Progress | None = None,
    only: frozenset[str] | None = None,
    backup_set: str | None = None,
) -> DrillRun:
    """One run: collect, drill when ``phases`` holds the restore phase, and judge; ``only`` narrows
    the checks to those ids (``drill baseline diff`` runs ``drift`` alone); ``backup_set`` drills
    that pgBackRest backup instead of each database's newest copy."""
    started = datetime.now(UTC)
    environ = os.environ if environ is None else environ
    selected = select_databases(loaded, databases)
    SWITCH.forget_unanswered()  # an endpoint silent in an earlier run of this process gets its chance
    collected = collect(
        loaded.config,
        now or started,
        environ=environ,
        concurrency=concurrency,
        databases=selected if databases else None,
    )
    specs = tuple(spec for spec in discover() if only is None or spec.id in only)
    stopped_during = (
        Phase.POSTURE if SWITCH.stopped is not None or Phase.RESTORE not in phases else Phase.RESTORE
    )
    restores = (
        _drills(loaded, collected, environ, keep=keep, progress=progress, backup_set=backup_set)
        if Phase.RESTORE in phases
        else []
    )
    restore_findings = run_checks([s for s in specs if s.phase is Phase.RESTORE], collected, restores)
    drilled = {facts.database.name for facts in restores}
    collected = _with_proof(collected, restore_findings, drilled, now or started)
    findings = run_checks([s for s in specs if s.phase is Phase.POSTURE], collected) + restore_findings
    return DrillRun(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        command=command,
        started_at=started,
        finished_at=datetime.now(UTC),
        config=ConfigIdentity(str(loaded.path), loaded.sha256),
        drill_version=drill_version(),
        findings=tuple(findings),
        checks=tuple(spec.info() for spec in specs if spec.phase in phases),
        coverage=coverage(loaded, collected),
        interrupted=Interruption(SWITCH.stopped.signal_name, stopped_during) if SWITCH.stopped else None,
        baseline=collected.baseline.identity() if collected.baseline is not None else None,
    )
