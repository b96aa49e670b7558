"""copies_3_2_1: the 3-2-1-1-0 scorecard of one database, counted from evidence on each copy.

A copy counts when it holds the database's newest snapshot, is fresh, and agrees with the other
copies (same size, same MD5 where two stores expose one). Copies that share a site or a physical
location (one bucket, one directory) are one failure domain and count once. Production never
counts. A copy whose facts could not be read is unknown: the scorecard is then ``error`` rather
than ``fail`` if the shortfall might be those unknown copies.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from drill.checks._immutability import judge
from drill.durations import format_duration
from drill.facts import DatabaseFacts, DatabaseTargetFacts, FactUnavailable
from drill.model import (
    PROOF_WINDOW,
    Control,
    CouldNotVerify,
    Evidence,
    Scope,
    Severity,
    Snapshot,
    Status,
    Unavailable,
)
from drill.registry import Outcome, check


@dataclass(frozen=True)
class Score:
    """The four counts of 3-2-1-1: copies, kinds of media, copies offsite, immutable copies."""

    copies: int
    media: int
    offsite: int
    immutable: int

    def counts(self) -> tuple[tuple[str, int], ...]:
        return (
            ("copies", self.copies),
            ("media", self.media),
            ("offsite", self.offsite),
            ("immutable", self.immutable),
        )


@dataclass(frozen=True)
class ScorecardCopy:
    """One target's copy of the newest snapshot, and why it counted or not."""

    target: str
    site: str
    media: str
    location: str
    snapshot: str | None
    size: int | None
    fresh: bool
    consistent: bool
    immutable: bool | None  # None: could not be verified
    offsite: bool
    counted: bool
    why: str


@dataclass(frozen=True)
class ScorecardEvidence(Evidence):
    """The 3-2-1-1 scorecard: what was counted against what the policy requires, copy by copy."""

    kind: ClassVar[str] = "copies_3_2_1.scorecard"
    score: Score
    required: Score
    copies: tuple[ScorecardCopy, ...]


@dataclass(frozen=True)
class ZeroEvidence(Evidence):
    """The "0": when a restore drill of the database last passed, and how long ago."""

    kind: ClassVar[str] = "copies_3_2_1.zero"
    last_passing_drill: datetime | None  # None: no drill of it ever passed
    age_seconds: int | None = None


@dataclass
class Copy:
    """One target's copy of the newest snapshot, and why it counted or not."""

    facts: DatabaseTargetFacts
    snapshot: Snapshot | None = None
    unknown: str | None = None
    fresh: bool = False
    consistent: bool = False
    immutable: bool | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        return self.snapshot is not None and self.fresh and self.consistent

    def evidence(self) -> ScorecardCopy:
        target = self.facts.target
        return ScorecardCopy(
            target=target.name,
            site=target.site,
            media=target.effective_media,
            location=target.location,
            snapshot=self.snapshot.key if self.snapshot else None,
            size=self.snapshot.size if self.snapshot else None,
            fresh=self.fresh,
            consistent=self.consistent,
            immutable=self.immutable,
            offsite=target.site != self.facts.database.site,
            counted=self.counted,
            why="; ".join(self.reasons) or ("counted" if self.counted else self.unknown or ""),
        )


def relative_key(facts: DatabaseTargetFacts, key: str) -> str:
    prefix = facts.target.prefix.strip("/")
    return key[len(prefix) + 1 :] if prefix and key.startswith(prefix + "/") else key


def md5_hex(copy: DatabaseTargetFacts) -> str | None:
    """The latest snapshot's MD5 as hex, from its HEAD read: an S3 single-part ETag or GCS md5Hash.

    Listing ETags are not used: only HEAD says whether SSE-KMS made the ETag something else.
    """
    protection = copy.protection
    if protection is None or isinstance(protection, Unavailable):
        return None
    etag = protection.checksums.get("etag")
    if etag and len(etag) == 32 and "-" not in etag:
        return etag.lower()
    encoded = protection.checksums.get("md5")
    if encoded:
        try:
            return base64.b64decode(encoded, validate=True).hex()
        except (binascii.Error, ValueError):
            return None
    return None


