"""How an approved record and today's differ, item by item, and in which direction.

Each difference is weaker (protection was lost: a shorter lock, a new lifecycle rule, a new
power, a target dropped), stronger (more protection, or more under watch: approve again), changed
(a digest or a location moved, and drill cannot tell which way) or unverifiable (today's value
could not be read). Pure functions over ``drill.baseline.model``: the ``drift`` check calls
``compare`` once per subject and turns each difference into a finding.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from drill.baseline.model import (
    AgentRecord,
    DatabaseRecord,
    Holder,
    LifecycleRecord,
    Power,
    QueryRecord,
    Setting,
    TargetRecord,
)

ABSENT = "absent"
_DENIED = "denied"
_ANSWER_RANK = {_DENIED: 0, "unknown": 1, "allowed": 2}


class Change(enum.StrEnum):
    WEAKER = "weaker"  # fail: protection the approval relied on is gone
    STRONGER = "stronger"  # warn: more protection than approved; approve again
    CHANGED = "changed"  # fail: drill cannot tell which way; review, then approve again
    UNVERIFIABLE = "unverifiable"  # error: today's value could not be read


@dataclass(frozen=True)
class Difference:
    item: str  # what differs: "default lock mode", "lifecycle rule 'purge'", "powers of agent ci"
    approved: str
    today: str
    change: Change
    detail: str = ""  # the grant behind a power, the reason a value could not be read


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...]
    compared: int  # how many items were compared
    unmonitored: tuple[str, ...] = ()  # items the approval could not read: nothing to compare with


def compare(
    approved: TargetRecord | DatabaseRecord | AgentRecord | None,
    today: TargetRecord | DatabaseRecord | AgentRecord | None,
    configured_agents: Sequence[str] = (),
    configured_targets: Sequence[str] | None = None,
) -> Comparison:
    """How ``today`` differs from ``approved`` (either None: the subject was added or dropped).

    ``configured_agents`` and ``configured_targets`` are those of today's config: a holder of a
    dropped agent, or a database's copy on a dropped target, is left to the agent's or the target's
    own finding (None: every target is still configured).
    """
    if approved is None or today is None:
        present = "in the config" if today is not None else ABSENT
        was = "in the baseline" if approved is not None else ABSENT
        change = Change.STRONGER if approved is None else Change.WEAKER
        return Comparison((Difference("presence", was, present, change),), 1)
    if isinstance(approved, TargetRecord) and isinstance(today, TargetRecord):
        return _grouped(_targets(approved, today, configured_agents))
    if isinstance(approved, DatabaseRecord) and isinstance(today, DatabaseRecord):
        return _databases(approved, today, configured_targets)
    if isinstance(approved, AgentRecord) and isinstance(today, AgentRecord):
        found = list(_members("paths", approved.paths, today.paths))
        return Comparison(tuple(found), 1)
    raise TypeError(f"cannot compare a {type(approved).__name__} with a {type(today).__name__}")


def _grouped(comparison: Comparison) -> Comparison:
    """Items that could not be read for one reason (a bucket that did not answer) as one difference."""
    unverifiable: dict[str, list[Difference]] = {}
    for difference in comparison.differences:
        if difference.change is Change.UNVERIFIABLE:
            unverifiable.setdefault(difference.detail, []).append(difference)
    if all(len(group) == 1 for group in unverifiable.values()):
        return comparison
    differences = [item for item in comparison.differences if item.change is not Change.UNVERIFIABLE]
    for reason, group in unverifiable.items():
        differences.append(
            Difference(
                ", ".join(item.item for item in group),
                "; ".join(f"{item.item}: {item.approved}" for item in group),
                "unread",
                Change.UNVERIFIABLE,
                reason,
            )
        )
    return replace(comparison, differences=tuple(differences))


def _targets(approved: TargetRecord, today: TargetRecord, configured_agents: Sequence[str]) -> Comparison:
    differences: list[Difference] = []
    unmonitored: list[str] = []
    compared = 0
    if approved.type != today.type:
        differences.append(Difference("type", approved.type, today.type, Change.CHANGED))
    for item in _settings(approved.settings, today.settings, unmonitored):
        differences.append(item)
    compared += len(approved.settings)
    if approved.lifecycle_unread is not None and today.lifecycle_unread is not None:
        unmonitored.append("lifecycle rules")
    elif approved.lifecycle_unread is not None:
        differences.append(
            Difference("lifecycle rules", "unread", "readable", Change.STRONGER, approved.lifecycle_unread)
        )
    elif today.lifecycle_unread is not None:
        differences.append(
            Difference(
                "lifecycle rules",
                _rules(approved.lifecycle),
                "unread",
                Change.UNVERIFIABLE,
                today.lifecycle_unread,
            )
        )
    else:
        differences.extend(_lifecycle(approved.lifecycle, today.lifecycle))
        compared += 1
    before = {holder.agent: holder for holder in approved.holders}
    after = {holder.agent: holder for holder in today.holders}
    for agent in sorted(before.keys() | after.keys(), key=lambda name: (name is not None, name or "")):
        if agent is not None and agent not in configured_agents:
            continue  # a dropped agent is reported once, on the agent
        compared += 1
        differences.extend(
            _holder(before.get(agent, Holder(agent)), after.get(agent, Holder(agent)), unmonitored)
        )
    return Comparison(tuple(differences), compared, tuple(unmonitored))


def _databases(
    approved: DatabaseRecord, today: DatabaseRecord, configured_targets: Sequence[str] | None
) -> Comparison:
    unmonitored: list[str] = []
    kept = [name for name in approved.targets if configured_targets is None or name in configured_targets]
    differences = list(_members("targets", kept, today.targets))
    differences.extend(_settings(approved.settings, today.settings, unmonitored))
    differences.extend(_queries(approved.checks, today.checks))
    return Comparison(tuple(differences), 2 + len(approved.settings), tuple(unmonitored))


def _settings(
    approved: Iterable[Setting], today: Iterable[Setting], unmonitored: list[str]
) -> Iterator[Difference]:
    after = {setting.name: setting for setting in today}
    before = {setting.name: setting for setting in approved}
    for name, old in before.items():
        new = after.get(name)
        if new is None:
            yield Difference(name, old.text(), "not recorded", Change.CHANGED)
        elif old.unread is not None and new.unread is not None:
            unmonitored.append(name)
        elif old.unread is not None:
            yield Difference(name, "unread", new.text(), Change.STRONGER, old.unread)
        elif new.unread is not None:
            yield Difference(name, old.text(), "unread", Change.UNVERIFIABLE, new.unread)
        elif old.value != new.value:
            yield Difference(name, old.text(), new.text(), _direction(old.strength, new.strength))
    for name in after.keys() - before.keys():
        if after[name].unread is None:
            yield Difference(name, "not recorded", after[name].text(), Change.STRONGER)


def _direction(before: float | None, after: float | None) -> Change:
    if before is None or after is None or before == after:
        return Change.CHANGED
    return Change.STRONGER if after > before else Change.WEAKER


def _members(item: str, approved: Sequence[str], today: Sequence[str]) -> Iterator[Difference]:
    """A list where every member protects (a copy's target, a scanned path): fewer is weaker."""
    dropped = [name for name in approved if name not in today]
    added = [name for name in today if name not in approved]
    if dropped:
        yield Difference(
            item,
            ", ".join(approved),
            ", ".join(today) or "none",
            Change.WEAKER,
            f"dropped {', '.join(dropped)}",
        )
    elif added:
        yield Difference(
            item,
            ", ".join(approved) or "none",
            ", ".join(today),
            Change.STRONGER,
            f"added {', '.join(added)}",
        )


def _queries(approved: Sequence[QueryRecord], today: Sequence[QueryRecord]) -> Iterator[Difference]:
    before = {query.name: query for query in approved}
    after = {query.name: query for query in today}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        item = f"integrity check {name!r}"
        if new is None:
            yield Difference(item, _query(old), ABSENT, Change.WEAKER)
        elif old is None:
            yield Difference(item, ABSENT, _query(new), Change.STRONGER)
        elif old != new:
            yield Difference(item, _query(old), _query(new), Change.CHANGED)


def _query(query: QueryRecord | None) -> str:
    return ABSENT if query is None else f"expects {query.expect}, sql sha256 {query.sql_sha256[:12]}"


def _rules(rules: Sequence[LifecycleRecord]) -> str:
    return ", ".join(repr(rule.rule_id) for rule in rules) or "none"


def _lifecycle(approved: Sequence[LifecycleRecord], today: Sequence[LifecycleRecord]) -> Iterator[Difference]:
    before = {rule.rule_id: rule for rule in approved}
    after = {rule.rule_id: rule for rule in today}
    for rule_id in sorted(before.keys() | after.keys()):
        old, new = before.get(rule_id), after.get(rule_id)
        item = f"lifecycle rule {rule_id!r}"
        if old is None and new is not None:
            # A rule that deletes is a new way to lose backups; a disabled one deletes nothing yet.
            yield Difference(item, ABSENT, new.describe(), Change.WEAKER if new.enabled else Change.STRONGER)
        elif new is None and old is not None:
            yield Difference(item, old.describe(), ABSENT, Change.STRONGER)
        elif old is not None and new is not None and old != new:
            yield Difference(item, old.describe(), new.describe(), _rule_direction(old, new))


def _rule_direction(old: LifecycleRecord, new: LifecycleRecord) -> Change:
    """Weaker if any part deletes sooner or more, stronger if every changed part deletes later or
    less, changed when a part that cannot be ordered (prefix, filter) moved."""
    if old.prefix != new.prefix or old.conditions_unknown != new.conditions_unknown:
        return Change.CHANGED
    directions = {
        _ordered(int(old.enabled), int(new.enabled), more_deletes=True),
        _days(old.expire_current_days, new.expire_current_days),
        _days(old.expire_noncurrent_days, new.expire_noncurrent_days),
        _moment(old.expire_on, new.expire_on, later_deletes_more=False),
        _moment(old.delete_created_before, new.delete_created_before, later_deletes_more=True),
    } - {None}
    if Change.WEAKER in directions:
        return Change.WEAKER
    return Change.STRONGER if directions == {Change.STRONGER} else Change.CHANGED


def _ordered(old: float, new: float, *, more_deletes: bool) -> Change | None:
    if old == new:
        return None
    return Change.WEAKER if (new > old) == more_deletes else Change.STRONGER


def _days(old: int | None, new: int | None) -> Change | None:
    """Days before a deletion: fewer deletes sooner; none deletes never."""
    if old == new:
        return None
    if old is None or new is None:
        return Change.WEAKER if old is None else Change.STRONGER
    return _ordered(old, new, more_deletes=False)


def _moment(old: str | None, new: str | None, *, later_deletes_more: bool) -> Change | None:
    if old == new:
        return None
    if old is None or new is None:
        return Change.WEAKER if old is None else Change.STRONGER
    return Change.WEAKER if (new > old) == later_deletes_more else Change.STRONGER


def _holder(approved: Holder, today: Holder, unmonitored: list[str]) -> Iterator[Difference]:
    """Powers gained are weaker, powers lost stronger, one finding per direction; a power drill can
    no longer rule out, where the approval had it denied, is unverifiable."""
    item = f"powers of {today.name}"
    if approved.unread is not None and today.unread is not None:
        unmonitored.append(item)
        return
    if approved.unread is not None:
        yield Difference(item, "unread", _powers(today.powers), Change.STRONGER, approved.unread)
        return
    if today.unread is not None:
        yield Difference(item, _powers(approved.powers), "unread", Change.UNVERIFIABLE, today.unread)
        return
    before = {power.permission: power for power in approved.powers}
    after = {power.permission: power for power in today.powers}
    by_change: dict[Change, list[str]] = {}
    grants: list[str] = []
    for permission in sorted(before.keys() | after.keys()):
        old = before[permission].answer if permission in before else _DENIED
        new = after[permission].answer if permission in after else _DENIED
        if old == new:
            continue
        if new == "allowed":
            change = Change.WEAKER
            grant = after[permission].grant
            grants.extend([grant] if grant and grant not in grants else [])
        elif new == "unknown" and old == _DENIED:
            change = Change.UNVERIFIABLE
        else:
            change = Change.STRONGER
        by_change.setdefault(change, []).append(f"{permission} ({old} → {new})")
    for change in (Change.WEAKER, Change.UNVERIFIABLE, Change.STRONGER):
        if change in by_change:
            detail = f"{_POWER_VERBS[change]} {', '.join(by_change[change])}"
            if change is Change.WEAKER and grants:
                detail += f"; granted by {'; '.join(grants)}"
            yield Difference(item, _powers(approved.powers), _powers(today.powers), change, detail)


_POWER_VERBS = {
    Change.WEAKER: "gained",
    Change.UNVERIFIABLE: "can no longer be ruled out:",
    Change.STRONGER: "lost",
}


def _powers(powers: Sequence[Power]) -> str:
    if not powers:
        return "no destructive permission"
    return ", ".join(
        power.permission + ("" if power.answer == "allowed" else " (unknown)") for power in powers
    )
