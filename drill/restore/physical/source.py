"""Which copy a database's restore drill uses: the newest across its dump targets and its stanzas.

A database's copies may mix dump targets (a listing of snapshots) and the repositories of
pgBackRest stanzas (drill.collect.stanzas makes each repository one copy, whose ``repository``
holds what the stanza said of it). ``restore_from`` names the target to use (a dump target, or a
pgbackrest target, whose newest repository is then used); otherwise the copy whose newest backup
is the most recent wins (a dump's time is its object's, a stanza backup's its stop time), the first
in config order on a tie.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from drill.facts import DatabaseFacts, DatabaseTargetFacts, StanzaRepo
from drill.model import Unavailable


@dataclass(frozen=True)
class Choice:
    """What to restore: a stanza's repository, or the dumps (the runner chooses among them), or neither."""

    stanza: DatabaseTargetFacts | None = None  # its repository is a StanzaRepo with a backup
    dumps: DatabaseFacts | None = None
    unreadable: tuple[str, ...] = ()  # why repositories could not be read, one reason each


def dump_copies(facts: DatabaseFacts) -> DatabaseFacts:
    """``facts`` with only the copies on dump targets: a stanza's repository holds no dump."""
    return replace(facts, copies=tuple(copy for copy in facts.copies if copy.repository is None))


def _is_from(copy: DatabaseTargetFacts, configured: str) -> bool:
    # A stanza with several repositories names its copies "<target>.repo<N>".
    name = copy.target.name
    return name == configured or (
        name.startswith(f"{configured}.repo") and name[len(configured) + 5 :].isdigit()
    )


def choose(facts: DatabaseFacts, newest_dump: DatabaseTargetFacts | None) -> Choice:
    """The copy to drill. ``newest_dump`` is the runner's choice among the dump copies."""
    dumps = dump_copies(facts)
    stanza_copies = [copy for copy in facts.copies if copy.repository is not None]
    restore_from = facts.database.restore_from
    if not stanza_copies or (
        restore_from is not None and any(c.target.name == restore_from for c in dumps.copies)
    ):
        return Choice(dumps=dumps)
    if restore_from is not None:
        stanza_copies = [copy for copy in stanza_copies if _is_from(copy, restore_from)]
    problems = tuple(
        f"{copy.target.name}: {copy.repository.reason}"
        for copy in stanza_copies
        if isinstance(copy.repository, Unavailable)
    ) + tuple(
        f"{copy.target.name}: the repository is on host {copy.repository.settings.host}, and drill restores "
        "only from repositories this host reads itself"
        for copy in stanza_copies
        if isinstance(copy.repository, StanzaRepo) and copy.repository.settings.host is not None
    )
    ready = [
        copy
        for copy in stanza_copies
        if _latest(copy) is not None
        and isinstance(copy.repository, StanzaRepo)
        and copy.repository.settings.host is None
    ]
    if not ready:
        return Choice(dumps=dumps if restore_from is None and dumps.copies else None, unreadable=problems)
    newest = max(ready, key=lambda copy: _latest(copy) or datetime.min)
    dump_time = _dump_time(newest_dump) if restore_from is None else None
    if dump_time is not None and dump_time > (_latest(newest) or dump_time):
        return Choice(dumps=dumps, unreadable=problems)
    return Choice(stanza=newest, unreadable=problems)


def _latest(copy: DatabaseTargetFacts) -> datetime | None:
    repo = copy.repository
    if not isinstance(repo, StanzaRepo) or repo.latest is None:
        return None
    return repo.latest.stopped_at


def _dump_time(copy: DatabaseTargetFacts | None) -> datetime | None:
    if copy is None or isinstance(copy.listing, Unavailable) or copy.listing.latest is None:
        return None
    return copy.listing.latest.created_at


def holding(facts: DatabaseFacts, label: str) -> tuple[DatabaseTargetFacts, StanzaRepo] | Unavailable:
    """The first repository (in config order) of the database's stanzas that lists the backup
    ``label`` and that this host reads itself; why not when there is none."""
    for copy in facts.copies:
        repo = copy.repository
        if not isinstance(repo, StanzaRepo) or repo.settings.host is not None:
            continue
        if any(backup.label == label for backup in repo.backups):
            return copy, repo
    listed = sorted(
        {
            backup.label
            for copy in facts.copies
            if isinstance(copy.repository, StanzaRepo)
            for backup in copy.repository.backups
        }
    )
    if not any(copy.repository is not None for copy in facts.copies):
        return Unavailable(
            f"Backup set {label} was asked for, but {facts.database.name} has no pgBackRest stanza."
        )
    shown = ", ".join(listed[-5:]) or "none"
    return Unavailable(
        f"Backup set {label} is in no repository of {facts.database.name}'s stanzas that drill reads "
        f"(the newest listed: {shown})."
    )
