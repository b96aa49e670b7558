"""One database's restore drill from whichever copy is newest: a dump (drill.restore.runner) or a
pgBackRest stanza's repository (drill.restore.physical.drill)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drill.config import RestoreSettings
from drill.facts import DatabaseFacts, DrillOutcome, StanzaRepo
from drill.model import Unavailable
from drill.restore.binaries import PgBinaries
from drill.restore.physical.drill import drill_stanza
from drill.restore.physical.source import choose, dump_copies, holding
from drill.restore.runner import Progress, choose_source, drill_database


def drill_newest(
    facts: DatabaseFacts,
    settings: RestoreSettings,
    binaries: Callable[[], PgBinaries],
    environ: Mapping[str, str],
    *,
    keep: bool = False,
    progress: Progress | None = None,
    backup_set: str | None = None,
) -> DrillOutcome | Unavailable:
    """Drill ``facts.database`` from its newest copy, or from the stanza repository holding the
    pgBackRest backup labelled ``backup_set``. ``binaries`` finds the programs a dump needs
    (RestoreSetupError when there are none); a stanza's drill finds the server of its backup's version."""
    if backup_set is not None:
        held = holding(facts, backup_set)
        if isinstance(held, Unavailable):
            return held
        copy, holder = held
        return drill_stanza(
            facts.database, copy.target.name, holder, settings, environ, keep=keep, backup_set=backup_set
        )
    dumps = dump_copies(facts)
    choice = choose(facts, choose_source(dumps) if dumps.copies else None)
    if choice.stanza is not None:
        repo = choice.stanza.repository
        assert isinstance(repo, StanzaRepo)
        return drill_stanza(facts.database, choice.stanza.target.name, repo, settings, environ, keep=keep)
    if choice.dumps is not None:
        return drill_database(choice.dumps, settings, binaries(), environ, keep=keep, progress=progress)
    if choice.unreadable:
        return Unavailable(f"No copy could be read to restore: {'; '.join(choice.unreadable)}.")
    return DrillOutcome(
        None,
        None,
        failed_stage="fetch",
        failure="Nothing to restore: no repository of its stanzas holds a backup.",
    )
