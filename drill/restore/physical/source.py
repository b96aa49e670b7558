"""Which copy a database's restore drill uses: the newest across its dump targets and its stanzas.

A database's targets may mix dump targets (a listing of snapshots) and pgBackRest stanzas (each
repository a copy). ``restore_from`` names the target to use; otherwise the copy whose newest
backup is the most recent wins (a dump's time is its object's, a stanza backup's its stop time),
the first in config order on a tie. A stanza is read afresh here, so that the drill restores the
newest backup at the time it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from drill.config import Target, TargetType
from drill.facts import DatabaseFacts, DatabaseTargetFacts
from drill.facts.pgbackrest import StanzaRepo
from drill.model import Unavailable
from drill.storage.pgbackrest.stanza import read_stanza


@dataclass(frozen=True)
class StanzaCopy:
    """One repository of one of the database's stanzas, named as the posture findings name it."""

    name: str
    configured: str  # the pgbackrest target in the config
    repo: StanzaRepo


@dataclass(frozen=True)
class Choice:
    """What to restore: a stanza copy, a dump copy (the runner's choice), or why there is none."""

    stanza: StanzaCopy | None = None
    dump: DatabaseTargetFacts | None = None
    unreadable: tuple[str, ...] = ()  # why stanzas could not be read, one reason each


def stanza_targets(facts: DatabaseFacts, targets: Mapping[str, Target]) -> tuple[Target, ...]:
    return tuple(
        targets[name]
        for name in facts.database.targets
        if name in targets and targets[name].type is TargetType.PGBACKREST
    )


def read_copies(
    target: Target, environ: Mapping[str, str], timeout: float
) -> tuple[list[StanzaCopy], list[str]]:
    """Every readable repository of ``target``'s stanza that holds a backup, and the reasons for the others."""
    copies, problems = [], []
    for copy in read_stanza(target, environ, timeout=timeout):
        if isinstance(copy.repo, Unavailable):
            problems.append(f"{copy.target.name}: {copy.repo.reason}")
        elif copy.repo.latest is None:
            problems.append(f"{copy.target.name}: repo{copy.repo.settings.key} holds no backup")
        else:
            copies.append(StanzaCopy(copy.target.name, target.name, copy.repo))
    return copies, problems


def choose(
    facts: DatabaseFacts,
    targets: Mapping[str, Target],
    environ: Mapping[str, str],
    dump_choice: DatabaseTargetFacts | None,
    *,
    timeout: float = 300.0,
) -> Choice:
    """The copy to drill. ``dump_choice`` is the newest dump copy (drill.restore.runner.choose_source)."""
    stanzas = stanza_targets(facts, targets)
    restore_from = facts.database.restore_from
    if restore_from is not None and restore_from not in {target.name for target in stanzas}:
        return Choice(dump=dump_choice)
    wanted = [target for target in stanzas if restore_from in (None, target.name)]
    copies: list[StanzaCopy] = []
    problems: list[str] = []
    for target in wanted:
        found, unreadable = read_copies(target, environ, timeout)
        copies += found
        problems += unreadable
    newest = max(copies, key=_stopped, default=None)
    dump_time = _dump_time(dump_choice) if restore_from is None else None
    if newest is None or (dump_time is not None and dump_time > _stopped(newest)):
        return Choice(dump=dump_choice if restore_from is None else None, unreadable=tuple(problems))
    return Choice(stanza=newest, unreadable=tuple(problems))


def _stopped(copy: StanzaCopy) -> datetime:
    assert copy.repo.latest is not None
    return copy.repo.latest.stopped_at


def _dump_time(copy: DatabaseTargetFacts | None) -> datetime | None:
    if copy is None or isinstance(copy.listing, Unavailable) or copy.listing.latest is None:
        return None
    return copy.listing.latest.created_at


def dump_copies(facts: DatabaseFacts, targets: Mapping[str, Target]) -> DatabaseFacts:
    """``facts`` with only the copies on dump targets: a stanza's repository holds no dump."""
    kept = tuple(
        copy
        for copy in facts.copies
        if copy.target.name in targets and targets[copy.target.name].type is not TargetType.PGBACKREST
    )
    return replace(facts, copies=kept)
