"""How two records differ, and which way: the directions the drift check turns into statuses."""

from __future__ import annotations

from drill.baseline.compare import Change, compare
from drill.baseline.model import AgentRecord, LifecycleRecord, Setting
from tests.drift_records import DELETE, orders, rule, vault


def _changes(approved: object, today: object, **kwargs: object) -> list[tuple[str, Change]]:
    comparison = compare(approved, today, ("ci",), **kwargs)  # type: ignore[arg-type]
    return [(difference.item, difference.change) for difference in comparison.differences]


def test_identical_records_have_no_difference_and_count_what_was_compared() -> None:
    comparison = compare(vault(), vault(), ("ci",))
    assert comparison.differences == () and comparison.compared > 5


def test_a_disabled_new_rule_deletes_nothing_yet_and_enabling_it_is_weaker() -> None:
    off = LifecycleRecord("purge", enabled=False, prefix="pg/", expire_current_days=14)
    assert _changes(vault(), vault(rules=(off,))) == [("lifecycle rule 'purge'", Change.STRONGER)]
    assert _changes(vault(rules=(off,)), vault(rules=(rule(expire_current_days=14),))) == [
        ("lifecycle rule 'purge'", Change.WEAKER)
    ]


def test_a_rule_whose_prefix_moved_cannot_be_ordered() -> None:
    moved = LifecycleRecord("purge", enabled=True, prefix="other/", expire_current_days=14)
    assert _changes(vault(rules=(rule(expire_current_days=14),)), vault(rules=(moved,))) == [
        ("lifecycle rule 'purge'", Change.CHANGED)
    ]


def test_a_changed_policy_digest_cannot_be_ordered() -> None:
    today = vault()
    settings = tuple(
        Setting(setting.name, "00" * 32, shown="2 statements") if setting.name == "bucket policy" else setting
        for setting in today.settings
    )
    assert _changes(vault(), vault(settings=settings)) == [("bucket policy", Change.CHANGED)]


def test_a_dropped_agent_is_left_to_its_own_finding() -> None:
    assert compare(vault(ci=(DELETE,)), vault(), configured_agents=()).differences == ()


def test_settings_unread_for_one_reason_are_one_difference() -> None:
    today = vault()
    unread = tuple(Setting(setting.name, unread="the bucket did not answer") for setting in today.settings)
    [difference] = compare(vault(), vault(settings=unread), ("ci",)).differences
    assert difference.change is Change.UNVERIFIABLE and difference.detail == "the bucket did not answer"
    assert "default lock days" in difference.item and "versioning" in difference.item


def test_integrity_checks_and_scanned_paths_removed_are_weaker() -> None:
    assert _changes(orders(), orders(checks=())) == [("integrity check 'rows'", Change.WEAKER)]
    assert _changes(AgentRecord("ci", ("/a", "/b")), AgentRecord("ci", ("/a",))) == [("paths", Change.WEAKER)]
