"""Snapshot listings: match a pattern while streaming a store's listing, keeping memory flat.

A target may hold tens of thousands of snapshots; only their count, the newest few, the oldest,
the newest few checksum sidecars and the first few links met are kept, so memory does not grow
with the listing.
"""

from __future__ import annotations

import fnmatch
import heapq
import re
from dataclasses import dataclass, field

from drill.config import Target
from drill.facts import Sidecar, SnapshotListing, full_pattern
from drill.model import EntryKind, Snapshot, UnfollowedEntry
from drill.storage.base import SIDECAR_SUFFIXES, Store

KEEP_NEWEST = 3
# Sidecars are written beside their snapshot, so the newest few sidecars cover the newest snapshots.
KEEP_SIDECARS = 2 * KEEP_NEWEST
SIDECAR_LIMIT = 4096
KEEP_UNFOLLOWED = 20  # links named in a finding; the rest are counted
_GLOB_CHARACTERS = "*?["
_ALGORITHMS = {".sha256": ("sha256", 64), ".sha256sum": ("sha256", 64), ".md5": ("md5", 32)}


@dataclass
class _Newest:
    """The ``size`` newest snapshots seen so far, by (time, key), in O(size) memory."""

    size: int
    heap: list[tuple[float, str, Snapshot]] = field(default_factory=list)

    def offer(self, snapshot: Snapshot) -> None:
        item = (snapshot.created_at.timestamp(), snapshot.key, snapshot)
        if len(self.heap) < self.size:
            heapq.heappush(self.heap, item)
        elif item[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, item)

    def newest_first(self) -> tuple[Snapshot, ...]:
        return tuple(item[2] for item in sorted(self.heap, key=lambda item: item[:2], reverse=True))


def list_snapshots(store: Store, target: Target, pattern: str) -> SnapshotListing:
    """Stream the target's listing once; keep the count, the newest snapshots and the newest sidecars."""
    wanted = full_pattern(target, pattern)
    first_glob = min((wanted.find(c) for c in _GLOB_CHARACTERS if c in wanted), default=len(wanted))
    sidecars_are_snapshots = wanted.endswith(SIDECAR_SUFFIXES)
    snapshots, sidecars, count = _Newest(KEEP_NEWEST), _Newest(KEEP_SIDECARS), 0
    oldest: Snapshot | None = None
    unfollowed: list[UnfollowedEntry] = []
    unfollowed_count = 0
    for item in store.iter_objects(wanted[:first_glob]):
        if isinstance(item, UnfollowedEntry):
            if _where_a_snapshot_could_be(item, wanted, wanted[:first_glob]):
                unfollowed_count += 1
                if len(unfollowed) < KEEP_UNFOLLOWED:
                    unfollowed.append(item)
        elif not sidecars_are_snapshots and item.key.endswith(SIDECAR_SUFFIXES):
            base = item.key[: item.key.rfind(".")]
            if fnmatch.fnmatchcase(base, wanted):
                sidecars.offer(item)
        elif fnmatch.fnmatchcase(item.key, wanted):
            count += 1
            snapshots.offer(item)
            if oldest is None or (item.created_at, item.key) < (oldest.created_at, oldest.key):
                oldest = item
    return SnapshotListing(
        pattern=wanted,
        count=count,
        newest=snapshots.newest_first(),
        sidecar_keys=frozenset(sidecar.key for sidecar in sidecars.newest_first()),
        oldest=oldest,
        unfollowed=tuple(sorted(unfollowed, key=lambda entry: entry.key)),
        unfollowed_count=unfollowed_count,
    )


def _where_a_snapshot_could_be(entry: UnfollowedEntry, wanted: str, literal: str) -> bool:
    """A link to a file, or a special file, that the pattern matches; a link to a directory on the way
    to the snapshots or below it (a pattern's ``*`` matches across ``/``)."""
    if entry.kind is EntryKind.DIRECTORY_LINK:
        return entry.key.startswith(literal) or literal.startswith(f"{entry.key}/")
    return fnmatch.fnmatchcase(entry.key, wanted)


def sidecar_key(listing: SnapshotListing, snapshot: Snapshot) -> str | None:
    return next(
        (snapshot.key + s for s in SIDECAR_SUFFIXES if snapshot.key + s in listing.sidecar_keys), None
    )


def parse_sidecar(key: str, body: bytes) -> Sidecar:
    """``sha256sum`` output or a bare digest; raise ValueError when the file holds neither."""
    suffix = key[key.rfind(".") :]
    algorithm, length = _ALGORITHMS[suffix]
    text = body.decode("utf-8", errors="replace").strip()
    match = re.match(rf"^([0-9a-fA-F]{{{length}}})\b", text)
    if match is None:
        raise ValueError(f"Sidecar {key} does not start with a {algorithm} digest.")
    return Sidecar(key=key, algorithm=algorithm, digest=match.group(1).lower())
