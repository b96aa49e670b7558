"""Synthetic runs of the report benchmark: one per moment of an estate, every finding shaped as its
check records it; the large run, the quarter of hourly runs and the long history (see ``bench/reports.py``)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta

from bench import report_agents as agents
from bench import report_drill
from bench import report_posture as posture
from bench.report_estate import EPOCH, SMALL, Estate, EstateFacts, Key, Moment
from drill.model import DrillRun, Finding
from drill.reports import history_line


class RunFactory(EstateFacts):
    """Builds DrillRuns of one estate whose findings carry the evidence types the real checks record."""

    def run(self, moment: Moment, *, command: str = "run") -> DrillRun:
        estate = self.estate
        rng = random.Random(moment.serial)
        findings: list[Finding] = []
        databases = [estate.database_name(j) for j in range(estate.databases)]
        sizes = {
            name: int(self.base_size[name] * (1 + moment.serial / 20_000) * rng.uniform(0.99, 1.01))
            * (moment.size_factor or {}).get(name, 1.0)
            for name in databases
        }
        # Posture findings in check id order, as the engine runs them; restore ones last.
        for j, name in enumerate(databases):
            findings.extend(posture.copies(self, moment, j, name, int(sizes[name])))
        for k in range(estate.agents):
            findings.append(agents.exposure(self, moment, k))
        for j, name in enumerate(databases):
            for i in estate.targets_of(j):
                findings.append(posture.freshness(self, moment, name, i, rng))
        for i in range(estate.targets):
            findings.append(posture.immutability(self, moment, i))
        for i in range(estate.targets):
            findings.append(posture.retention(self, moment, i))
        for j, name in enumerate(databases):
            for i in estate.targets_of(j):
                findings.append(posture.sanity(self, moment, name, i, int(sizes[name])))
        for k in range(estate.agents):
            for i in range(estate.targets):
                findings.append(agents.trust(self, moment, k, i))
        for i in range(estate.targets):
            findings.append(agents.least_privilege(self, moment, i))
        if command == "run":
            for name in databases:
                findings.extend(report_drill.drill(self, moment, name, int(sizes[name]), rng))
        duration = timedelta(minutes=4 + 3 * estate.databases / 4, seconds=rng.randrange(60))
        return DrillRun(
            run_id=f"{moment.started:%Y%m%dT%H%M%SZ}-{moment.serial:08x}",
            command=command,
            started_at=moment.started,
            finished_at=moment.started + duration,
            config=self.config,
            drill_version="0.1.0",
            findings=tuple(findings),
            checks=self.checks if command == "run" else tuple(c for c in self.checks if c.phase == "posture"),
            coverage=self.coverage,
        )

    # -- one builder per check, each recording what the real check records


def large_run(factory: RunFactory, fail_share: float = 0.04) -> DrillRun:
    """One run of the large estate; a few per cent of its subjects fail."""
    estate = factory.estate
    rng = random.Random(11)
    keys: list[Key] = []
    for j in range(estate.databases):
        for i in estate.targets_of(j):
            keys.append(("freshness", f"{estate.database_name(j)} / {estate.target_name(i)}"))
    for i in range(estate.targets):
        keys += [("immutability", estate.target_name(i)), ("retention_lifecycle", estate.target_name(i))]
        keys += [
            ("trust_separation", f"{estate.agent_name(k)} / {estate.target_name(i)}")
            for k in range(1, estate.agents)
        ]
    failing = frozenset(key for key in keys if rng.random() < fail_share)
    moment = Moment(
        EPOCH + timedelta(days=45),
        serial=1,
        failing=failing,
        restore_fails=frozenset({estate.database_name(3)}),
    )
    return factory.run(moment)


def quarter_moments(estate: Estate, runs: int, seed: int = 5) -> Iterator[Moment]:
    """Hourly runs from the first moment of the quarter, with incidents that open and get fixed."""
    rng = random.Random(seed)
    subjects: list[Key] = []
    for j in range(estate.databases):
        for i in estate.targets_of(j):
            subjects.append(("freshness", f"{estate.database_name(j)} / {estate.target_name(i)}"))
    for i in range(estate.targets):
        subjects += [("immutability", estate.target_name(i)), ("retention_lifecycle", estate.target_name(i))]
    # About one incident a day, lasting one to twelve hours; one long one (a week) in the middle.
    incidents = [
        (rng.choice(subjects), rng.randrange(runs), rng.randint(1, 12)) for _ in range(max(1, runs // 24))
    ]
    incidents.append((("immutability", estate.target_name(1)), runs // 2, 7 * 24))
    drops = {
        rng.randrange(runs): estate.database_name(rng.randrange(estate.databases))
        for _ in range(runs // 500 + 1)
    }
    restore_fails = {
        rng.randrange(runs): estate.database_name(rng.randrange(estate.databases))
        for _ in range(runs // 168 + 1)
    }
    for hour in range(runs):
        failing = frozenset(key for key, start, length in incidents if start <= hour < start + length)
        size_factor = {drops[hour]: 0.45} if hour in drops else None
        yield Moment(
            EPOCH + timedelta(hours=hour, minutes=2),
            serial=hour,
            failing=failing,
            size_factor=size_factor,
            restore_fails=frozenset({restore_fails[hour]}) if hour in restore_fails else frozenset(),
        )


def history_lines(count: int, seed: int = 3) -> Iterator[str]:
    """``count`` history lines of small runs (2 databases), in the exact bytes history.append writes."""
    factory = RunFactory(SMALL, seed)
    rng = random.Random(seed)
    for hour in range(count):
        drop = rng.random() < 0.002
        moment = Moment(
            EPOCH + timedelta(hours=hour),
            serial=hour,
            size_factor={SMALL.database_name(rng.randrange(2)): rng.uniform(0.3, 0.6)} if drop else None,
            restore_fails=frozenset({SMALL.database_name(1)}) if rng.random() < 0.003 else frozenset(),
        )
        run = factory.run(moment)
        # history.append writes exactly this, then fsyncs; 100,000 fsyncs would measure the disk.
        yield json.dumps(history_line.summary(run), separators=(",", ":"), default=str) + "\n"