def _survey(facts: DatabaseFacts) -> list[Copy]:
    copies = [Copy(copy) for copy in facts.copies]
    for copy in copies:
        if isinstance(copy.facts.listing, Unavailable):
            copy.unknown = copy.facts.listing.reason
        elif copy.facts.listing.latest is None:
            copy.reasons.append("holds no snapshot")
        else:
            copy.snapshot = copy.facts.listing.latest
    for copy in copies:
        if copy.facts.repository is not None and copy.snapshot is not None:
            _judge_repository(copy)
            _judge_freshness(copy)
            _judge_immutability(copy)
    # Dump copies are compared with each other; each pgBackRest repository holds backups of its own.
    present = [copy for copy in copies if copy.snapshot is not None and copy.facts.repository is None]
    if not present:
        return copies
    newest = max(present, key=lambda copy: copy.snapshot.created_at if copy.snapshot else facts.now)
    name = relative_key(newest.facts, newest.snapshot.key if newest.snapshot else "")
    for copy in present:
        assert copy.snapshot is not None
        if relative_key(copy.facts, copy.snapshot.key) != name:
            copy.reasons.append(f"its latest is {copy.snapshot.key}, not the newest snapshot {name}")
            copy.snapshot = None
    _judge_consistency([copy for copy in copies if copy.snapshot is not None])
    for copy in copies:
        if copy.snapshot is not None and copy.facts.repository is None:
            _judge_freshness(copy)
            _judge_immutability(copy)
    return copies


def _judge_repository(copy: Copy) -> None:
    """A repository's latest backup is consistent when pgBackRest found no checksum error in it and
    the WAL it needs to be consistent is in the archive."""
    repository = copy.facts.repository
    if isinstance(repository, Unavailable) or repository is None or repository.latest is None:
        copy.unknown = repository.reason if isinstance(repository, Unavailable) else None
        copy.snapshot = None
        return
    latest = repository.latest
    archive = repository.archive
    if latest.error:
        copy.reasons.append(f"backup {latest.label} has page checksum errors")
    elif isinstance(archive, Unavailable):
        copy.unknown = archive.reason
        copy.snapshot = None
    elif archive.backup_range_missing:
        copy.reasons.append(f"the WAL backup {latest.label} needs lacks {archive.backup_range_missing[0]}")
    else:
        copy.consistent = True


def _judge_consistency(holders: list[Copy]) -> None:
    sizes = Counter(copy.snapshot.size for copy in holders if copy.snapshot)
    # The most common size wins; on a tie the larger, because truncation only ever shrinks.
    size = max(sizes, key=lambda value: (sizes[value], value)) if sizes else 0
    digests = Counter(digest for copy in holders if (digest := md5_hex(copy.facts)))
    digest = max(digests, key=lambda value: digests[value]) if digests else None
    for copy in holders:
        assert copy.snapshot is not None
        own = md5_hex(copy.facts)
        if copy.snapshot.size != size:
            copy.reasons.append(f"size {copy.snapshot.size} differs from {size} on the other copies")
        elif digest and own and own != digest:
            copy.reasons.append(f"MD5 {own} differs from {digest} on the other copies")
        else:
            copy.consistent = True


def _judge_freshness(copy: Copy) -> None:
    assert copy.snapshot is not None
    age = copy.facts.now - copy.snapshot.created_at
    copy.fresh = age <= copy.facts.policy.max_age
    if not copy.fresh:
        copy.reasons.append(
            f"stale: {format_duration(age)} old, limit {format_duration(copy.facts.policy.max_age)}"
        )


def _judge_immutability(copy: Copy) -> None:
    posture, protection = copy.facts.posture, copy.facts.protection
    if isinstance(posture, Unavailable) or isinstance(protection, Unavailable):
        copy.immutable = None  # unknown: never counted, and it makes a shortfall an error
        return
    try:
        copy.immutable = judge(copy.facts.target, posture, protection, copy.facts.policy).proven
    except FactUnavailable:  # one part of the posture could not be read
        copy.immutable = None


