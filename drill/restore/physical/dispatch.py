"""One database's restore drill from whichever copy is newest: a dump (drill.restore.runner) or a
pgBackRest stanza (drill.restore.physical.drill)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drill.config import Config
from drill.facts import DatabaseFacts, DrillOutcome
from drill.model import Unavailable
from drill.restore.binaries import PgBinaries
from drill.restore.physical.drill import drill_stanza
from drill.restore.physical.source import choose, dump_copies, stanza_targets
from drill.restore.runner import Progress, choose_source, drill_database

_INFO_TIMEOUT_SECONDS = 300.0


def drill_newest(
    facts: DatabaseFacts,
    config: Config,
    binaries: Callable[[], PgBinaries],
    environ: Mapping[str, str],
    *,
    keep: bool = False,
    progress: Progress | None = None,
) -> DrillOutcome | Unavailable:
    """Drill ``facts.database`` from its newest copy. ``binaries`` finds the programs a dump needs
    (RestoreSetupError when there are none); a stanza brings the version it needs itself."""
    targets = {target.name: target for target in config.targets}
    dumps = dump_copies(facts, targets)
    if not stanza_targets(facts, targets):
        return drill_database(dumps, config.restore, binaries(), environ, keep=keep, progress=progress)
    dump_choice = choose_source(dumps) if dumps.copies else None
    choice = choose(facts, targets, environ, dump_choice, timeout=_INFO_TIMEOUT_SECONDS)
    if choice.stanza is not None:
        copy = choice.stanza
        return drill_stanza(facts.database, copy.name, copy.repo, config.restore, environ, keep=keep)
    if choice.dump is not None:
        return drill_database(dumps, config.restore, binaries(), environ, keep=keep, progress=progress)
    if choice.unreadable:
        return Unavailable(f"No copy could be read to restore: {'; '.join(choice.unreadable)}.")
    return DrillOutcome(
        None, None, failed_stage="fetch", failure="Nothing to restore: no target holds a backup."
    )
