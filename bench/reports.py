"""Benchmark the report layer at estate scale: one large run's pages, the index over a long history,
and the evidence pack of a quarter of hourly runs.

    python bench/reports.py              # the full run, about 14 minutes on 2 cores
    python bench/reports.py --quick      # a smoke run with small sizes, about 40 seconds
    python bench/reports.py --pack-runs 720 --index-lines 1000,10000 --no-trace-pack

Runs are synthetic but shaped like real ones: every finding carries evidence with the keys the
real check records (copies_3_2_1's copies, the restore drill's timings, integrity's table rows,
the trust checks' twelve permission answers), messages worded as the checks word them, and a
remediation on every finding that is not a pass. Nothing here runs drill's checks or storage.

1. One large run (200 S3 targets, 20 databases on 10 targets each, 5 agents): render_report,
   render_json and render_junit, each timed and then traced, in a fresh process each.
2. ``index.html`` over 1,000, 10,000 and 100,000 history lines: write_index in a fresh process
   each; the index keeps a bounded tail, so its memory should stay flat while its time grows.
3. A quarter: 90 days x 24 hourly runs of a medium estate published one by one (publish
   rewrites index.html every time), then build_pack of 1, 30 and 92 days from that directory and
   verify_pack of the 92-day pack, each in a fresh process.

It is a measurement, never a pass/fail on timing. Each measurement runs in a fresh child process
(``--phase``), so its peak RSS is its own; timings are taken with tracemalloc off, then the call
is repeated with tracemalloc on for the traced peak (allocations above what the process already
held). Results go to stdout (with a Markdown table at the end) and to ``bench/out/reports.json``;
the report directories and packs live in a temp directory that is always removed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "reports.json"
sys.path.insert(0, str(ROOT))

from drill import history  # noqa: E402
from drill.durations import format_duration  # noqa: E402
from drill.model import (  # noqa: E402
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Severity,
    Status,
)
from drill.permissions import S3_DESTRUCTIVE  # noqa: E402
from drill.registry import CheckSpec, discover  # noqa: E402

# The third quarter of 2026 (92 days): the pack's period; the hourly runs fill its first 90 days.
QUARTER = (date(2026, 7, 1), date(2026, 9, 30))
EPOCH = datetime(2026, 7, 1, tzinfo=UTC)
MiB = 1 << 20

# ---------------------------------------------------------------------------------------------
# The synthetic estate and its runs


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


class RunFactory:
    """Builds DrillRuns of one estate whose findings carry evidence shaped like the real checks'."""

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
        evidence: dict[str, Any],
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

    # -- the run

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
            findings.extend(self.copies(moment, j, name, int(sizes[name])))
        for k in range(estate.agents):
            findings.append(self.exposure(moment, k))
        for j, name in enumerate(databases):
            for i in estate.targets_of(j):
                findings.append(self.freshness(moment, name, i, rng))
        for i in range(estate.targets):
            findings.append(self.immutability(moment, i))
        for i in range(estate.targets):
            findings.append(self.retention(moment, i))
        for j, name in enumerate(databases):
            for i in estate.targets_of(j):
                findings.append(self.sanity(moment, name, i, int(sizes[name])))
        for k in range(estate.agents):
            for i in range(estate.targets):
                findings.append(self.trust(moment, k, i))
        for i in range(estate.targets):
            findings.append(self.least_privilege(moment, i))
        if command == "run":
            for name in databases:
                findings.extend(self.drill(moment, name, int(sizes[name]), rng))
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

    def copies(self, moment: Moment, j: int, name: str, size: int) -> list[Finding]:
        estate = self.estate
        copies = []
        for i in estate.targets_of(j):
            target = estate.target_name(i)
            stale = ("freshness", f"{name} / {target}") in moment.failing
            copies.append(
                {
                    "target": target,
                    "site": self.site(i),
                    "media": "s3",
                    "location": f"s3://{self.bucket(i)}/pg",
                    "snapshot": self.snapshot_key(name, moment.started),
                    "size": size,
                    "fresh": not stale,
                    "consistent": True,
                    "immutable": self.locked(i),
                    "offsite": True,
                    "counted": not stale,
                    "why": f"stale: 1d 3h old, limit {format_duration(timedelta(hours=26))}"
                    if stale
                    else "counted",
                }
            )
        counted = [copy for copy in copies if copy["counted"]]
        sites = {copy["site"] for copy in counted}
        score = {
            "copies": len(sites),
            "media": 1,
            "offsite": len(sites),
            "immutable": len({copy["site"] for copy in counted if copy["immutable"]}),
        }
        required = {"copies": min(3, estate.targets_per_database), "media": 1, "offsite": 1, "immutable": 1}
        summary = ", ".join(f"{score[key]}/{required[key]} {key}" for key in score)
        short = [key for key in score if score[key] < required[key]]
        not_counted = [f"{copy['target']} ({copy['why']})" for copy in copies if not copy["counted"]]
        detail = f" Not counted: {'; '.join(not_counted)}." if not_counted else ""
        evidence = {"score": score, "required": required, "copies": copies}
        if short:
            card = self.finding(
                "copies_3_2_1",
                Status.FAIL,
                f"3-2-1-1 not met: {summary}; short of {', '.join(short)}.{detail}",
                evidence,
                database=name,
            )
        else:
            card = self.finding(
                "copies_3_2_1", Status.PASS, f"3-2-1-1 met: {summary}.{detail}", evidence, database=name
            )
        age = timedelta(hours=1, minutes=12)
        zero = self.finding(
            "copies_3_2_1",
            Status.PASS,
            f"The '0' is met: a restore drill passed {format_duration(age)} ago.",
            {"last_passing_drill": moment.started - age, "age_seconds": round(age.total_seconds())},
            database=name,
        )
        return [card, zero]

    def exposure(self, moment: Moment, k: int) -> Finding:
        agent = self.estate.agent_name(k)
        sightings = [
            {
                "path": f"/home/{agent}/work/service-{n}/.env",
                "line": 3 + n,
                "kind": "credential_file",
                "what": ".env file",
                "masked": None,
                "targets": [],
            }
            for n in range(2)
        ]
        evidence = {
            "scanned": [f"/home/{agent}/work", f"/home/{agent}/.config"],
            "missing": [],
            "sightings": sightings,
            "files_scanned": 8_412 + k,
            "bytes_scanned": 183_220_114 + k,
            "skipped_binary": 1_204,
            "skipped_large": 37,
            "skipped_symlinks": 4,
            "truncated": False,
        }
        return self.finding(
            "credential_exposure",
            Status.WARN,
            f"Agent {agent}: no backup credential found in 2 paths (8,412 files), but 2 credential-shaped "
            f"files lie in its reach: /home/{agent}/work/service-0/.env, /home/{agent}/work/service-1/.env.",
            evidence,
            severity=Severity.MEDIUM,
            agent=agent,
        )

    def freshness(self, moment: Moment, name: str, i: int, rng: random.Random) -> Finding:
        target = self.estate.target_name(i)
        stale = ("freshness", f"{name} / {target}") in moment.failing
        age = timedelta(hours=27, minutes=5) if stale else timedelta(minutes=rng.randrange(30, 90))
        key = self.snapshot_key(name, moment.started - (age - timedelta(minutes=37)))
        evidence = {
            "snapshot": key,
            "created_at": moment.started - age,
            "age_seconds": round(age.total_seconds()),
            "max_age_seconds": 26 * 3600,
            "snapshots": 2_160 + moment.serial % 1000,
        }
        if stale:
            message = f"Newest snapshot {key} is {format_duration(age)} old, older than the limit of 1d 2h."
            return self.finding("freshness", Status.FAIL, message, evidence, database=name, target=target)
        message = f"Newest snapshot {key} is {format_duration(age)} old (limit 1d 2h)."
        return self.finding("freshness", Status.PASS, message, evidence, database=name, target=target)

    def immutability(self, moment: Moment, i: int) -> Finding:
        target = self.estate.target_name(i)
        bucket = self.bucket(i)
        key = f"pg/{self.estate.database_name(0)}/latest.dump"
        retain = moment.started + timedelta(days=30)
        locked = self.locked(i) and ("immutability", target) not in moment.failing
        evidence: dict[str, Any] = {
            "proofs": [],
            "problems": [],
            "warnings": [],
            "objects": [
                {
                    "versioning": "Enabled",
                    "object_lock": locked,
                    "default_mode": "COMPLIANCE" if locked else None,
                    "default_days": 30 if locked else None,
                    "required_days": 30,
                    "snapshot": key,
                    "version_id": hashlib.sha256(f"{i}{moment.serial}".encode()).hexdigest()[:32],
                    "object_lock_mode": "COMPLIANCE" if locked else None,
                    "retain_until": retain if locked else None,
                    "legal_hold": False,
                }
            ],
        }
        if locked:
            evidence["proofs"] = [
                "default retention COMPLIANCE 30 days",
                f"{key} locked in COMPLIANCE until {retain:%Y-%m-%d}",
            ]
            message = f"{target} is immutable: {'; '.join(evidence['proofs'])}."
            return self.finding("immutability", Status.PASS, message, evidence, target=target)
        evidence["problems"] = [
            f"bucket {bucket} does not have Object Lock enabled",
            f"the latest snapshot {key} carries no Object Lock retention "
            "(S3 shows it only to callers allowed s3:GetObjectRetention)",
        ]
        message = f"{target} is not immutable: {'; '.join(evidence['problems'])}."
        return self.finding("immutability", Status.FAIL, message, evidence, target=target)

    def retention(self, moment: Moment, i: int) -> Finding:
        target = self.estate.target_name(i)
        too_soon = ("retention_lifecycle", target) in moment.failing
        days = 7 if too_soon else 90
        rule = {
            "rule_id": "expire-old-dumps",
            "prefix": "pg/",
            "expire_current_days": days,
            "expire_noncurrent_days": days + 7,
            "expire_on": None,
            "delete_created_before": None,
            "conditions_unknown": False,
            "too_soon": ["Expiration", "NoncurrentVersionExpiration"] if too_soon else [],
            "raw": {
                "ID": "expire-old-dumps",
                "Status": "Enabled",
                "Filter": {"Prefix": "pg/"},
                "Expiration": {"Days": days},
                "NoncurrentVersionExpiration": {"NoncurrentDays": days + 7},
            },
        }
        evidence = {
            "min_retention_days": 30.0,
            "snapshot_patterns": [f"pg/{self.estate.database_name(0)}/*.dump"],
            "rules": [rule],
            "ignored": [{"rule_id": "abort-multipart", "reason": "deletes nothing"}],
        }
        if too_soon:
            message = (
                f"Lifecycle rules on target {target} would delete snapshots sooner than min_retention "
                f"(30 days): rule 'expire-old-dumps' expires current versions after {days} days, "
                "sooner than the 30 days required."
            )
            return self.finding(
                "retention_lifecycle",
                Status.FAIL,
                message,
                {**evidence, "offending": ["expire-old-dumps"]},
                target=target,
            )
        message = (
            f"Lifecycle rule 'expire-old-dumps' on target {target} deletes snapshots no sooner than "
            "min_retention (30 days)."
        )
        return self.finding("retention_lifecycle", Status.PASS, message, evidence, target=target)

    def sanity(self, moment: Moment, name: str, i: int, size: int) -> Finding:
        target = self.estate.target_name(i)
        key = self.snapshot_key(name, moment.started)
        previous = int(size / (moment.size_factor or {}).get(name, 1.0) * 0.998)
        digest = hashlib.sha256(f"{key}{size}".encode()).hexdigest()
        evidence = {
            "snapshot": key,
            "size": size,
            "previous": self.snapshot_key(name, moment.started - timedelta(hours=1)),
            "previous_size": previous,
            "ratio": round(size / previous, 4),
            "max_size_drop": 0.5,
            "head_size": size,
            "sidecar": f"{key}.sha256",
            "sidecar_algorithm": "sha256",
            "sidecar_digest": digest,
            "sidecar_verdict": "deferred",
            "verified_by": "restore download",
        }
        if size < previous * 0.5:
            message = (
                f"The latest snapshot {key} on {target} is {size:,} bytes, down from {previous:,} "
                f"({1 - size / previous:.0%} smaller; at most 50% allowed)."
            )
            return self.finding(
                "snapshot_sanity",
                Status.FAIL,
                message,
                {**evidence, "problems": [message]},
                severity=Severity.CRITICAL,
                database=name,
                target=target,
            )
        message = (
            f"The latest snapshot {key} on {target} is {size:,} bytes, listed and stored sizes agree; "
            f"sidecar {key}.sha256 is verified when a restore drill downloads it."
        )
        return self.finding("snapshot_sanity", Status.PASS, message, evidence, database=name, target=target)

    def _permissions(self, locked: bool, allowed: frozenset[str]) -> list[dict[str, Any]]:
        rows = []
        for permission in S3_DESTRUCTIVE:
            rows.append(
                {
                    "permission": permission,
                    "answer": "allowed" if permission in allowed else "denied",
                    "source": "simulation" if permission.startswith("s3:Put") else "probe",
                    "detail": "iam:SimulatePrincipalPolicy: implicitDeny"
                    if permission not in allowed
                    else "iam:SimulatePrincipalPolicy: allowed by policy backup-writer-inline",
                    "effect": "hide" if locked else "destroy",
                }
            )
        return rows

    def trust(self, moment: Moment, k: int, i: int) -> Finding:
        agent = self.estate.agent_name(k)
        target = self.estate.target_name(i)
        locked = self.locked(i)
        failing = ("trust_separation", f"{agent} / {target}") in moment.failing
        # The first agent may delete on every bucket: a warning on locked ones, a failure elsewhere.
        allowed = (
            frozenset({"s3:DeleteObject", "s3:DeleteObjectVersion"}) if k == 0 or failing else frozenset()
        )
        principal = f"arn:aws:iam::{self.accounts[0]}:role/{agent}"
        peers = [self.estate.target_name(p) for p in range(i % 2, min(self.estate.targets, 12), 2) if p != i]
        evidence = {
            "agent_identity": {"principal": principal, "account": self.accounts[0], "source": "sts"},
            "owner_account": self.accounts[1 + i % 3],
            "drill_identity": {
                "principal": f"arn:aws:iam::{self.accounts[1 + i % 3]}:role/drill-verifier",
                "account": self.accounts[1 + i % 3],
                "source": "sts",
            },
            "permissions": self._permissions(locked, allowed),
            "gaps": [],
            "locked": locked,
            "other_immutable_copies": peers[:5] if locked else [],
            "evidence": ["identity", "simulation", "probe"],
        }
        who = f"Agent {agent} ({principal})"
        on = " (evidence: identity, simulation, probe)"
        if allowed and not locked:
            message = (
                f"{who} could destroy the backups on {target} (no other copy is locked): s3:DeleteObjectVersion "
                f"(deletes snapshot versions that no COMPLIANCE lock holds){on}."
            )
            return self.finding(
                "trust_separation", Status.FAIL, message, evidence, agent=agent, target=target
            )
        if allowed:
            message = (
                f"{who} cannot destroy the backups on {target}, which are locked in COMPLIANCE mode, but could "
                f"hide them, expire them once their lock passes, or protect later backups less: "
                f"s3:DeleteObject (adds delete markers; locked versions stay){on}."
            )
            return self.finding(
                "trust_separation", Status.WARN, message, evidence, agent=agent, target=target
            )
        message = (
            f"{who} cannot delete or weaken the backups on {target} (another account: {self.accounts[0]}, "
            f"backups in {self.accounts[1 + i % 3]}): 12 destructive permissions denied (identity, simulation, probe)."
        )
        return self.finding("trust_separation", Status.PASS, message, evidence, agent=agent, target=target)

    def least_privilege(self, moment: Moment, i: int) -> Finding:
        target = self.estate.target_name(i)
        evidence = {
            "permissions": self._permissions(self.locked(i), frozenset()),
            "gaps": [],
            "locked": self.locked(i),
        }
        message = (
            f"drill's credentials for {target} hold none of the 12 destructive permissions drill asks about "
            f"(bucket {self.bucket(i)}, role drill-verifier)."
        )
        return self.finding("verifier_least_privilege", Status.PASS, message, evidence, target=target)

    def drill(self, moment: Moment, name: str, size: int, rng: random.Random) -> list[Finding]:
        j = int(name.rsplit("-", 1)[1])
        source = self.estate.target_name(self.estate.targets_of(j)[0])
        key = self.snapshot_key(name, moment.started)
        created = moment.started - timedelta(minutes=37)
        failed = name in moment.restore_fails
        download = size / 180e6 * rng.uniform(0.9, 1.1)
        restore_s = size / 40e6 * rng.uniform(0.9, 1.1)
        verify_s = size / 400e6 * rng.uniform(0.9, 1.1)
        total = download + restore_s + verify_s + 0.4
        factor = (moment.size_factor or {}).get(name, 1.0)
        rows = {
            table: int(count * factor * (1 + moment.serial / 50_000))
            for table, count in self.tables[name].items()
        }
        restore_evidence = {
            "source_target": source,
            "snapshot": key,
            "snapshot_size": size,
            "snapshot_created_at": created,
            "snapshot_age_seconds": 37 * 60,
            "dump_format": "custom",
            "dump_version": "1.15-0",
            "download_seconds": round(download, 3),
            "server_wait_seconds": 0.0,
            "restore_seconds": 0.0 if failed else round(restore_s, 3),
            "verify_seconds": 0.0 if failed else round(verify_s, 3),
            "total_seconds": round(download if failed else total, 3),
            "rto_seconds": 4 * 3600.0,
            "failed_stage": "restore" if failed else None,
            "total_rows": None if failed else sum(rows.values()),
            "tables": None if failed else len(rows),
            "kept": False,
        }
        timing = f"download {download:.1f}s, restore {restore_s:.1f}s, verify {verify_s:.1f}s"
        if failed:
            restore = self.finding(
                "restore",
                Status.FAIL,
                f"Restore drill failed at restore: pg_restore exited with 1: pg_restore: error: could not read "
                f"from input file: end of file (snapshot {key} from {source}).",
                restore_evidence,
                database=name,
            )
            integrity = self.finding(
                "integrity",
                Status.SKIPPED,
                "Nothing was restored, so nothing could be verified; see the restore finding.",
                {},
                database=name,
            )
            return [restore, integrity]
        restore = self.finding(
            "restore",
            Status.PASS,
            f"Restored {key} from {source} with zero errors within the RTO of 4h ({timing}).",
            restore_evidence,
            database=name,
        )
        queries = [
            {
                "name": "orders_not_empty",
                "expect": "> 0",
                "value": float(rows[next(iter(rows))]),
                "error": None,
            },
            {"name": "no_orphan_lines", "expect": "== 0", "value": 0.0, "error": None},
            {"name": "recent_payments", "expect": ">= 100", "value": 4_812.0, "error": None},
        ]
        integrity_evidence = {
            "table_rows": rows,
            "total_rows": sum(rows.values()),
            "previous_drill": f"{moment.started - timedelta(hours=1):%Y%m%dT%H%M%SZ}-{moment.serial - 1:08x}",
            "previous_total_rows": int(sum(rows.values()) * 0.9995),
            "indexes_checked": 3 * len(rows),
            "queries": queries,
            "sequences_checked": len(rows),
            "recovery_point": created - timedelta(seconds=40),
            "data_age_seconds": 37 * 60 + 40,
            "snapshot_age_seconds": 37 * 60,
            "problems": [],
        }
        integrity = self.finding(
            "integrity",
            Status.PASS,
            f"Restored data is sound: {len(rows)} tables, {sum(rows.values())} rows, {3 * len(rows)} indexes, "
            f"{len(queries)} queries; data age {format_duration(timedelta(seconds=37 * 60 + 40))}.",
            integrity_evidence,
            database=name,
        )
        return [restore, integrity]


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
        yield json.dumps(history.summary(run), separators=(",", ":"), default=str) + "\n"


