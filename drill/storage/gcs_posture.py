"""Read a Cloud Storage bucket's protection (retention policy, versioning, soft delete, lifecycle) and
one object's retention and holds.

The normalising functions take the client's Bucket and Blob (or, for lifecycle, the rules in the
documented JSON shape), so a documented response can be tested without a server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from drill.facts import DocumentDigest, GcsBucketPosture, LifecycleRule, ObjectProtection
from drill.facts.posture import NOT_READ
from drill.model import Unavailable
from drill.storage.base import document_digest

# Conditions drill cannot evaluate against a snapshot's key and age: the rule is assumed to apply.
_UNKNOWN_CONDITIONS = (
    "matchesSuffix",
    "matchesStorageClass",
    "customTimeBefore",
    "daysSinceCustomTime",
    "numNewerVersions",
    "noncurrentTimeBefore",
)
# Conditions that restrict a rule to noncurrent versions.
_NONCURRENT_CONDITIONS = ("daysSinceNoncurrentTime", "numNewerVersions", "noncurrentTimeBefore")


def bucket_posture(bucket: Any, iam_policy: DocumentDigest | Unavailable = NOT_READ) -> GcsBucketPosture:
    """The posture of a bucket whose metadata has been loaded (``get_bucket`` or ``reload``)."""
    soft_delete = bucket.soft_delete_policy.retention_duration_seconds
    return GcsBucketPosture(
        retention_period_seconds=bucket.retention_period,
        retention_locked=bool(bucket.retention_policy_locked),
        versioning=bool(bucket.versioning_enabled),
        soft_delete_seconds=int(soft_delete) if soft_delete is not None else None,
        object_retention_enabled=bucket.object_retention_mode == "Enabled",
        lifecycle=lifecycle_rules(bucket.lifecycle_rules),
        iam_policy=iam_policy,
    )


def iam_policy_digest(policy: Mapping[str, Any]) -> DocumentDigest:
    """The digest of a bucket IAM policy in the JSON API's shape: its version and bindings, each
    binding's members sorted and the bindings in any order; the etag (which changes on every
    write) is left out."""
    bindings = []
    for binding in policy.get("bindings") or ():
        entry = {key: value for key, value in binding.items() if key != "members"}
        entry["members"] = sorted(str(member) for member in binding.get("members") or ())
        bindings.append(entry)
    bindings.sort(key=lambda binding: json.dumps(binding, sort_keys=True, default=str))
    return document_digest({"version": policy.get("version"), "bindings": bindings}, len(bindings), "binding")


def lifecycle_rules(rules: Iterable[Mapping[str, Any]]) -> tuple[LifecycleRule, ...]:
    """The bucket's Delete rules, one LifecycleRule per prefix; SetStorageClass and other actions delete nothing.

    GCS rules carry no id: each is named by its position, ``lifecycle[N]``, counting every rule.
    """
    normalised: list[LifecycleRule] = []
    for index, rule in enumerate(rules):
        if (rule.get("action") or {}).get("type") == "Delete":
            normalised.extend(delete_rule(rule, index))
    return tuple(normalised)


def delete_rule(rule: Mapping[str, Any], index: int) -> list[LifecycleRule]:
    """One Delete rule in the JSON API's shape (``{"action": ..., "condition": ...}``).

    Conditions are ANDed. ``age`` counts from creation and, unless ``isLive`` or a noncurrent-only
    condition restricts it, applies to live and noncurrent versions alike. A rule with no day count
    and no ``createdBefore`` deletes as soon as its other conditions match: 0 days (``isLive: false``
    alone deletes every version the moment it becomes noncurrent). Count, suffix, storage-class and
    custom-time conditions cannot be evaluated by drill, so the rule is marked
    ``conditions_unknown`` and assumed to apply.
    """
    condition: Mapping[str, Any] = rule.get("condition") or {}
    age = _days(condition.get("age"))
    since_noncurrent = _days(condition.get("daysSinceNoncurrentTime"))
    is_live = condition.get("isLive")
    noncurrent_only = is_live is False or any(name in condition for name in _NONCURRENT_CONDITIONS)
    # With only a createdBefore date, the date is the rule's one bound: delete_created_before says it.
    unbounded = None if "createdBefore" in condition else 0
    current: int | None = None
    if not noncurrent_only:
        current = age if age is not None else unbounded
    noncurrent: int | None = None
    if is_live is not True:
        noncurrent = next((days for days in (since_noncurrent, age) if days is not None), unbounded)
    created_before = _date(condition.get("createdBefore"))
    unknown = any(name in condition for name in _UNKNOWN_CONDITIONS)
    prefixes: list[str | None] = [prefix or None for prefix in condition.get("matchesPrefix") or ()]
    return [
        LifecycleRule(
            rule_id=f"lifecycle[{index}]",
            enabled=True,  # GCS rules have no status: a rule that exists is in force
            prefix=prefix,
            expire_current_days=current,
            expire_noncurrent_days=noncurrent,
            delete_created_before=created_before,
            conditions_unknown=unknown,
            raw=_plain(rule),
        )
        for prefix in prefixes or [None]
    ]


def blob_protection(key: str, blob: Any) -> ObjectProtection:
    """The retention, holds and checksums of one object generation whose metadata has been loaded;
    ``key`` is its escaped name, as the listing gave it."""
    holds = tuple(
        name
        for name, held in (("event_based", blob.event_based_hold), ("temporary", blob.temporary_hold))
        if held
    )
    retention = blob.retention
    retain_until = retention.retain_until_time
    checksums = {
        algorithm: value
        for algorithm, value in (("md5", blob.md5_hash), ("crc32c", blob.crc32c))
        if value  # composite objects have no md5
    }
    # timeCreated, not updated: setting a hold must not make an old backup look new.
    written = blob.time_created or blob.updated
    return ObjectProtection(
        key=key,
        size=int(blob.size),
        written_at=written.astimezone(UTC),
        version_id=str(blob.generation) if blob.generation else None,
        lock_mode=retention.mode or None,
        retain_until=retain_until.astimezone(UTC) if retain_until else None,
        legal_hold=bool(holds),
        holds=holds,
        checksums=checksums,
    )


def _days(value: Any) -> int | None:
    return int(value) if value is not None else None


def _date(value: Any) -> datetime | None:
    """``createdBefore`` is a date (``2024-01-01``); the rule matches objects created before its midnight UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value[:10]).replace(tzinfo=UTC)
    return None


def _plain(value: Any) -> Any:
    """A deep copy made of dicts, lists and scalars (the client hands out dict subclasses)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
