"""snapshot_sanity: the latest snapshot is not empty, not truncated, and has not collapsed in size.

An empty or collapsed backup synced over a good one is how teams lose data without noticing:
the job "succeeded", the rotation pruned the good copies, and the restore finds nothing. These
findings are critical on purpose.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from drill.facts import DatabaseTargetFacts, ObjectProtection, Sidecar, Unavailable, known
from drill.model import Control, Evidence, Scope, Severity, Snapshot, Status
from drill.registry import Outcome, check

_ETAG_MD5 = re.compile(r"[0-9a-f]{32}")
_SEVERITY_ORDER = list(Severity)


@dataclass(frozen=True)
class SanityProblem:
    """One thing wrong with the latest snapshot: empty, shrank, size_mismatch or sidecar_mismatch."""

    problem: str
    severity: Severity
    message: str


SidecarVerdict = Literal["none", "deferred", "match", "mismatch"]


@dataclass(frozen=True)
class SanityEvidence(Evidence):
    """The latest snapshot's size against the one before it and the store's HEAD, and its sidecar.

    The HEAD and sidecar fields are None when the snapshot's metadata was not read.
    """

    kind: ClassVar[str] = "snapshot_sanity"
    snapshot: str
    size: int
    previous: str | None
    previous_size: int | None
    ratio: float | None
    max_size_drop: float
    head_size: int | None = None
    sidecar: str | None = None
    sidecar_verdict: SidecarVerdict | None = None
    sidecar_algorithm: str | None = None
    sidecar_digest: str | None = None
    verified_by: str | None = None  # who checks a sidecar the store has no digest to compare with
    store_digest: str | None = None
    compared_with: str | None = None  # sha256, md5 or etag: the store's digest the sidecar met
    problems: tuple[SanityProblem, ...] = ()
    not_verified: tuple[str, ...] = ()  # facts that could not be read beside a problem already found


@dataclass(frozen=True)
class NoSnapshotEvidence(Evidence):
    """No snapshot on the target matches the database's pattern."""

    kind: ClassVar[str] = "snapshot_sanity.no_snapshot"
    pattern: str


@dataclass(frozen=True)
class _StoreDigest:
    """A digest the store recorded, as lowercase hex, and where it came from."""

    source: str  # sha256 | md5 | etag: the key in ObjectProtection.checksums
    hex: str