# ---------------------------------------------------------------------------------------------
# The measuring children: one phase each, printed as one JSON line


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(call: Callable[[], Any], *, repeats: int = 1, trace: bool = True) -> tuple[Any, dict[str, Any]]:
    """Time ``call`` (median of ``repeats``, tracemalloc off), then run it once more traced."""
    rss_before = _rss_mib()
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    figures: dict[str, Any] = {
        "seconds": round(statistics.median(times), 4),
        "all_seconds": [round(value, 4) for value in times],
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }
    if trace:
        result = None
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        result = call()
        figures["traced_peak_mib"] = round((tracemalloc.get_traced_memory()[1] - baseline) / MiB, 2)
        tracemalloc.stop()
    return result, figures


def phase_render(renderer: str) -> dict[str, Any]:
    from drill.reports.html import render_report  # noqa: PLC0415
    from drill.reports.json_report import render_json  # noqa: PLC0415
    from drill.reports.junit import render_junit  # noqa: PLC0415

    function = {"html": render_report, "json": render_json, "junit": render_junit}[renderer]
    started = time.perf_counter()
    run = large_run(RunFactory(LARGE))
    built = time.perf_counter() - started
    function(run)  # warm: templates compiled, modules imported
    text, figures = _measured(lambda: function(run), repeats=3)
    counts = {status: count for status, count in run.counts().items() if count}
    return {
        "renderer": renderer,
        "findings": len(run.findings),
        "counts": counts,
        "build_run_seconds": round(built, 2),
        "bytes": len(text.encode()),
        **figures,
    }


