"""Today's configuration as baseline records, captured from the collected facts.

``drill baseline approve`` records what this returns; every run captures it again and the
``drift`` check compares. Both go through this one function, so an approved baseline and today's
reading can differ only where the estate or its config did. Pure: it reads facts and the config.

Each setting carries its ``strength``: a number that grows as the setting protects more (a longer
lock, COMPLIANCE over GOVERNANCE, a shorter max_age), so the check can tell a weakening from a
strengthening without knowing the setting; a setting without one (a digest, a location) can only
be "changed".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Literal, TypeVar

from drill.baseline.model import (
    AgentRecord,
    DatabaseRecord,
    Holder,
    LifecycleRecord,
    Power,
    QueryRecord,
    Setting,
    TargetRecord,
    Value,
)
from drill.config import Config, Database, TargetType
from drill.durations import format_duration
from drill.facts import (
    Access,
    AgentTargetFacts,
    Answer,
    BucketPosture,
    CollectedFacts,
    DocumentDigest,
    FilesystemPosture,
    GcsBucketPosture,
    Identity,
    LifecycleRule,
    RepoSettings,
    RepositoryFacts,
    S3BucketPosture,
    TargetFacts,
    VerifierTargetFacts,
)
from drill.model import Unavailable

P = TypeVar("P")
# A limit that is not set (no RTO) is the weakest setting of all.
UNLIMITED = -1e15
# A retention that is not set (pgBackRest's expire keeps everything) is the strongest of all.
KEPT_FOREVER = 1e15
FILESYSTEM_WRITE = "filesystem:write"
_NOT_JUDGED = "its trust evidence was not collected (the run was stopped first)"
_LOCK_MODES = {"COMPLIANCE": 2, "GOVERNANCE": 1}
_VERSIONING = {"Enabled": 2, "Suspended": 1}


def capture(
    config: Config, collected: CollectedFacts
) -> tuple[tuple[TargetRecord, ...], tuple[DatabaseRecord, ...], tuple[AgentRecord, ...]]:
    """The records of every target, database and agent the facts were collected for."""
    agent_names = tuple(agent.name for agent in config.agents)
    repositories = {item.target.name: item for item in collected.repositories}
    targets = tuple(
        target_record(
            facts,
            [item for item in collected.agent_targets if item.target.name == facts.target.name],
            next(
                (item for item in collected.verifier_targets if item.target.name == facts.target.name), None
            ),
            agent_names,
            repository=repositories.get(facts.target.name),
        )
        for facts in collected.targets
    )
    databases = tuple(database_record(config, facts.database) for facts in collected.databases)
    agents = tuple(AgentRecord(agent.name, tuple(agent.paths)) for agent in config.agents)
    return targets, databases, agents


def target_record(
    facts: TargetFacts,
    agents: Sequence[AgentTargetFacts],
    verifier: VerifierTargetFacts | None,
    agent_names: Sequence[str] = (),
    *,
    repository: RepositoryFacts | None = None,
) -> TargetRecord:
    """The target's record; with no trust facts for it (the run was stopped before they were
    collected) every holder is unread, never taken for one without powers."""
    target = facts.target
    prefix = target.prefix.strip("/")
    settings = [Setting("location", f"{target.location}/{prefix}" if prefix else target.location)]
    settings.extend(_posture_settings(target.type, facts.posture))
    if repository is not None:
        settings.extend(_repository_settings(repository))
    lifecycle = _lifecycle(facts.posture)
    if verifier is None:
        holders = [Holder(name, unread=_NOT_JUDGED) for name in (None, *agent_names)]
    else:
        judged = {item.agent.name: item for item in agents}
        holders = [_holder(None, verifier.access, verifier.writable_path)]
        holders.extend(
            _holder(name, judged[name].access, judged[name].agent_paths_reach_target)
            if name in judged
            else Holder(name, unread=_NOT_JUDGED)
            for name in agent_names
        )
    return TargetRecord(
        name=target.name,
        type=target.type.value,
        settings=tuple(settings),
        lifecycle=() if isinstance(lifecycle, Unavailable) else lifecycle,
        lifecycle_unread=lifecycle.reason if isinstance(lifecycle, Unavailable) else None,
        holders=tuple(holders),
    )


def database_record(config: Config, database: Database) -> DatabaseRecord:
    policy = config.policy_for(database)
    settings = (
        _count("copies", policy.copies),
        _count("media", policy.media),
        _count("offsite copies", policy.offsite),
        _count("immutable copies", policy.immutable),
        _duration("max_age", policy.max_age, longer_is_stronger=False),
        _duration("min_retention", policy.min_retention, longer_is_stronger=True),
        Setting("max_size_drop", policy.max_size_drop, strength=-policy.max_size_drop),
        Setting(
            "governance_is_warning",
            policy.governance_is_warning,
            strength=0 if policy.governance_is_warning else 1,
        ),
        Setting("snapshot_pattern", database.snapshot_pattern),
        _duration("rto", database.rto, longer_is_stronger=False)
        if database.rto is not None
        else Setting("rto", None, shown="no limit", strength=UNLIMITED),
    )
    checks = tuple(
        QueryRecord(query.name, hashlib.sha256(query.sql.encode()).hexdigest(), query.expect.strip())
        for query in database.checks
    )
    return DatabaseRecord(database.name, tuple(database.targets), settings, checks)


def _count(name: str, value: int) -> Setting:
    return Setting(name, value, strength=value)


def _duration(name: str, value: timedelta, *, longer_is_stronger: bool) -> Setting:
    seconds = value.total_seconds()
    return Setting(
        name, seconds, shown=format_duration(value), strength=seconds if longer_is_stronger else -seconds
    )


def _part(posture: P | Unavailable, read: Callable[[P], Any]) -> Any:
    return posture if isinstance(posture, Unavailable) else read(posture)


def _setting(
    name: str, value: Any, strength: Callable[[Any], float] | None = None, shown: str = ""
) -> Setting:
    """A setting from a posture part: unread with its reason, or its value and strength."""
    if isinstance(value, Unavailable):
        return Setting(name, unread=value.reason)
    if isinstance(value, DocumentDigest):
        return Setting(name, value.sha256, shown=value.describe())
    plain: Value = value
    return Setting(name, plain, shown=shown, strength=strength(value) if strength else None)


def _seconds(value: int | Unavailable | None) -> str:
    if isinstance(value, Unavailable):
        return ""
    return "none" if value is None else format_duration(timedelta(seconds=value))


def _posture_settings(kind: TargetType, posture: BucketPosture | Unavailable) -> list[Setting]:
    """One setting per part of the posture, each unread on its own; by the target's type, so that a
    posture that could not be read at all still names the settings it would have held."""
    if kind is TargetType.S3 and isinstance(posture, S3BucketPosture | Unavailable):
        s3 = posture
        versioning = _part(s3, lambda p: p.versioning)
        days = _part(s3, lambda p: p.default_lock_days)
        never = "" if isinstance(versioning, Unavailable) or versioning else "never enabled"
        return [
            _setting("versioning", versioning, lambda v: _VERSIONING.get(v or "", 0), shown=never),
            _setting("Object Lock", _part(s3, lambda p: p.object_lock_enabled), lambda v: int(bool(v))),
            _setting(
                "default lock mode",
                _part(s3, lambda p: p.default_lock_mode),
                lambda v: _LOCK_MODES.get(v or "", 0),
            ),
            _setting("default lock days", days, lambda v: v or 0),
            _setting("bucket policy", _part(s3, lambda p: p.policy)),
            _setting("bucket ACL", _part(s3, lambda p: p.acl)),
        ]
    if kind is TargetType.GCS and isinstance(posture, GcsBucketPosture | Unavailable):
        gcs = posture
        period = _part(gcs, lambda p: p.retention_period_seconds)
        soft = _part(gcs, lambda p: p.soft_delete_seconds)
        return [
            _setting("retention period", period, lambda v: v or 0, shown=_seconds(period)),
            _setting(
                "retention policy locked", _part(gcs, lambda p: p.retention_locked), lambda v: int(bool(v))
            ),
            _setting("versioning", _part(gcs, lambda p: p.versioning), lambda v: int(bool(v))),
            _setting("soft delete", soft, lambda v: v or 0, shown=_seconds(soft)),
            _setting(
                "object retention", _part(gcs, lambda p: p.object_retention_enabled), lambda v: int(bool(v))
            ),
            _setting("bucket IAM policy", _part(gcs, lambda p: p.iam_policy)),
        ]
    if kind is TargetType.FILESYSTEM and isinstance(posture, FilesystemPosture | Unavailable):
        return [
            _setting("read-only mount", _part(posture, lambda p: p.read_only_mount), lambda v: int(bool(v)))
        ]
    return []  # a kind of target whose settings drill does not record


def _repository_settings(repository: RepositoryFacts) -> list[Setting]:
    """What pgBackRest's own config promises for one repository: how long expire keeps backups and
    WAL, and whether the repository is encrypted. A count and a number of days are different
    settings, so that switching from one to the other is a change to review, not a comparison."""
    names = ("pgBackRest full backups kept", "pgBackRest days of full backups kept", "pgBackRest cipher")
    if isinstance(repository.repo, Unavailable):
        return [Setting(name, unread=repository.repo.reason) for name in names]
    settings: RepoSettings = repository.repo.settings
    retention = settings.retention
    by_days = retention.full_type == "time"
    full = (
        Setting(names[1] if by_days else names[0], retention.full, strength=retention.full)
        if retention.full is not None
        else Setting(names[0], None, shown="not set (expire keeps every backup)", strength=KEPT_FOREVER)
    )
    archive = (
        Setting(
            f"pgBackRest WAL kept for {retention.archive_type} backups",
            retention.archive,
            strength=retention.archive,
        )
        if retention.archive is not None
        else Setting("pgBackRest WAL kept", None, shown="as long as the backups it serves")
    )
    cipher = Setting(names[2], settings.cipher_type, strength=0 if settings.cipher_type == "none" else 1)
    return [full, archive, cipher]


def _lifecycle(posture: BucketPosture | Unavailable) -> tuple[LifecycleRecord, ...] | Unavailable:
    if isinstance(posture, Unavailable):
        return posture
    if not isinstance(posture, S3BucketPosture | GcsBucketPosture):
        return ()
    rules = posture.lifecycle
    if isinstance(rules, Unavailable):
        return rules
    return tuple(_rule(rule) for rule in rules)


def _rule(rule: LifecycleRule) -> LifecycleRecord:
    return LifecycleRecord(
        rule_id=rule.rule_id,
        enabled=rule.enabled,
        prefix=rule.prefix,
        expire_current_days=rule.expire_current_days,
        expire_noncurrent_days=rule.expire_noncurrent_days,
        expire_on=rule.expire_on.isoformat() if rule.expire_on else None,
        delete_created_before=rule.delete_created_before.isoformat() if rule.delete_created_before else None,
        conditions_unknown=rule.conditions_unknown,
    )


def _holder(agent: str | None, access: Access | Unavailable | None, writes_path: bool | None) -> Holder:
    """What one set of credentials may do to the target: every destructive permission and way to
    gain one that was not denied. A filesystem target has no cloud access; there the holder may
    write when the path lies under its paths (an agent) or its OS user may write there (drill)."""
    if isinstance(access, Unavailable):
        return Holder(agent, unread=access.reason)
    if access is None:
        if not writes_path:
            return Holder(agent)
        grant = (
            "the agent's paths, which hold the target's path"
            if agent
            else "drill's OS user, which may write there"
        )
        return Holder(agent, powers=(Power(FILESYSTEM_WRITE, "allowed", grant),))
    principal = access.identity.principal if isinstance(access.identity, Identity) else None
    powers: dict[str, Power] = {}
    for item in (*access.permissions, *access.escalation):
        if item.answer is Answer.DENIED:
            continue
        key = item.permission + (f" as {' > '.join(item.via)}" if item.via else "")
        answer: Literal["allowed", "unknown"] = "allowed" if item.answer is Answer.ALLOWED else "unknown"
        if key not in powers or answer == "allowed":
            powers[key] = Power(key, answer, item.grant)
    return Holder(agent, principal, tuple(powers[key] for key in sorted(powers)))
