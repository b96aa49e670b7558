"""The TOML contract as frozen pydantic models: strict types, unknown keys refused, limits checked.

What the models alone cannot judge (secrets written into the file, names that point nowhere, unset
variables, missing files) is in drill.config.consistency; turning pydantic's errors into lines
that name the file and the dotted key is drill.config.errors.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from drill.config.keeping import KeepPeriod
from drill.config.operations import MetricsSettings, NotifySettings, ScheduleSettings
from drill.config.types import ByteSize, Duration, Frozen

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_EXPECTATION = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


_EXTENSION = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"


class TargetType(enum.StrEnum):
    S3 = "s3"
    GCS = "gcs"
    FILESYSTEM = "filesystem"
    PGBACKREST = "pgbackrest"  # a pgBackRest stanza: each of its repositories is a copy


class Credentials(Frozen):
    """Where credentials come from; never the secret itself. Empty means the SDK's default chain."""

    profile: str | None = None
    credentials_file: str | None = None
    access_key_id_env: str | None = None
    secret_access_key_env: str | None = None
    session_token_env: str | None = None
    service_account_file: str | None = None
    anonymous: bool = False

    @model_validator(mode="after")
    def _pairs(self) -> Credentials:
        if bool(self.access_key_id_env) != bool(self.secret_access_key_env):
            raise ValueError("access_key_id_env and secret_access_key_env go together; name both")
        return self

    @property
    def configured(self) -> bool:
        """False for an empty table (the SDK's default chain): for an agent, that names no credentials."""
        return self != Credentials()

    @property
    def provider(self) -> str | None:
        """Which cloud these credentials belong to: "aws", "gcp", "anonymous", or None if empty."""
        if self.service_account_file:
            return "gcp"
        if self.profile or self.credentials_file or self.access_key_id_env:
            return "aws"
        return "anonymous" if self.anonymous else None

    def env_names(self) -> tuple[str, ...]:
        names = (self.access_key_id_env, self.secret_access_key_env, self.session_token_env)
        return tuple(name for name in names if name)

    def secret_env_names(self) -> tuple[str, ...]:
        """The variables whose values are secrets (an access key id is an identifier, not a secret)."""
        return tuple(name for name in (self.secret_access_key_env, self.session_token_env) if name)


class Policy(Frozen):
    """The 3-2-1-1-0 numbers and the limits every database is held to. Production is never a copy."""

    copies: int = Field(3, ge=1)
    media: int = Field(2, ge=1)
    offsite: int = Field(1, ge=0)
    immutable: int = Field(1, ge=0)
    max_age: Duration = timedelta(hours=26)
    min_retention: Duration = timedelta(days=30)
    max_size_drop: float = Field(0.5, gt=0, le=1)
    governance_is_warning: bool = False


class PolicyOverrides(Frozen):
    copies: int | None = Field(None, ge=1)
    media: int | None = Field(None, ge=1)
    offsite: int | None = Field(None, ge=0)
    immutable: int | None = Field(None, ge=0)
    max_age: Duration | None = None
    min_retention: Duration | None = None
    max_size_drop: float | None = Field(None, gt=0, le=1)
    governance_is_warning: bool | None = None

    def applied_to(self, defaults: Policy) -> Policy:
        overrides = {
            name: getattr(self, name)
            for name in PolicyOverrides.model_fields
            if getattr(self, name) is not None
        }
        return defaults.model_copy(update=overrides)


