"""Collect what storage holds, concurrently with a bound: postures, listings, the latest snapshots.

Two rounds on one bounded pool: first each target's posture and each listing, then the
protection and checksum sidecar of each latest snapshot. No snapshot body is read. Every read
that fails becomes an ``Unavailable`` with its reason, so the checks that needed it report
``error`` with that reason instead of a verdict; so does every read of a target that runs past
``[run] timeout``, and every read still waiting when the run is interrupted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.collect.attempt import attempt
from drill.collect.listing import SIDECAR_LIMIT, list_snapshots, parse_sidecar, sidecar_key
from drill.collect.pool import DaemonPool, Deadlines
from drill.collect.stanzas import Stanzas, read_stanzas, stanza_pattern
from drill.config import Config, Database, Policy, Target
from drill.facts import (
    BucketPosture,
    CollectedFacts,
    DatabaseFacts,
    DatabaseTargetFacts,
    ObjectProtection,
    RepositoryFacts,
    Sidecar,
    SnapshotListing,
    StanzaRepo,
    TargetFacts,
)
from drill.model import Unavailable
from drill.storage import Store, StoreOpener

_Pair = tuple[str, str]  # (target name, snapshot pattern)


def strictest(policies: list[Policy], default: Policy) -> Policy:
    """A target that holds several databases must satisfy the longest retention any of them asks."""
    if not policies:
        return default
    longest = max(policies, key=lambda policy: policy.min_retention)
    lenient = all(policy.governance_is_warning for policy in policies)
    return longest.model_copy(update={"governance_is_warning": lenient})


@dataclass(frozen=True)
class _Latest:
    protection: ObjectProtection | Unavailable | None
    sidecar: Sidecar | Unavailable | None


def _latest(store: Store | Unavailable, listing: SnapshotListing | Unavailable) -> _Latest:
    if isinstance(listing, Unavailable):
        return _Latest(listing, listing)
    if listing.latest is None:
        return _Latest(None, None)
    if isinstance(store, Unavailable):
        return _Latest(store, store)
    latest = listing.latest
    protection = attempt(partial(store.protection, latest))
    key = sidecar_key(listing, latest)
    if key is None:
        return _Latest(protection, None)

    def read() -> Sidecar:
        body = store.read_small(key, SIDECAR_LIMIT)
        if body is None:
            raise StorageError(StorageErrorKind.NOT_FOUND, f"Sidecar {key} was listed but is gone.")
        return parse_sidecar(key, body)

    return _Latest(protection, attempt(read))


class _Stores:
    """Each target's store, opened once; a store that cannot be opened is Unavailable.

    ``unreadable`` names the targets not to open, with the reason (a pgBackRest repository whose
    storage drill cannot read); ``given`` holds listings already known (a repository's backups).
    """

    def __init__(
        self,
        targets: tuple[Target, ...],
        environ: Mapping[str, str],
        concurrency: int,
        stanzas: Stanzas,
    ) -> None:
        self._opener = StoreOpener(environ, concurrency=concurrency)
        self._targets = {target.name: target for target in targets}
        unreadable = stanzas.unreadable()
        self._given = stanzas.listings()
        self._opened: dict[str, Store | Unavailable] = {
            target.name: unreadable[target.name]
            if target.name in unreadable
            else attempt(partial(self._opener.open, target))
            for target in targets
        }

    def get(self, name: str) -> Store | Unavailable:
        return self._opened[name]

    def posture(self, name: str) -> BucketPosture | Unavailable:
        store = self._opened[name]
        return store if isinstance(store, Unavailable) else attempt(store.posture)

    def listing(self, pair: _Pair) -> SnapshotListing | Unavailable:
        if pair in self._given:
            return self._given[pair]
        store = self._opened[pair[0]]
        if isinstance(store, Unavailable):
            return store
        return attempt(partial(list_snapshots, store, self._targets[pair[0]], pair[1]))

    def close(self) -> None:
        for store in self._opened.values():
            if not isinstance(store, Unavailable):
                store.close()
        self._opener.close()


_Postures = dict[str, BucketPosture | Unavailable]
_Listings = dict[_Pair, SnapshotListing | Unavailable]


def _gather(
    pool: DaemonPool, stores: _Stores, clock: Deadlines, names: list[str], pairs: list[_Pair]
) -> tuple[_Postures, _Listings, dict[_Pair, _Latest]]:
    postures = {name: pool.submit(clock.timed(name, partial(stores.posture, name))) for name in names}
    listings = {pair: pool.submit(clock.timed(pair[0], partial(stores.listing, pair))) for pair in pairs}
    listed: _Listings = {
        pair: clock.result(future, pair[0], f"the listing of {pair[1]!r}")
        for pair, future in listings.items()
    }
    latest = {
        pair: pool.submit(clock.timed(pair[0], partial(_latest, stores.get(pair[0]), listed[pair])))
        for pair in pairs
        if not isinstance(listed[pair], Unavailable) and not clock.expired(pair[0])
    }

    def latest_of(pair: _Pair) -> _Latest:
        listing = listed[pair]
        if isinstance(listing, Unavailable):
            return _Latest(listing, listing)
        if pair not in latest:
            overdue = clock.overdue(pair[0], "the metadata of the latest snapshot")
            return _Latest(overdue, overdue)
        found = clock.result(latest[pair], pair[0], "the metadata of the latest snapshot")
        return _Latest(found, found) if isinstance(found, Unavailable) else found

    return (
        {
            name: clock.result(future, name, "the bucket or directory settings")
            for name, future in postures.items()
        },
        listed,
        {pair: latest_of(pair) for pair in pairs},
    )


def collect_storage(
    config: Config,
    now: datetime,
    *,
    environ: Mapping[str, str],
    concurrency: int = 8,
    databases: tuple[Database, ...] | None = None,
) -> CollectedFacts:
    """The storage facts of the run: per target, per database, and per database on each target."""
    selected = config.databases if databases is None else databases
    used = {name for database in selected for name in database.targets}
    configured = tuple(target for target in config.targets if databases is None or target.name in used)
    timeout = config.run.timeout.total_seconds()
    stanzas = read_stanzas(configured, environ, timeout=timeout, concurrency=concurrency)
    targets = stanzas.targets(configured)
    by_name = {target.name: target for target in targets}
    pairs = sorted({pair for database in selected for pair in _pairs(database, stanzas)})
    stores = _Stores(targets, environ, concurrency, stanzas)
    pool = DaemonPool(concurrency, "drill-collect")
    try:
        postures, listings, latest = _gather(
            pool, stores, Deadlines(config.run.timeout), list(by_name), pairs
        )
    finally:
        pool.close()
        stores.close()

    database_facts: list[DatabaseFacts] = []
    for database in selected:
        policy = config.policy_for(database)
        copies = tuple(
            DatabaseTargetFacts(
                database=database,
                target=by_name[name],
                policy=policy,
                now=now,
                listing=listings[(name, pattern)],
                posture=postures[name],
                protection=latest[(name, pattern)].protection,
                sidecar=latest[(name, pattern)].sidecar,
                repository=repository,
            )
            for name, pattern, repository in _copies(database, stanzas)
        )
        database_facts.append(DatabaseFacts(database, policy, now, copies))

    database_targets = tuple(copy for facts in database_facts for copy in facts.copies)
    target_facts = tuple(
        TargetFacts(
            target=target,
            policy=strictest(
                [
                    facts.policy
                    for facts in database_facts
                    if any(copy.target.name == target.name for copy in facts.copies)
                ],
                config.policy,
            ),
            now=now,
            posture=postures[target.name],
            latest=tuple(copy for copy in database_targets if copy.target.name == target.name),
        )
        for target in targets
    )
    return CollectedFacts(
        target_facts,
        tuple(database_facts),
        database_targets,
        repositories=repositories(stanzas, target_facts, now),
    )


def _pairs(database: Database, stanzas: Stanzas) -> list[_Pair]:
    return [(name, pattern) for name, pattern, _ in _copies(database, stanzas)]


def _copies(database: Database, stanzas: Stanzas) -> list[tuple[str, str, StanzaRepo | Unavailable | None]]:
    """Each copy of the database: (target name, pattern, repository); a stanza is one per repository."""
    found: list[tuple[str, str, StanzaRepo | Unavailable | None]] = []
    for name in database.targets:
        if stanzas.is_stanza(name):
            found.extend((copy.target.name, stanza_pattern(copy), copy.repo) for copy in stanzas.copies[name])
        else:
            # Validated with the config: a database with a dump target has a snapshot pattern.
            found.append((name, database.snapshot_pattern or "*", None))
    return found


def repositories(
    stanzas: Stanzas, targets: tuple[TargetFacts, ...], now: datetime
) -> tuple[RepositoryFacts, ...]:
    """Each repository of each stanza, with its storage's posture and its databases' strictest policy."""
    by_name = {facts.target.name: facts for facts in targets}
    return tuple(
        RepositoryFacts(
            target=copy.target,
            configured=configured,
            policy=by_name[copy.target.name].policy,
            now=now,
            repo=copy.repo,
            posture=by_name[copy.target.name].posture,
        )
        for configured, copies in stanzas.copies.items()
        for copy in copies
    )
