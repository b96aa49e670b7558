"""Collect facts from storage, concurrently with a bound, before any check runs.

Every read that fails becomes an ``Unavailable`` carrying the reason, so that the checks that
needed it report ``error`` with that reason instead of a verdict.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from drill.config import Config, Database, Policy, Target
from drill.facts import DatabaseFacts, DatabaseTargetFacts, SnapshotListing, TargetFacts, Unavailable
from drill.model import Snapshot
from drill.storage import StorageError, Store, open_store
from drill.storage.base import SIDECAR_SUFFIXES

KEEP_NEWEST = 3
_GLOB_CHARACTERS = "*?["

T = TypeVar("T")


@dataclass(frozen=True)
class CollectedFacts:
    targets: tuple[TargetFacts, ...]
    databases: tuple[DatabaseFacts, ...]
    database_targets: tuple[DatabaseTargetFacts, ...]


def full_pattern(target: Target, pattern: str) -> str:
    """The snapshot pattern below the target's prefix; a prefix is a folder, so it ends with '/'."""
    prefix = target.prefix.strip("/")
    return f"{prefix}/{pattern.lstrip('/')}" if prefix else pattern.lstrip("/")


def list_snapshots(store: Store, target: Target, pattern: str) -> SnapshotListing:
    """Stream the target's listing and keep only the count and the newest few matches."""
    wanted = full_pattern(target, pattern)
    first_glob = min((wanted.find(c) for c in _GLOB_CHARACTERS if c in wanted), default=len(wanted))
    keeps_sidecars = wanted.endswith(SIDECAR_SUFFIXES)
    counter = itertools.count()

    def matching() -> Iterator[Snapshot]:
        for snapshot in store.iter_objects(wanted[:first_glob]):
            if not keeps_sidecars and snapshot.key.endswith(SIDECAR_SUFFIXES):
                continue
            if fnmatch.fnmatchcase(snapshot.key, wanted):
                next(counter)
                yield snapshot

    newest = heapq.nlargest(KEEP_NEWEST, matching(), key=lambda snapshot: (snapshot.created_at, snapshot.key))
    return SnapshotListing(pattern=wanted, count=next(counter), newest=tuple(newest))


def strictest(policies: list[Policy], default: Policy) -> Policy:
    """A target that holds several databases must satisfy the longest retention any of them asks."""
    if not policies:
        return default
    longest = max(policies, key=lambda policy: policy.min_retention)
    lenient = all(policy.governance_is_warning for policy in policies)
    return longest.model_copy(update={"governance_is_warning": lenient})


def _attempt(action: Callable[[], T]) -> T | Unavailable:
    try:
        return action()
    except StorageError as error:
        return Unavailable(str(error))
    except Exception as error:  # an SDK error we did not map (credentials missing, DNS): keep the reason
        return Unavailable(f"{type(error).__name__}: {error}")


class _Stores:
    """Opens each target's store once, on first use; a store that cannot be opened is Unavailable."""

    def __init__(self, targets: tuple[Target, ...], environ: Mapping[str, str]) -> None:
        self._opened: dict[str, Store | Unavailable] = {
            target.name: _attempt(partial(open_store, target, environ)) for target in targets
        }

    def get(self, name: str) -> Store | Unavailable:
        return self._opened[name]

    def close(self) -> None:
        for store in self._opened.values():
            if not isinstance(store, Unavailable):
                store.close()


def collect(
    config: Config,
    now: datetime,
    *,
    environ: Mapping[str, str],
    concurrency: int = 8,
    databases: tuple[Database, ...] | None = None,
) -> CollectedFacts:
    selected = config.databases if databases is None else databases
    used = {name for database in selected for name in database.targets}
    targets = tuple(target for target in config.targets if target.name in used or databases is None)
    stores = _Stores(targets, environ)
    try:
        pairs = {(name, database.snapshot_pattern) for database in selected for name in database.targets}

        def listing(pair: tuple[str, str]) -> SnapshotListing | Unavailable:
            store = stores.get(pair[0])
            if isinstance(store, Unavailable):
                return store
            return _attempt(lambda: list_snapshots(store, config.target(pair[0]), pair[1]))

        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="drill-collect") as pool:
            listings = dict(zip(pairs, pool.map(listing, pairs), strict=True))
    finally:
        stores.close()

    database_targets: list[DatabaseTargetFacts] = []
    database_facts: list[DatabaseFacts] = []
    for database in selected:
        policy = config.policy_for(database)
        copies = tuple(
            DatabaseTargetFacts(
                database, config.target(name), policy, now, listings[(name, database.snapshot_pattern)]
            )
            for name in database.targets
        )
        database_targets.extend(copies)
        database_facts.append(DatabaseFacts(database, policy, now, copies))

    target_facts = tuple(
        TargetFacts(
            target,
            strictest([config.policy_for(d) for d in selected if target.name in d.targets], config.policy),
            now,
        )
        for target in targets
    )
    return CollectedFacts(target_facts, tuple(database_facts), tuple(database_targets))