class Target(Frozen):
    name: str = Field(pattern=_NAME)
    type: Annotated[TargetType, Field(strict=False)]
    # The failure domain. Required, except for a pgbackrest target, whose s3 and gcs repositories are
    # then each their bucket's location (a posix repository still needs one: drill cannot know its site).
    site: str = Field("", validate_default=True)
    bucket: str | None = None
    prefix: str = ""
    path: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    media: str | None = None
    immutable: bool = False
    credentials: Credentials = Credentials()
    # Trust separation: who owns the bucket (AWS account id or GCP project; default: the account of
    # drill's own credentials for it) and which principal writes the backups (ARN or email).
    account: str | None = None
    writer: str | None = None
    # s3 only: where an S3-compatible store's identity APIs are (default: AWS's own, or none at all
    # when endpoint_url is not AWS; then drill asks neither STS nor IAM at the S3 endpoint).
    sts_endpoint_url: str | None = None
    iam_endpoint_url: str | None = None
    # pgbackrest only: the stanza, its pgBackRest config file (default: pgBackRest's own lookup), and
    # one repository of it (default: every repository, each one copy).
    stanza: str | None = Field(None, pattern=_NAME)
    config: str | None = None
    repo: int | None = Field(None, ge=1, le=256)

    @field_validator("site")
    @classmethod
    def _site(cls, site: str, info: ValidationInfo) -> str:
        if not site and info.data.get("type") is not TargetType.PGBACKREST:
            raise ValueError("is required: the failure domain (only a pgbackrest target may leave it out)")
        return site

    @model_validator(mode="after")
    def _location(self) -> Target:
        if self.type is TargetType.PGBACKREST:
            return self._stanza()
        stray = [key for key in ("stanza", "config", "repo") if getattr(self, key) is not None]
        if stray:
            raise ValueError(f"only a pgbackrest target takes {', '.join(stray)}")
        if self.type is TargetType.FILESYSTEM:
            if not self.path:
                raise ValueError("a filesystem target needs 'path'")
            stray = [
                key for key in ("bucket", "region", "endpoint_url", "account", "writer") if getattr(self, key)
            ]
            if stray:
                raise ValueError(f"a filesystem target takes 'path', not {', '.join(stray)}")
        else:
            if not self.bucket:
                raise ValueError(f"an {self.type.value} target needs 'bucket'")
            if self.path:
                raise ValueError(f"an {self.type.value} target takes 'bucket' and 'prefix', not 'path'")
        if self.type is not TargetType.S3 and (self.sts_endpoint_url or self.iam_endpoint_url):
            raise ValueError("only an s3 target takes 'sts_endpoint_url' and 'iam_endpoint_url'")
        return self

    def _stanza(self) -> Target:
        if not self.stanza:
            raise ValueError("a pgbackrest target needs 'stanza'")
        # Where the repositories are comes from pgBackRest's own config; the rest says how drill
        # reads a repository's bucket (endpoint, region, credentials, owner, writer).
        stray = [key for key in ("bucket", "path", "prefix") if getattr(self, key)]
        if self.immutable:
            stray.append("immutable")
        if stray:
            raise ValueError(
                f"a pgbackrest target takes its repositories from pgBackRest's config, not {', '.join(stray)}"
            )
        return self

    @property
    def effective_media(self) -> str:
        return self.media or self.type.value

    @property
    def location(self) -> str:
        """Where the data physically lives; two targets with one location are one copy."""
        if self.type is TargetType.FILESYSTEM:
            return f"file://{self.path}"
        if self.type is TargetType.PGBACKREST:
            return f"pgbackrest://{self.stanza}@{self.config or 'default'}"
        endpoint = self.endpoint_url or self.type.value
        return f"{self.type.value}://{self.bucket}@{endpoint}"


class IntegrityQuery(Frozen):
    name: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    expect: str

    @field_validator("expect")
    @classmethod
    def _expectation(cls, expect: str) -> str:
        if not _EXPECTATION.match(expect):
            raise ValueError(
                f"{expect!r} is not a comparison; write an operator "
                "(==, !=, >, >=, <, <=) and a number, such as '> 0' or '>= 1000'"
            )
        return expect

    def comparison(self) -> tuple[str, float]:
        match = _EXPECTATION.match(self.expect)
        assert match is not None  # validated above
        return match.group(1), float(match.group(2))


class Database(PolicyOverrides):
    name: str = Field(pattern=_NAME)
    site: str = Field(min_length=1)
    targets: tuple[str, ...] = Field(min_length=1)
    # Which objects are this database's snapshots on its dump targets; a database whose targets are
    # all pgBackRest stanzas needs none.
    snapshot_pattern: str | None = Field(None, min_length=1)
    checks: tuple[IntegrityQuery, ...] = ()
    rto: Duration | None = None  # recovery time objective: the whole drill must finish within it
    restore_from: str | None = None  # the target to restore from; default: the first holding the newest
    recovery_point_columns: tuple[
        str, ...
    ] = ()  # "table.column" timestamps whose newest value is the data's age
    schedule: str | None = None  # a cron expression for this database, instead of [schedule] cron


class Agent(Frozen):
    name: str = Field(pattern=_NAME)
    credentials: Credentials = Credentials()
    paths: tuple[str, ...] = ()
    env_file: str | None = None
    # No longer used: every probe is now a request on a real backup key that cannot change it, so
    # none leaves a trace to allow. Kept so that configs that set it still load.
    trace_probes: bool = False


