"""The approved configuration as data: what ``drill baseline approve`` records and every run compares with.

Per target: the settings that protect its copies (Object Lock, versioning, retention, digests of
the bucket policy and ACL), the lifecycle rules that delete, and who may delete or weaken them
(each holder's powers from the trust evidence, with the policy that grants them). Per database:
its targets, its policy and its integrity checks. Per agent: the paths its scan covers. A value
drill could not read when approving is recorded as unread, with the reason, never as a value.

Frozen data only, no I/O: ``drill.baseline.codec`` writes and reads it, ``drill.collect`` captures
today's records from the collected facts, and the ``drift`` check compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

# A setting's value as JSON holds it: durations in seconds, digests as hex, absent as None.
Value = str | int | float | bool | None


@dataclass(frozen=True)
class Setting:
    """One named value of a target or database, as reports name it ("Object Lock default mode")."""

    name: str
    value: Value = None
    shown: str = ""  # how a reader sees the value when not as written: "30d", "3 statements, sha256 ..."
    # Grows as the setting protects more; None for a setting that cannot be ordered (a digest).
    strength: float | None = None
    unread: str | None = None  # why the value could not be read; then ``value`` means nothing

    def text(self) -> str:
        """The value as a finding states it."""
        if self.unread is not None:
            return "unread"
        if self.shown:
            return self.shown
        if self.value is None:
            return "none"
        if isinstance(self.value, bool):
            return "yes" if self.value else "no"
        return str(self.value)


@dataclass(frozen=True)
class LifecycleRecord:
    """A lifecycle rule that deletes or expires objects, as ``drill.facts.LifecycleRule`` reads it."""

    rule_id: str
    enabled: bool
    prefix: str | None = None
    expire_current_days: int | None = None
    expire_noncurrent_days: int | None = None
    expire_on: str | None = None  # ISO 8601: from this moment every matching object expires
    delete_created_before: str | None = None  # ISO 8601: objects created before it are deleted
    conditions_unknown: bool = False

    def describe(self) -> str:
        parts = [f"prefix {self.prefix!r}" if self.prefix else "every object"]
        if self.expire_current_days is not None:
            parts.append(f"current versions after {self.expire_current_days} days")
        if self.expire_noncurrent_days is not None:
            parts.append(f"noncurrent versions after {self.expire_noncurrent_days} days")
        if self.expire_on:
            parts.append(f"everything on {self.expire_on}")
        if self.delete_created_before:
            parts.append(f"objects created before {self.delete_created_before}")
        if self.conditions_unknown:
            parts.append("with a filter drill cannot evaluate")
        if not self.enabled:
            parts.append("disabled")
        return ", ".join(parts)


@dataclass(frozen=True)
class Power:
    """One destructive permission (or a way to gain one) that a holder was not denied."""

    permission: str  # as the provider spells it, or "filesystem:write" for a directory
    answer: Literal["allowed", "unknown"]
    grant: str = ""  # the policy and statement that grants it, as the trust evidence names it


@dataclass(frozen=True)
class Holder:
    """A set of credentials judged against a target: an agent's, or drill's own (``agent`` None)."""

    agent: str | None
    principal: str | None = None  # the ARN or email the credentials act as, when learnt
    powers: tuple[Power, ...] = ()  # every permission not denied; one absent was denied
    unread: str | None = None  # why the holder's powers could not be read

    @property
    def name(self) -> str:
        return f"agent {self.agent}" if self.agent is not None else "drill's own credentials"


@dataclass(frozen=True)
class TargetRecord:
    noun: ClassVar[str] = "Target"
    name: str
    type: str
    settings: tuple[Setting, ...]
    lifecycle: tuple[LifecycleRecord, ...] = ()
    lifecycle_unread: str | None = None
    holders: tuple[Holder, ...] = ()


@dataclass(frozen=True)
class QueryRecord:
    """An integrity check of a database: its name, the SQL's digest and the expectation."""

    name: str
    sql_sha256: str
    expect: str


@dataclass(frozen=True)
class DatabaseRecord:
    noun: ClassVar[str] = "Database"
    name: str
    targets: tuple[str, ...]
    settings: tuple[Setting, ...]  # the policy it is held to, its snapshot pattern and RTO
    checks: tuple[QueryRecord, ...] = ()


@dataclass(frozen=True)
class AgentRecord:
    noun: ClassVar[str] = "Agent"
    name: str
    paths: tuple[str, ...] = ()  # what the credential scan covers


@dataclass(frozen=True)
class Approval:
    """Who approved, when, with which drill, and the config file that described the estate then."""

    by: str
    at: datetime
    drill_version: str
    config_path: str
    config_sha256: str


@dataclass(frozen=True)
class Baseline:
    approval: Approval
    targets: tuple[TargetRecord, ...] = ()
    databases: tuple[DatabaseRecord, ...] = ()
    agents: tuple[AgentRecord, ...] = ()

    def unread(self) -> tuple[str, ...]:
        """What could not be read when approving, one line each: those parts are not monitored."""
        lines: list[str] = []
        for target in self.targets:
            lines.extend(
                f"target {target.name}: {setting.name}: {setting.unread}"
                for setting in target.settings
                if setting.unread is not None
            )
            if target.lifecycle_unread is not None:
                lines.append(f"target {target.name}: lifecycle rules: {target.lifecycle_unread}")
            lines.extend(
                f"target {target.name}: {holder.name}: {holder.unread}"
                for holder in target.holders
                if holder.unread is not None
            )
        return tuple(lines)