@check(
    "snapshot_sanity",
    severity=Severity.HIGH,
    scope=Scope.DATABASE_TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Stop the sync, rotation or pruning that would overwrite or expire the good earlier snapshots, "
        "then investigate the backup job that wrote this one (disk full, failed dump, interrupted upload) "
        "and rerun it."
    ),
    evidence=(SanityEvidence, NoSnapshotEvidence),
)
def snapshot_sanity(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """Latest snapshot is not empty, truncated or collapsed against the one before it."""
    if facts.repository is not None:
        # A differential or incremental backup is meant to be a fraction of the full one before it.
        yield Outcome.skipped(
            f"{facts.target.name} is a pgBackRest repository: its backups are judged by pgbackrest_backups "
            "(checksum errors) and pgbackrest_wal (the WAL they need), not by their sizes."
        )
        return
    listing = known(facts.listing)
    latest, previous = listing.latest, listing.previous
    if latest is None:
        yield Outcome.skipped(
            f"No snapshot of {facts.database.name} matches {listing.pattern!r} on {facts.target.name}; "
            "freshness already fails this target, so there is nothing to judge here.",
            NoSnapshotEvidence(pattern=listing.pattern),
        )
        return

    max_drop = facts.policy.max_size_drop
    evidence = SanityEvidence(
        snapshot=latest.key,
        size=latest.size,
        previous=previous.key if previous else None,
        previous_size=previous.size if previous else None,
        ratio=round(latest.size / previous.size, 4) if previous and previous.size else None,
        max_size_drop=max_drop,
    )
    problems = _listing_problems(latest, previous, max_drop)

    # What the listing alone shows is enough to fail loudly; an unreadable HEAD or sidecar must not
    # hide an empty backup behind an "error". Without such a problem, it is an error via known().
    unreadable = [fact.reason for fact in (facts.protection, facts.sidecar) if isinstance(fact, Unavailable)]
    if problems and unreadable:
        yield _failed(problems, evidence, not_verified=tuple(unreadable))
        return
    protection = known(facts.protection)
    sidecar = known(facts.sidecar)
    if protection is None:
        yield Outcome.errored(
            f"The metadata of {latest.key} on {facts.target.name} was not read; "
            "its size and checksums cannot be verified.",
            evidence,
        )
        return

    problems.extend(_head_problems(latest, protection))
    evidence, sidecar_problem = _judge_sidecar(
        latest, protection, sidecar, replace(evidence, head_size=protection.size)
    )
    if sidecar_problem is not None:
        problems.append(sidecar_problem)

    if problems:
        yield _failed(problems, evidence)
        return
    yield Outcome.passed(_sane_message(latest, previous, sidecar, evidence), evidence)


def _listing_problems(latest: Snapshot, previous: Snapshot | None, max_drop: float) -> list[SanityProblem]:
    if latest.size == 0:
        before = f"; {previous.key} before it holds {_size(previous.size)}" if previous else ""
        return [
            SanityProblem(
                "empty", Severity.CRITICAL, f"Latest snapshot {latest.key} is empty (0 bytes){before}."
            )
        ]
    if previous is not None and latest.size < previous.size * (1 - max_drop):
        drop = 1 - latest.size / previous.size
        return [
            SanityProblem(
                "shrank",
                Severity.CRITICAL,
                f"Latest snapshot {latest.key} ({_size(latest.size)}) shrank by {_percent(drop)} against "
                f"{previous.key} ({_size(previous.size)}) before it; max_size_drop allows {_percent(max_drop)}.",
            )
        ]
    return []


def _head_problems(latest: Snapshot, protection: ObjectProtection) -> list[SanityProblem]:
    if protection.size == latest.size:
        return []
    if protection.size == 0:
        return [
            SanityProblem(
                "empty",
                Severity.CRITICAL,
                f"Latest snapshot {latest.key} was listed at {latest.size:,} bytes but the store now "
                "records 0 bytes: it was replaced by an empty object.",
            )
        ]
    return [
        SanityProblem(
            "size_mismatch",
            Severity.HIGH,
            f"Latest snapshot {latest.key} was listed at {latest.size:,} bytes but the store records "
            f"{protection.size:,} bytes: it is truncated or was replaced during listing.",
        )
    ]


def _sha256_digest(checksums: Mapping[str, str]) -> _StoreDigest | None:
    digest = _hex_of_base64(checksums.get("sha256"), 32)
    return _StoreDigest("sha256", digest) if digest else None


def _md5_digest(checksums: Mapping[str, str]) -> _StoreDigest | None:
    digest = _hex_of_base64(checksums.get("md5"), 16)  # GCS md5Hash
    if digest:
        return _StoreDigest("md5", digest)
    # An S3 ETag is the MD5 of the object only for a single-part upload ("...-N" marks multipart).
    etag = checksums.get("etag", "").strip('"').lower()
    return _StoreDigest("etag", etag) if _ETAG_MD5.fullmatch(etag) else None


_STORE_DIGESTS: dict[str, Callable[[Mapping[str, str]], _StoreDigest | None]] = {
    "sha256": _sha256_digest,
    "md5": _md5_digest,
}
_SOURCES = {
    "sha256": "the SHA-256 checksum the store recorded",
    "md5": "the MD5 hash the store recorded",
    "etag": "the single-part S3 ETag (an MD5)",
}


def _judge_sidecar(
    latest: Snapshot, protection: ObjectProtection, sidecar: Sidecar | None, evidence: SanityEvidence
) -> tuple[SanityEvidence, SanityProblem | None]:
    """Compare the sidecar with a digest the store recorded; the evidence gains the verdict."""
    if sidecar is None:
        return replace(evidence, sidecar=None, sidecar_verdict="none"), None
    evidence = replace(
        evidence, sidecar=sidecar.key, sidecar_algorithm=sidecar.algorithm, sidecar_digest=sidecar.digest
    )
    digest_of = _STORE_DIGESTS.get(sidecar.algorithm)
    stored = digest_of(protection.checksums) if digest_of else None
    if stored is None:
        return replace(evidence, sidecar_verdict="deferred", verified_by="restore download"), None
    evidence = replace(evidence, store_digest=stored.hex, compared_with=stored.source)
    if stored.hex == sidecar.digest:
        return replace(evidence, sidecar_verdict="match"), None
    evidence = replace(evidence, sidecar_verdict="mismatch")
    caveat = (
        " (an ETag is not the MD5 of an SSE-KMS or SSE-C encrypted object; check the bucket's encryption)"
        if stored.source == "etag"
        else ""
    )
    return evidence, SanityProblem(
        "sidecar_mismatch",
        Severity.CRITICAL,
        f"Sidecar {sidecar.key} promises {sidecar.algorithm} {sidecar.digest} but "
        f"{_SOURCES[stored.source]} for {latest.key} is {stored.hex}: the stored object is not the one "
        f"the backup job hashed{caveat}.",
    )


def _failed(
    problems: list[SanityProblem], evidence: SanityEvidence, not_verified: tuple[str, ...] = ()
) -> Outcome:
    worst = max((problem.severity for problem in problems), key=_SEVERITY_ORDER.index)
    message = " ".join(problem.message for problem in problems)
    for reason in not_verified:
        message += f" Not verified: {reason.rstrip('.')}."
    return Outcome(
        Status.FAIL,
        message,
        replace(evidence, problems=tuple(problems), not_verified=not_verified),
        severity=worst,
    )


def _sane_message(
    latest: Snapshot, previous: Snapshot | None, sidecar: Sidecar | None, evidence: SanityEvidence
) -> str:
    parts = [f"Latest snapshot {latest.key} holds {_size(latest.size)}, as the store records it"]
    if previous is not None and previous.size:
        parts.append(
            f"{_percent(latest.size / previous.size)} of the {_size(previous.size)} of {previous.key} before it"
        )
    if sidecar is not None and evidence.sidecar_verdict == "match" and evidence.compared_with:
        parts.append(f"sidecar {sidecar.key} matches {_SOURCES[evidence.compared_with]}")
    elif sidecar is not None:
        parts.append(
            f"sidecar {sidecar.key} has no digest recorded by the store to compare with; "
            "the restore drill verifies it when it downloads the snapshot"
        )
    return "; ".join(parts) + "."


def _hex_of_base64(value: str | None, length: int) -> str | None:
    """The lowercase hex of a base64-encoded raw digest of ``length`` bytes, or None if it is not one."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == length else None


def _size(size: int) -> str:
    value, unit = float(size), "B"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}".rstrip("0").rstrip(".") + "%"
