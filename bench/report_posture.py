"""The storage checks' findings of one synthetic run, each with the evidence type its check records:
copies_3_2_1 (the scorecard and the "0"), freshness, immutability, retention_lifecycle and
snapshot_sanity (see ``bench/reports.py``)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import timedelta

from bench.report_estate import EstateFacts, Moment
from drill.checks._immutability import S3Protection
from drill.checks.copies_3_2_1 import Score, ScorecardCopy, ScorecardEvidence, ZeroEvidence
from drill.checks.freshness import FreshnessEvidence
from drill.checks.immutability import ImmutabilityEvidence
from drill.checks.retention_lifecycle import IgnoredRule, LifecycleEvidence, RuleRow
from drill.checks.snapshot_sanity import SanityEvidence, SanityProblem
from drill.durations import format_duration
from drill.model import Finding, Severity, Status


def copies(facts: EstateFacts, moment: Moment, j: int, name: str, size: int) -> list[Finding]:
    estate = facts.estate
    rows = []
    for i in estate.targets_of(j):
        target = estate.target_name(i)
        stale = ("freshness", f"{name} / {target}") in moment.failing
        rows.append(
            ScorecardCopy(
                target=target,
                site=facts.site(i),
                media="s3",
                location=f"s3://{facts.bucket(i)}/pg",
                snapshot=facts.snapshot_key(name, moment.started),
                size=size,
                fresh=not stale,
                consistent=True,
                immutable=facts.locked(i),
                offsite=True,
                counted=not stale,
                why=f"stale: 1d 3h old, limit {format_duration(timedelta(hours=26))}" if stale else "counted",
            )
        )
    counted = [row for row in rows if row.counted]
    sites = {row.site for row in counted}
    score = Score(
        copies=len(sites),
        media=1,
        offsite=len(sites),
        immutable=len({row.site for row in counted if row.immutable}),
    )
    required = Score(copies=min(3, estate.targets_per_database), media=1, offsite=1, immutable=1)
    pairs = [
        (key, have, need) for (key, have), (_, need) in zip(score.counts(), required.counts(), strict=True)
    ]
    summary = ", ".join(f"{have}/{need} {key}" for key, have, need in pairs)
    short = [key for key, have, need in pairs if have < need]
    not_counted = [f"{row.target} ({row.why})" for row in rows if not row.counted]
    detail = f" Not counted: {'; '.join(not_counted)}." if not_counted else ""
    evidence = ScorecardEvidence(score=score, required=required, copies=tuple(rows))
    if short:
        card = facts.finding(
            "copies_3_2_1",
            Status.FAIL,
            f"3-2-1-1 not met: {summary}; short of {', '.join(short)}.{detail}",
            evidence,
            database=name,
        )
    else:
        card = facts.finding(
            "copies_3_2_1", Status.PASS, f"3-2-1-1 met: {summary}.{detail}", evidence, database=name
        )
    age = timedelta(hours=1, minutes=12)
    zero = facts.finding(
        "copies_3_2_1",
        Status.PASS,
        f"The '0' is met: a restore drill passed {format_duration(age)} ago.",
        ZeroEvidence(last_passing_drill=moment.started - age, age_seconds=round(age.total_seconds())),
        database=name,
    )
    return [card, zero]


def freshness(facts: EstateFacts, moment: Moment, name: str, i: int, rng: random.Random) -> Finding:
    target = facts.estate.target_name(i)
    stale = ("freshness", f"{name} / {target}") in moment.failing
    age = timedelta(hours=27, minutes=5) if stale else timedelta(minutes=rng.randrange(30, 90))
    key = facts.snapshot_key(name, moment.started - (age - timedelta(minutes=37)))
    evidence = FreshnessEvidence(
        snapshot=key,
        created_at=moment.started - age,
        age_seconds=round(age.total_seconds()),
        max_age_seconds=26 * 3600,
        snapshots=2_160 + moment.serial % 1000,
    )
    if stale:
        message = f"Newest snapshot {key} is {format_duration(age)} old, older than the limit of 1d 2h."
        return facts.finding("freshness", Status.FAIL, message, evidence, database=name, target=target)
    message = f"Newest snapshot {key} is {format_duration(age)} old (limit 1d 2h)."
    return facts.finding("freshness", Status.PASS, message, evidence, database=name, target=target)


def immutability(facts: EstateFacts, moment: Moment, i: int) -> Finding:
    target = facts.estate.target_name(i)
    bucket = facts.bucket(i)
    key = f"pg/{facts.estate.database_name(0)}/latest.dump"
    retain = moment.started + timedelta(days=30)
    locked = facts.locked(i) and ("immutability", target) not in moment.failing
    protection = S3Protection(
        versioning="Enabled",
        object_lock=locked,
        default_mode="COMPLIANCE" if locked else None,
        default_days=30 if locked else None,
        required_days=30,
        snapshot=key,
        version_id=hashlib.sha256(f"{i}{moment.serial}".encode()).hexdigest()[:32],
        object_lock_mode="COMPLIANCE" if locked else None,
        retain_until=retain if locked else None,
        legal_hold=False,
    )
    if locked:
        proofs = (
            "default retention COMPLIANCE 30 days",
            f"{key} locked in COMPLIANCE until {retain:%Y-%m-%d}",
        )
        evidence = ImmutabilityEvidence(proofs=proofs, problems=(), warnings=(), objects=(protection,))
        message = f"{target} is immutable: {'; '.join(proofs)}."
        return facts.finding("immutability", Status.PASS, message, evidence, target=target)
    problems = (
        f"bucket {bucket} does not have Object Lock enabled",
        f"the latest snapshot {key} carries no Object Lock retention "
        "(S3 shows it only to callers allowed s3:GetObjectRetention)",
    )
    evidence = ImmutabilityEvidence(proofs=(), problems=problems, warnings=(), objects=(protection,))
    message = f"{target} is not immutable: {'; '.join(problems)}."
    return facts.finding("immutability", Status.FAIL, message, evidence, target=target)


def retention(facts: EstateFacts, moment: Moment, i: int) -> Finding:
    target = facts.estate.target_name(i)
    too_soon = ("retention_lifecycle", target) in moment.failing
    days = 7 if too_soon else 90
    rule = RuleRow(
        rule_id="expire-old-dumps",
        prefix="pg/",
        expire_current_days=days,
        expire_noncurrent_days=days + 7,
        expire_on=None,
        delete_created_before=None,
        conditions_unknown=False,
        too_soon=("current", "noncurrent") if too_soon else (),
        raw={
            "ID": "expire-old-dumps",
            "Status": "Enabled",
            "Filter": {"Prefix": "pg/"},
            "Expiration": {"Days": days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": days + 7},
        },
    )
    ignored = IgnoredRule(
        rule_id="abort-multipart",
        reason="deletes nothing",
        raw={
            "ID": "abort-multipart",
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
    )
    evidence = LifecycleEvidence(
        min_retention_days=30.0,
        snapshot_patterns=(f"pg/{facts.estate.database_name(0)}/*.dump",),
        rules=(rule,),
        ignored=(ignored,),
    )
    if too_soon:
        message = (
            f"Lifecycle rules on target {target} would delete snapshots sooner than min_retention "
            f"(30 days): rule 'expire-old-dumps' expires current versions after {days} days, "
            "sooner than the 30 days required."
        )
        return facts.finding(
            "retention_lifecycle",
            Status.FAIL,
            message,
            replace(evidence, offending=("expire-old-dumps",)),
            target=target,
        )
    message = (
        f"Lifecycle rule 'expire-old-dumps' on target {target} deletes snapshots no sooner than "
        "min_retention (30 days)."
    )
    return facts.finding("retention_lifecycle", Status.PASS, message, evidence, target=target)


def sanity(facts: EstateFacts, moment: Moment, name: str, i: int, size: int) -> Finding:
    target = facts.estate.target_name(i)
    key = facts.snapshot_key(name, moment.started)
    previous = int(size / (moment.size_factor or {}).get(name, 1.0) * 0.998)
    evidence = SanityEvidence(
        snapshot=key,
        size=size,
        previous=facts.snapshot_key(name, moment.started - timedelta(hours=1)),
        previous_size=previous,
        ratio=round(size / previous, 4),
        max_size_drop=0.5,
        head_size=size,
        sidecar=f"{key}.sha256",
        sidecar_verdict="deferred",
        sidecar_algorithm="sha256",
        sidecar_digest=hashlib.sha256(f"{key}{size}".encode()).hexdigest(),
        verified_by="restore download",
    )
    if size < previous * 0.5:
        message = (
            f"The latest snapshot {key} on {target} is {size:,} bytes, down from {previous:,} "
            f"({1 - size / previous:.0%} smaller; at most 50% allowed)."
        )
        return facts.finding(
            "snapshot_sanity",
            Status.FAIL,
            message,
            replace(evidence, problems=(SanityProblem("shrank", Severity.CRITICAL, message),)),
            severity=Severity.CRITICAL,
            database=name,
            target=target,
        )
    message = (
        f"The latest snapshot {key} on {target} is {size:,} bytes, listed and stored sizes agree; "
        f"sidecar {key}.sha256 is verified when a restore drill downloads it."
    )
    return facts.finding("snapshot_sanity", Status.PASS, message, evidence, database=name, target=target)