def _domains(counted: list[Copy]) -> list[list[Copy]]:
    """Group copies into failure domains: a shared site or a shared location joins them."""
    domains: list[list[Copy]] = []
    for copy in counted:
        target = copy.facts.target
        joined = [
            d
            for d in domains
            if any(
                o.facts.target.site == target.site or o.facts.target.location == target.location for o in d
            )
        ]
        merged = [copy] + [member for domain in joined for member in domain]
        domains = [d for d in domains if d not in joined] + [merged]
    return domains


@check(
    "copies_3_2_1",
    severity=Severity.HIGH,
    scope=Scope.DATABASE,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2, Control.SOC2_A1_3),
    remediation=(
        "Add copies in separate failure domains (another account or project, another region or site), "
        "on another kind of storage, with at least one locked in COMPLIANCE mode."
    ),
    evidence=(ScorecardEvidence, ZeroEvidence),
)
def copies_3_2_1(facts: DatabaseFacts) -> Iterator[Outcome]:
    """The newest snapshot exists in enough separate, fresh, consistent and immutable copies."""
    copies = _survey(facts)
    counted = [copy for copy in copies if copy.counted]
    domains = _domains(counted)
    policy = facts.policy
    score = Score(
        copies=len(domains),
        media=len({copy.facts.target.effective_media for copy in counted}),
        offsite=sum(any(c.facts.target.site != facts.database.site for c in domain) for domain in domains),
        immutable=sum(any(c.immutable for c in domain) for domain in domains),
    )
    required = Score(
        copies=policy.copies, media=policy.media, offsite=policy.offsite, immutable=policy.immutable
    )
    pairs = [
        (name, have, need) for (name, have), (_, need) in zip(score.counts(), required.counts(), strict=True)
    ]
    short = [name for name, have, need in pairs if have < need]
    summary = ", ".join(f"{have}/{need} {name}" for name, have, need in pairs)
    rows = [copy.evidence() for copy in copies]
    not_counted = [f"{row.target} ({row.why})" for row in rows if not row.counted]
    unknown = [copy for copy in copies if copy.unknown or (copy.counted and copy.immutable is None)]
    evidence = ScorecardEvidence(score=score, required=required, copies=tuple(rows))
    detail = f" Not counted: {'; '.join(not_counted)}." if not_counted else ""
    if not short:
        yield Outcome.passed(f"3-2-1-1 met: {summary}.{detail}", evidence)
    elif unknown:
        names = ", ".join(copy.facts.target.name for copy in unknown)
        yield Outcome.errored(
            f"3-2-1-1 not verified: {summary}, and {names} could not be read.{detail}", evidence
        )
    else:
        worst = score.copies == 0 or (required.immutable > 0 and score.immutable == 0)
        yield Outcome(
            Status.FAIL,
            f"3-2-1-1 not met: {summary}; short of {', '.join(short)}.{detail}",
            evidence,
            Severity.CRITICAL if worst else None,
        )
    yield _zero(facts)


def _zero(facts: DatabaseFacts) -> Outcome:
    """The "0": a restore drill of this database passed with zero errors within the proof window."""
    if isinstance(facts.last_passing_drill, Unavailable):
        # Only the "0" is unknown: the scorecard above stands on its own evidence.
        return Outcome.errored(
            f"The '0' could not be verified: {facts.last_passing_drill.reason}",
            CouldNotVerify(facts.last_passing_drill.reason),
        )
    last = facts.last_passing_drill
    window = f"{PROOF_WINDOW.days} days"
    if last is None:
        return Outcome.failed(
            f"The '0' is not met: no restore drill of {facts.database.name} has ever passed; "
            "a backup is proven only by restoring it (drill run).",
            ZeroEvidence(last_passing_drill=None),
        )
    age = facts.now - last
    evidence = ZeroEvidence(last_passing_drill=last, age_seconds=round(age.total_seconds()))
    if age > PROOF_WINDOW:
        return Outcome.failed(
            f"The '0' is not met: the last passing restore drill was {format_duration(age)} ago, over {window}.",
            evidence,
        )
    return Outcome.passed(f"The '0' is met: a restore drill passed {format_duration(age)} ago.", evidence)
