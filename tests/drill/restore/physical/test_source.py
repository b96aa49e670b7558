"""Which copy a database is drilled from, judged on facts: dumps against stanza repositories."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from drill.config import TargetType
from drill.facts import DatabaseFacts, DatabaseTargetFacts
from drill.facts.pgbackrest import RepoSettings, StanzaRepo
from drill.model import Unavailable
from drill.restore.physical.source import choose, dump_copies
from tests import factories, stanza_facts


def dump_copy(age_hours: float) -> DatabaseTargetFacts:
    snapshot = factories.snapshot(age=timedelta(hours=age_hours))
    return factories.database_target_facts(
        factories.listing(snapshot), target_model=factories.target("vault")
    )


def stanza_copy(name: str, repository: StanzaRepo | Unavailable) -> DatabaseTargetFacts:
    target = factories.target(name, type=TargetType.FILESYSTEM)
    return replace(
        factories.database_target_facts(factories.listing(), target_model=target), repository=repository
    )


def repo_stopped(hours_ago: float, **settings: object) -> StanzaRepo:
    stopped = factories.NOW - timedelta(hours=hours_ago)
    return stanza_facts.repo(
        backups=(stanza_facts.backup(stopped=stopped),),
        settings=RepoSettings(key=1, type="posix", path="/var/lib/pgbackrest", **settings),  # type: ignore[arg-type]
    )


def facts(*copies: DatabaseTargetFacts, restore_from: str | None = None) -> DatabaseFacts:
    database = factories.database(targets=("vault", "stanza"), restore_from=restore_from)
    return replace(factories.database_facts(*copies), database=database)


def test_the_newer_stanza_backup_is_drilled() -> None:
    dumps, stanza = dump_copy(5), stanza_copy("stanza", repo_stopped(1))
    choice = choose(facts(dumps, stanza), dumps)
    assert choice.stanza is stanza and choice.dumps is None


def test_the_newer_dump_is_drilled_and_the_stanza_left_out_of_the_dumps() -> None:
    dumps, stanza = dump_copy(1), stanza_copy("stanza", repo_stopped(5))
    choice = choose(facts(dumps, stanza), dumps)
    assert choice.stanza is None and choice.dumps is not None
    assert choice.dumps.copies == (dumps,) == dump_copies(facts(dumps, stanza)).copies


def test_restore_from_a_stanza_wins_over_a_newer_dump() -> None:
    dumps, stanza = dump_copy(1), stanza_copy("stanza.repo2", repo_stopped(5))
    assert choose(facts(dumps, stanza, restore_from="stanza"), dumps).stanza is stanza


def test_restore_from_a_dump_target_never_drills_the_stanza() -> None:
    dumps, stanza = dump_copy(5), stanza_copy("stanza", repo_stopped(1))
    assert choose(facts(dumps, stanza, restore_from="vault"), dumps).stanza is None


def test_unreadable_and_remote_repositories_are_reasons_not_choices() -> None:
    unreadable = stanza_copy("stanza.repo1", Unavailable("pgbackrest info exited with status 82"))
    remote = stanza_copy("stanza.repo2", repo_stopped(1, host="backup-host"))
    choice = choose(facts(unreadable, remote), None)
    assert choice.stanza is None and choice.dumps is None
    assert any("status 82" in reason for reason in choice.unreadable)
    assert any("host backup-host" in reason for reason in choice.unreadable)


def test_a_database_of_stanzas_alone_is_drilled_from_its_newest_repository() -> None:
    older, newer = stanza_copy("stanza.repo1", repo_stopped(5)), stanza_copy("stanza.repo2", repo_stopped(1))
    choice = choose(facts(older, newer), None)
    assert choice.stanza is newer and choice.dumps is None
