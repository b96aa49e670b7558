"""The synthetic estate the report benchmark runs on: its targets, databases and agents, and
what stays fixed from one run to the next (see ``bench/reports.py``)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from drill.model import (
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    Evidence,
    Finding,
    Severity,
    Status,
)
from drill.registry import CheckSpec, discover

# The third quarter of 2026 (92 days): the pack's period; the hourly runs fill its first 90 days.
QUARTER = (date(2026, 7, 1), date(2026, 9, 30))
EPOCH = datetime(2026, 7, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Estate:
    targets: int
    databases: int
    targets_per_database: int
    agents: int
    tables: int  # per database
    unlocked_every: int = 0  # every n-th target has no Object Lock (0: all are locked)

    def target_name(self, index: int) -> str:
        return f"vault-{index:03}"

    def database_name(self, index: int) -> str:
        return f"{_DATABASE_WORDS[index % len(_DATABASE_WORDS)]}-{index:02}"

    def agent_name(self, index: int) -> str:
        return f"{_AGENT_WORDS[index % len(_AGENT_WORDS)]}-{index}"

    def targets_of(self, database: int) -> list[int]:
        start = database * self.targets_per_database
        return [(start + k) % self.targets for k in range(self.targets_per_database)]

    def describe(self) -> str:
        return (
            f"{self.targets} targets, {self.databases} databases on {self.targets_per_database} targets "
            f"each, {self.agents} agents"
        )


_DATABASE_WORDS = ("orders", "billing", "users", "ledger", "catalog", "inventory", "audit", "sessions")
_AGENT_WORDS = ("ci-deployer", "claude-code", "renovate", "terraform-plan", "data-sync")
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")
_TABLE_WORDS = (
    "orders",
    "order_lines",
    "customers",
    "addresses",
    "invoices",
    "payments",
    "refunds",
    "products",
    "prices",
    "stock_moves",
    "shipments",
    "events",
    "audit_log",
    "sessions",
    "api_keys",
    "webhooks",
)
LARGE = Estate(targets=200, databases=20, targets_per_database=10, agents=5, tables=50, unlocked_every=10)
MEDIUM = Estate(targets=20, databases=4, targets_per_database=5, agents=2, tables=50)
SMALL = Estate(targets=2, databases=2, targets_per_database=2, agents=1, tables=20)

Key = tuple[str, str]  # (check, subject) as a run schedules its failures


@dataclass
class Moment:
    """What varies from one run to the next: when it ran, what fails, and each database's drill."""

    started: datetime
    serial: int
    failing: frozenset[Key] = frozenset()
    size_factor: dict[str, float] | None = None  # per database, 1.0 = as usual
    restore_fails: frozenset[str] = frozenset()  # databases whose restore fails this run


class EstateFacts:
    """What stays fixed across one estate's runs: names, sites, buckets, sizes, tables; and how a
    finding is made from a check's metadata. ``report_runs.RunFactory`` builds the runs."""

    def __init__(self, estate: Estate, seed: int = 7) -> None:
        self.estate = estate
        self.specs: dict[str, CheckSpec] = {spec.id: spec for spec in discover()}
        self.checks = tuple(spec.info() for spec in self.specs.values())
        rng = random.Random(seed)
        self.accounts = [f"{rng.randrange(10**11, 10**12)}" for _ in range(4)]
        self.base_size = {
            estate.database_name(j): int(rng.lognormvariate(20.5, 1.2)) for j in range(estate.databases)
        }
        self.tables = {
            estate.database_name(j): {
                f"public.{_TABLE_WORDS[t % len(_TABLE_WORDS)]}{'' if t < len(_TABLE_WORDS) else f'_{t}'}": int(
                    rng.lognormvariate(10, 2.5)
                )
                for t in range(estate.tables)
            }
            for j in range(estate.databases)
        }
        self.coverage = Coverage(
            databases=tuple(
                CoveredDatabase(
                    estate.database_name(j),
                    f"aws:{self.accounts[0]}:eu-west-1",
                    tuple(estate.target_name(i) for i in estate.targets_of(j)),
                )
                for j in range(estate.databases)
            ),
            targets=tuple(estate.target_name(i) for i in range(estate.targets)),
            agents=tuple(estate.agent_name(k) for k in range(estate.agents)),
        )
        self.config = ConfigIdentity(
            "/etc/drill/drill.toml", hashlib.sha256(repr(estate).encode()).hexdigest()
        )

    # -- the targets' fixed facts

    def locked(self, target: int) -> bool:
        every = self.estate.unlocked_every
        return not every or target % every != every - 1

    def region(self, target: int) -> str:
        return _REGIONS[target % len(_REGIONS)]

    def site(self, target: int) -> str:
        return f"aws:{self.accounts[1 + target % 3]}:{self.region(target)}"

    def bucket(self, target: int) -> str:
        return f"acme-pg-backups-{self.region(target)}-{target:03}"

    def snapshot_key(self, database: str, started: datetime) -> str:
        taken = started - timedelta(minutes=37)
        return f"pg/{database}/{database}-{taken:%Y%m%dT%H%M}Z.dump"

    def finding(
        self,
        check: str,
        status: Status,
        message: str,
        evidence: Evidence | None,
        *,
        severity: Severity | None = None,
        database: str | None = None,
        target: str | None = None,
        agent: str | None = None,
    ) -> Finding:
        spec = self.specs[check]
        return Finding(
            check=check,
            status=status,
            severity=severity or spec.severity,
            message=message,
            target=target,
            database=database,
            agent=agent,
            evidence=evidence,
            remediation=None if status in (Status.PASS, Status.SKIPPED) else spec.remediation,
        )