class ReportSettings(Frozen):
    dir: str = "drill-reports"
    # Pruning after each run (drill.reports.pruning): none set keeps every run, as before.
    keep_runs: int | None = Field(None, ge=1)  # the newest this many runs
    keep_days: int | None = Field(None, ge=1)  # runs started within this many days
    keep_period: tuple[KeepPeriod, ...] = ()  # never pruned, whatever the two above say

    @field_validator("keep_period", mode="before")
    @classmethod
    def _one_period(cls, value: Any) -> Any:
        """``keep_period = "2026-Q3"`` (one period) as well as a list of them."""
        return (value,) if isinstance(value, str | dict) else value


class RestoreEngine(enum.StrEnum):
    EMBEDDED = "embedded"  # a throwaway cluster drill creates with initdb and deletes afterwards
    DSN = "dsn"  # an existing scratch server: drill creates, fills and drops one database on it


class RestoreSettings(Frozen):
    """How the restore drill gets its scratch PostgreSQL, and how hard it verifies."""

    engine: Annotated[RestoreEngine, Field(strict=False)] = RestoreEngine.EMBEDDED
    bin_dir: str | None = None  # PostgreSQL server binaries; default: PATH, then the usual places
    run_as: str = "postgres"  # when drill runs as root: initdb refuses root, so the server runs as this user
    work_dir: str | None = None  # where scratch clusters and downloads go; default: the system temp dir
    jobs: int = Field(2, ge=1, le=64)  # pg_restore --jobs
    heapallindexed: bool = False  # amcheck also verifies that every heap tuple is indexed (slower)
    dsn_env: str | None = None  # engine = "dsn": the variable holding the scratch server's DSN
    dsn_is_scratch: bool = False  # engine = "dsn": the operator's statement that the server is disposable
    timeout: Duration = timedelta(hours=6)  # a restore running longer is stopped and fails
    # How far a snapshot may expand on local disk (download, unpacking, the scratch cluster's growth);
    # None: until the scratch filesystem's free space would fall under 5%.
    max_expanded_size: ByteSize | None = None
    # Extensions drill creates for a snapshot beyond its default allow-list (drill.restore.extensions).
    allowed_extensions: tuple[Annotated[str, Field(pattern=_EXTENSION)], ...] = ()

    @model_validator(mode="after")
    def _engine(self) -> RestoreSettings:
        if self.engine is RestoreEngine.DSN:
            if not self.dsn_env:
                raise ValueError("engine 'dsn' needs dsn_env, the name of the variable holding the DSN")
            if not self.dsn_is_scratch:
                raise ValueError(
                    "engine 'dsn' restores only into a server marked disposable: set dsn_is_scratch = true "
                    "once you are sure nothing else lives on it"
                )
        return self


class RunSettings(Frozen):
    """How long a run waits for storage: a target that does not answer ends as ``error``, the run goes on."""

    # Per target: its posture, listings and the latest snapshot's metadata, counted from its first read.
    timeout: Duration = timedelta(minutes=3)

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class BaselineSettings(Frozen):
    """Where the approved baseline lives (``drill baseline approve`` writes it), and whether one must."""

    path: str | None = None  # default: baseline.json in the report directory
    required: bool = False  # a missing baseline then fails every run, instead of being noted once


class Config(Frozen):
    report: ReportSettings = ReportSettings()
    baseline: BaselineSettings = BaselineSettings()
    run: RunSettings = RunSettings()
    policy: Policy = Policy()
    targets: tuple[Target, ...] = ()
    databases: tuple[Database, ...] = ()
    agents: tuple[Agent, ...] = ()
    restore: RestoreSettings = RestoreSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    metrics: MetricsSettings = MetricsSettings()
    notify: NotifySettings = NotifySettings()

    def target(self, name: str) -> Target:
        return next(target for target in self.targets if target.name == name)

    @property
    def baseline_path(self) -> str:
        """The approved baseline's file: ``[baseline] path``, or baseline.json in the report directory."""
        return self.baseline.path or str(Path(self.report.dir) / "baseline.json")

    def policy_for(self, database: Database) -> Policy:
        return database.applied_to(self.policy)

    def secret_env_names(self) -> tuple[str, ...]:
        holders = [target.credentials for target in self.targets] + [
            agent.credentials for agent in self.agents
        ]
        return tuple(sorted({name for credentials in holders for name in credentials.secret_env_names()}))