def phase_index(report_dir: Path) -> dict[str, Any]:
    from drill.reports.directory import write_index  # noqa: PLC0415

    now = datetime(2040, 1, 1, tzinfo=UTC)
    lines = sum(1 for _ in (report_dir / history.HISTORY_FILE).open("rb"))
    path, figures = _measured(lambda: write_index(report_dir, now=now))
    return {"lines": lines, "index_bytes": path.stat().st_size, **figures}


class _Stopwatch:
    """Adds up the time spent in named functions of reports.directory (drill's code is not changed)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)


def phase_publish(report_dir: Path, runs: int) -> dict[str, Any]:
    from drill.reports import directory  # noqa: PLC0415
    from drill.reports.directory import publish  # noqa: PLC0415

    watch = _Stopwatch()
    for name, label in (
        ("render_json", "render_json"),
        ("render_report", "render_report"),
        ("write_atomic", "write files (fsync)"),
        ("_runs_with_pages", "index: list run pages"),
        ("index_view", "index: read history, build view"),
        ("render_index", "index: render"),
        ("write_index", "index: total"),
    ):
        watch.wrap(directory, name, label)
    watch.wrap(history, "append", "history append (fsync)")
    factory = RunFactory(MEDIUM)
    per_run: list[float] = []
    build = 0.0
    rss_marks: dict[str, float] = {}
    findings = 0
    for moment in quarter_moments(MEDIUM, runs):
        started = time.perf_counter()
        run = factory.run(moment)
        build += time.perf_counter() - started
        findings += len(run.findings)
        started = time.perf_counter()
        publish(run, report_dir, now=run.finished_at)
        per_run.append(time.perf_counter() - started)
        if len(per_run) in (100, runs // 2, runs):
            rss_marks[str(len(per_run))] = round(_rss_mib(), 1)
    tail = min(100, len(per_run))
    on_disk = sum(path.stat().st_size for path in report_dir.rglob("*") if path.is_file())
    first = next((report_dir / "runs").iterdir())
    return {
        "runs": runs,
        "findings_per_run": round(findings / runs, 1),
        "build_runs_seconds": round(build, 1),
        "publish_seconds": round(sum(per_run), 1),
        "publish_ms_mean": round(1000 * statistics.mean(per_run), 1),
        "publish_ms_first_100": round(1000 * statistics.mean(per_run[:tail]), 1),
        "publish_ms_last_100": round(1000 * statistics.mean(per_run[-tail:]), 1),
        "breakdown_ms_per_run": {
            label: round(1000 * total / runs, 2) for label, total in watch.seconds.items()
        },
        "report_dir_mb": round(on_disk / 1e6, 1),
        "run_json_kb": round((first / "run.json").stat().st_size / 1e3, 1),
        "report_html_kb": round((first / "report.html").stat().st_size / 1e3, 1),
        "history_line_kb": round((report_dir / history.HISTORY_FILE).stat().st_size / runs / 1e3, 1),
        "rss_mib_after_runs": rss_marks,
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def phase_pack(report_dir: Path, days: int, out: Path, *, trace: bool) -> dict[str, Any]:
    from drill.reports.pack import build_pack  # noqa: PLC0415
    from drill.reports.period import Period  # noqa: PLC0415

    since = QUARTER[0]
    period = Period(since, since + timedelta(days=days - 1))
    now = datetime.combine(period.until + timedelta(days=1), datetime.min.time(), UTC)
    pack, figures = _measured(lambda: build_pack(report_dir, period, out, now=now), trace=trace)
    return {
        "days": days,
        "runs": len(pack.summary.runs),
        "files": pack.files,
        "incidents": len(pack.summary.incidents),
        "status": pack.summary.status.value,
        "pack_mb": round(out.stat().st_size / 1e6, 1),
        **figures,
    }


def phase_verify(pack: Path) -> dict[str, Any]:
    from drill.reports.pack import verify_pack  # noqa: PLC0415

    verification, figures = _measured(lambda: verify_pack(pack), trace=False)
    return {"checked": verification.checked, "ok": verification.ok, **figures}


# ---------------------------------------------------------------------------------------------
# The orchestrator


def _child(*arguments: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *arguments]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _step(label: str) -> float:
    print(f"  {label} ...", flush=True)
    return time.perf_counter()


def orchestrate(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "large": {"estate": LARGE.describe()},
        "index": [],
        "quarter": {"estate": MEDIUM.describe()},
    }
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drill-bench-reports-") as scratch:
        work = Path(scratch)
        print(f"1. one large run: {LARGE.describe()}", flush=True)
        results["large"]["renders"] = []
        for renderer in ("html", "json", "junit"):
            _step(f"render {renderer}")
            results["large"]["renders"].append(_child("--phase", "render", renderer))

        print("2. index.html over a long history", flush=True)
        longest = max(args.index_lines)
        source = work / "history-source.jsonl"
        started = _step(f"writing {longest:,} history lines")
        with source.open("w") as handle:
            handle.writelines(history_lines(longest))
        results["history_lines_written_seconds"] = round(time.perf_counter() - started, 1)
        for lines in sorted(args.index_lines):
            report_dir = work / f"index-{lines}"
            report_dir.mkdir()
            with source.open() as reader, (report_dir / history.HISTORY_FILE).open("w") as writer:
                for number, line in enumerate(reader):
                    if number >= lines:
                        break
                    writer.write(line)
            _step(f"write_index over {lines:,} lines")
            row = _child("--phase", "index", str(report_dir))
            row["history_mb"] = round((report_dir / history.HISTORY_FILE).stat().st_size / 1e6, 1)
            results["index"].append(row)
            shutil.rmtree(report_dir)

        print(f"3. a quarter of hourly runs: {MEDIUM.describe()}", flush=True)
        report_dir = work / "quarter"
        started = _step(f"publishing {args.pack_runs:,} runs")
        results["quarter"]["publish"] = _child("--phase", "publish", str(report_dir), str(args.pack_runs))
        print(f"    took {time.perf_counter() - started:.0f} s", flush=True)
        days_published = args.pack_runs / 24
        results["quarter"]["packs"] = []
        for days in (1, 30, QUARTER_DAYS):
            out = work / f"pack-{days}.zip"
            _step(f"build_pack over {_many(days, 'day')} ({min(days, days_published):g} of them with runs)")
            results["quarter"]["packs"].append(
                _child(
                    "--phase",
                    "pack",
                    str(report_dir),
                    str(days),
                    str(out),
                    *([] if args.no_trace_pack else ["--trace"]),
                )
            )
        _step("verify_pack of the 92-day pack")
        results["quarter"]["verify"] = _child("--phase", "verify", str(work / f"pack-{QUARTER_DAYS}.zip"))
    results["total_seconds"] = round(time.perf_counter() - begun, 1)
    _report(results)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwritten to {OUT.relative_to(ROOT)}")
    return 0


QUARTER_DAYS = (QUARTER[1] - QUARTER[0]).days + 1


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} MiB"


def _report(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str, str, str]] = []
    for render in results["large"]["renders"]:
        name = {"html": "render_report", "json": "render_json", "junit": "render_junit"}[render["renderer"]]
        rows.append(
            (
                f"`{name}`, one run of {render['findings']:,} findings",
                f"{render['seconds']:.2f} s",
                f"{render['bytes'] / 1e6:.1f} MB",
                _mib(render["traced_peak_mib"]),
                _mib(render["peak_rss_mib"]),
                f"{render['rss_before_mib']:.0f} MiB before the call (the run, one warm-up render)",
            )
        )
    for row in results["index"]:
        rows.append(
            (
                f"`write_index`, {row['lines']:,} history lines ({row['history_mb']:,.1f} MB)",
                f"{row['seconds']:.2f} s",
                f"{row['index_bytes'] / 1e6:.2f} MB",
                _mib(row["traced_peak_mib"]),
                _mib(row["peak_rss_mib"]),
                f"{1e6 * row['seconds'] / row['lines']:.0f} µs per line",
            )
        )
    publish = results["quarter"]["publish"]
    breakdown = publish["breakdown_ms_per_run"]
    rows.append(
        (
            f"`publish` x {publish['runs']:,} hourly runs ({publish['findings_per_run']:.0f} findings each)",
            f"{publish['publish_seconds']:.0f} s; {publish['publish_ms_mean']:.0f} ms/run "
            f"(first 100 {publish['publish_ms_first_100']:.0f}, last 100 {publish['publish_ms_last_100']:.0f})",
            f"{publish['report_dir_mb']:,.0f} MB on disk",
            "-",
            _mib(publish["peak_rss_mib"]),
            f"mean per run: index.html {breakdown.get('index: total', 0):.0f} ms (reading the history "
            f"{breakdown.get('index: read history, build view', 0):.0f}), report.html "
            f"{breakdown.get('render_report', 0):.0f} ms, run.json {breakdown.get('render_json', 0):.0f} ms; "
            f"run.json {publish['run_json_kb']:.0f} kB, report.html {publish['report_html_kb']:.0f} kB, "
            f"history line {publish['history_line_kb']:.1f} kB",
        )
    )
    for pack in results["quarter"]["packs"]:
        rows.append(
            (
                f"`build_pack`, {_many(pack['days'], 'day')} ({pack['runs']:,} runs, {pack['files']:,} files)",
                f"{pack['seconds']:.1f} s",
                f"{pack['pack_mb']:,.1f} MB",
                _mib(pack.get("traced_peak_mib")),
                _mib(pack["peak_rss_mib"]),
                f"from the {publish['runs']:,}-run directory; {_many(pack['incidents'], 'incident')}, "
                f"verdict {pack['status']}",
            )
        )
    verify = results["quarter"]["verify"]
    rows.append(
        (
            f"`verify_pack`, {results['quarter']['packs'][-1]['days']}-day pack",
            f"{verify['seconds']:.1f} s",
            f"{verify['checked']:,} files",
            "-",
            _mib(verify["peak_rss_mib"]),
            "every digest matches" if verify["ok"] else "MISMATCH",
        )
    )
    print()
    print("| what | wall | size | traced peak | peak RSS | notes |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(
        "publish, mean per run (ms): " + ", ".join(f"{label} {value}" for label, value in breakdown.items())
    )
    print(f"publish, RSS after N runs (MiB): {publish['rss_mib_after_runs']}")
    packs = [pack for pack in results["quarter"]["packs"] if pack.get("traced_peak_mib")]
    if len(packs) >= 2:
        small, large = packs[-2], packs[-1]
        print(
            f"build_pack, {large['runs']:,} vs {small['runs']:,} runs: traced peak "
            f"x{large['traced_peak_mib'] / small['traced_peak_mib']:.2f}, peak RSS "
            f"x{large['peak_rss_mib'] / small['peak_rss_mib']:.2f}"
        )
    indexes = results["index"]
    if len(indexes) >= 2:
        print(
            f"write_index, {indexes[-1]['lines']:,} vs {indexes[0]['lines']:,} lines: time "
            f"x{indexes[-1]['seconds'] / indexes[0]['seconds']:.1f}, traced peak "
            f"x{indexes[-1]['traced_peak_mib'] / indexes[0]['traced_peak_mib']:.2f}"
        )
    print(
        f"whole benchmark: {results['total_seconds']:.0f} s "
        f"(of which writing {max(row['lines'] for row in indexes):,} history lines "
        f"{results['history_lines_written_seconds']:.0f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark drill's report layer.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument(
        "--pack-runs", type=int, default=90 * 24, help="hourly runs published (default 2,160)"
    )
    parser.add_argument(
        "--index-lines",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1_000, 10_000, 100_000],
        help="history lengths for write_index, a comma list",
    )
    parser.add_argument(
        "--no-trace-pack", action="store_true", help="time build_pack only, without its traced repeat"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 96 runs, 1,000 and 5,000 lines")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        name, *rest = args.phase
        if name == "render":
            figures = phase_render(rest[0])
        elif name == "index":
            figures = phase_index(Path(rest[0]))
        elif name == "publish":
            figures = phase_publish(Path(rest[0]), int(rest[1]))
        elif name == "pack":
            figures = phase_pack(Path(rest[0]), int(rest[1]), Path(rest[2]), trace=args.trace)
        elif name == "verify":
            figures = phase_verify(Path(rest[0]))
        else:
            parser.error(f"unknown phase {name}")
        print(json.dumps(figures, default=str))
        return 0
    if args.quick:
        args.pack_runs, args.index_lines = 96, [1_000, 5_000]
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
