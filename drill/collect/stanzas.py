"""Expand each pgbackrest target into its repositories, each one copy, before storage is read.

A repository is judged as a target of the kind its storage is (an s3 or gcs bucket under the
repository's path, a local directory), so the bucket's posture, lifecycle rules and trust are
read and judged as any such target's; its backups become the copy's listing, each named by its
manifest (a real object, whose lock state the store reads). The stanzas are read concurrently,
each pgBackRest command bounded by the run's timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from drill.config import Target, TargetType
from drill.facts import SnapshotListing, StanzaRepo, full_pattern
from drill.model import Snapshot, Unavailable
from drill.storage.pgbackrest.stanza import RepoCopy, read_stanza

_NEWEST_KEPT = 5  # as a dump listing keeps: the newest few, and the oldest


@dataclass(frozen=True)
class Stanzas:
    """Each pgbackrest target's copies, by the configured target's name."""

    copies: Mapping[str, tuple[RepoCopy, ...]]

    def is_stanza(self, name: str) -> bool:
        return name in self.copies

    def targets(self, configured: tuple[Target, ...]) -> tuple[Target, ...]:
        """The targets storage reads: dump targets as configured, each stanza's repositories in its place."""
        expanded: list[Target] = []
        for target in configured:
            if target.name in self.copies:
                expanded.extend(copy.target for copy in self.copies[target.name])
            else:
                expanded.append(target)
        return tuple(expanded)

    def unreadable(self) -> dict[str, Unavailable]:
        """Copies whose storage drill cannot open, with the reason (the rest are opened as any target)."""
        return {
            copy.target.name: copy.storage
            for copies in self.copies.values()
            for copy in copies
            if copy.storage is not None
        }

    def listings(self) -> dict[tuple[str, str], SnapshotListing | Unavailable]:
        """Each copy's backups as the listing of the pair (copy name, stanza pattern)."""
        return {
            (copy.target.name, stanza_pattern(copy)): backups_listing(copy)
            for copies in self.copies.values()
            for copy in copies
        }


def stanza_pattern(copy: RepoCopy) -> str:
    """What the copy's listing covers: the stanza's backups in the repository."""
    stanza = copy.repo.stanza if isinstance(copy.repo, StanzaRepo) else "*"
    return f"backup/{stanza}/*"


def backups_listing(copy: RepoCopy) -> SnapshotListing | Unavailable:
    """The repository's backups as snapshots: key = the manifest below the repository's path, size =
    what the backup takes in the repository, time = when it stopped."""
    repo = copy.repo
    if isinstance(repo, Unavailable):
        return repo
    base = copy.target if copy.target.type is not TargetType.PGBACKREST else None
    snapshots = [
        Snapshot(
            key=_key(base, f"backup/{repo.stanza}/{backup.label}/backup.manifest"),
            size=backup.repo_size,
            created_at=backup.stopped_at,
        )
        for backup in repo.backups
    ]
    return SnapshotListing(
        pattern=stanza_pattern(copy),
        count=len(snapshots),
        newest=tuple(reversed(snapshots[-_NEWEST_KEPT:])),
        oldest=snapshots[0] if snapshots else None,
    )


def _key(target: Target | None, relative: str) -> str:
    return (
        full_pattern(target, relative)
        if target is not None and target.type is not TargetType.FILESYSTEM
        else relative
    )


def read_stanzas(
    targets: tuple[Target, ...], environ: Mapping[str, str], *, timeout: float, concurrency: int
) -> Stanzas:
    """Every pgbackrest target's copies; a stanza that cannot be read is one copy that says why."""
    stanzas = [target for target in targets if target.type is TargetType.PGBACKREST]
    if not stanzas:
        return Stanzas({})
    with ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(stanzas))), thread_name_prefix="drill-stanza"
    ) as pool:
        futures = [(target, pool.submit(read_stanza, target, environ, timeout=timeout)) for target in stanzas]
        return Stanzas({target.name: _settled(target, future) for target, future in futures})


def _settled(target: Target, future: Future[tuple[RepoCopy, ...]]) -> tuple[RepoCopy, ...]:
    try:
        return future.result()
    except Exception as error:  # a bug or a surprise in one stanza must not cost the run its other targets
        reason = Unavailable(f"Stanza {target.stanza} could not be read: {type(error).__name__}: {error}")
        return (RepoCopy(target, reason, reason),)
