"""Which databases the engine restores from a dump and which wait for the stanza restore drill."""

from __future__ import annotations

from dataclasses import replace

from drill.engine import _stanza_drill
from drill.facts import DatabaseTargetFacts, Unavailable
from tests import factories, stanza_facts


def dump_copy(name: str = "vault") -> DatabaseTargetFacts:
    return factories.database_target_facts(factories.listing(), target_model=factories.target(name))


def repository_copy(name: str = "main.repo1") -> DatabaseTargetFacts:
    return replace(dump_copy(name), repository=stanza_facts.repo())


def test_a_database_of_stanzas_alone_is_not_restored_from_a_dump_and_says_so() -> None:
    facts = factories.database_facts(repository_copy())
    reason = _stanza_drill(facts)
    assert (
        isinstance(reason, Unavailable) and "not run yet" in reason.reason and "main.repo1" in reason.reason
    )


def test_a_database_with_a_dump_copy_restores_the_dump() -> None:
    assert _stanza_drill(factories.database_facts(dump_copy(), repository_copy())) is None
    assert _stanza_drill(factories.database_facts(dump_copy())) is None


def test_restore_from_a_stanza_waits_for_the_stanza_drill() -> None:
    facts = factories.database_facts(dump_copy(), repository_copy())
    database = facts.database.model_copy(update={"targets": ("vault", "main"), "restore_from": "main"})
    assert isinstance(_stanza_drill(replace(facts, database=database)), Unavailable)
