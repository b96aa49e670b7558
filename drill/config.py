"""The TOML contract: one strictly validated, frozen model, and errors that name file, key and reason.

Relative paths in the file (filesystem targets, credential files, agent paths, the report
directory) are resolved against the directory that holds the config file, so that a cron job
started from ``$HOME`` reads the same files as an engineer in the repository.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from drill.cron import trigger, zone
from drill.durations import parse_duration

# Keys that would hold a secret itself; the message says which *_env or *_file key to use instead.
_LITERAL_SECRET_KEYS = {
    "access_key_id": "access_key_id_env",
    "aws_access_key_id": "access_key_id_env",
    "secret_access_key": "secret_access_key_env",
    "aws_secret_access_key": "secret_access_key_env",
    "session_token": "session_token_env",
    "aws_session_token": "session_token_env",
    "password": "an environment variable or a file",
    "token": "an environment variable or a file",
    "secret": "an environment variable or a file",
    "private_key": "service_account_file",
    "service_account_json": "service_account_file",
}
# Shapes of real secrets, so that a value put where a variable *name* belongs is caught.
_SECRET_SHAPES = (
    re.compile(r"^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}$"),
    re.compile(r"^[A-Za-z0-9/+=]{40}$"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){1,2}$")
_EXPECTATION = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def _duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        return value
    raise ValueError("must be a duration string such as '26h' or '30d'")


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TargetType(enum.StrEnum):
    S3 = "s3"
    GCS = "gcs"
    FILESYSTEM = "filesystem"


class Credentials(_Frozen):
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


class Policy(_Frozen):
    """The 3-2-1-1-0 numbers and the limits every database is held to. Production is never a copy."""

    copies: int = Field(3, ge=1)
    media: int = Field(2, ge=1)
    offsite: int = Field(1, ge=0)
    immutable: int = Field(1, ge=0)
    max_age: Duration = timedelta(hours=26)
    min_retention: Duration = timedelta(days=30)
    max_size_drop: float = Field(0.5, gt=0, le=1)
    governance_is_warning: bool = False


class PolicyOverrides(_Frozen):
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


class Target(_Frozen):
    name: str = Field(pattern=_NAME)
    type: Annotated[TargetType, Field(strict=False)]
    site: str = Field(min_length=1)
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

    @model_validator(mode="after")
    def _location(self) -> Target:
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
        return self

    @property
    def effective_media(self) -> str:
        return self.media or self.type.value

    @property
    def location(self) -> str:
        """Where the data physically lives; two targets with one location are one copy."""
        if self.type is TargetType.FILESYSTEM:
            return f"file://{self.path}"
        endpoint = self.endpoint_url or self.type.value
        return f"{self.type.value}://{self.bucket}@{endpoint}"


class IntegrityQuery(_Frozen):
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
    snapshot_pattern: str = Field(min_length=1)
    checks: tuple[IntegrityQuery, ...] = ()
    rto: Duration | None = None  # recovery time objective: the whole drill must finish within it
    restore_from: str | None = None  # the target to restore from; default: the first holding the newest
    recovery_point_columns: tuple[
        str, ...
    ] = ()  # "table.column" timestamps whose newest value is the data's age
    schedule: str | None = None  # a cron expression for this database, instead of [schedule] cron


class Agent(_Frozen):
    name: str = Field(pattern=_NAME)
    credentials: Credentials = Credentials()
    paths: tuple[str, ...] = ()
    env_file: str | None = None
    # Allow probes that may leave a trace: on a versioned bucket, DeleteObject of a key that does
    # not exist adds a delete marker for that key (nothing else changes).
    trace_probes: bool = False


class ReportSettings(_Frozen):
    dir: str = "drill-reports"


class RestoreEngine(enum.StrEnum):
    EMBEDDED = "embedded"  # a throwaway cluster drill creates with initdb and deletes afterwards
    DSN = "dsn"  # an existing scratch server: drill creates, fills and drops one database on it


class RestoreSettings(_Frozen):
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


class ScheduleSettings(_Frozen):
    """When ``drill schedule`` drills: cron expressions, read in one time zone."""

    cron: str | None = None  # every database without its own `schedule`; 5 fields, or 6 with seconds first
    timezone: str = "UTC"  # an IANA name; the cron expressions are read in it (daylight saving included)
    lock_dir: str | None = None  # the per-database lock files; default <report dir>/locks

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        zone(name)
        return name


class MetricsSettings(_Frozen):
    """Prometheus metrics after each run: a file for node_exporter, and optionally a Pushgateway."""

    textfile: str | None = None  # rewritten atomically after each run, e.g. .../textfile_collector/drill.prom
    pushgateway_env: str | None = None  # the variable holding the Pushgateway URL (it may carry credentials)
    job: str = Field("drill", min_length=1)
    timeout: Duration = timedelta(seconds=10)


class NotifyEvent(enum.StrEnum):
    FAILURE = "failure"  # the run failed or could not verify something
    RECOVERY = "recovery"  # the first passing run after a failing one
    SUCCESS = "success"  # every passing run


class NotifySettings(_Frozen):
    """Who hears about a run: a chat webhook, and a dead man's switch that expects a ping per passing run."""

    webhook_env: str | None = None  # the variable holding a Slack-compatible incoming-webhook URL
    on: tuple[Annotated[NotifyEvent, Field(strict=False)], ...] = (NotifyEvent.FAILURE,)
    heartbeat_env: str | None = None  # the variable holding a healthchecks-style URL, pinged on success
    timeout: Duration = timedelta(seconds=10)  # per attempt
    retries: int = Field(3, ge=0, le=10)  # attempts after the first, with a growing pause between


class Config(_Frozen):
    report: ReportSettings = ReportSettings()
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

    def policy_for(self, database: Database) -> Policy:
        return database.applied_to(self.policy)

    def secret_env_names(self) -> tuple[str, ...]:
        holders = [target.credentials for target in self.targets] + [
            agent.credentials for agent in self.agents
        ]
        return tuple(sorted({name for credentials in holders for name in credentials.secret_env_names()}))


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


class ConfigError(Exception):
    """A config that cannot be used: every problem names the file, the dotted key and the reason."""

    def __init__(self, file: Path, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.file}: {problem.path}: {problem.reason}"
            if problem.path
            else f"{self.file}: {problem.reason}"
            for problem in self.problems
        )


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path
    sha256: str


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, validate and resolve a config file, or raise ConfigError with every problem found."""
    environ = os.environ if environ is None else environ
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise ConfigError(path, [Problem("", f"cannot read the file: {error.strerror or error}.")]) from None
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(path, [Problem("", f"not valid TOML: {error}.")]) from None

    problems = list(_literal_secrets(raw))
    if problems:
        raise ConfigError(path, problems)
    try:
        config = Config.model_validate(_tuples(raw))
    except ValidationError as error:
        raise ConfigError(path, [_problem(item) for item in error.errors()]) from None

    base = path.resolve().parent
    problems = [
        *_references(config),
        *_environment(config, environ),
        *_restore_environment(config, environ),
        *_schedules(config),
        *_outbound_environment(config, environ),
        *_files(config, base),
    ]
    if problems:
        raise ConfigError(path, problems)
    return LoadedConfig(_resolved(config, base), path, hashlib.sha256(raw_bytes).hexdigest())


def _tuples(value: Any) -> Any:
    """TOML arrays become tuples, so that strict validation accepts them for the frozen model."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


def dotted(location: tuple[int | str, ...]) -> str:
    """``('databases', 1, 'targets', 2)`` -> ``databases[1].targets[2]`` (indexes count from 0)."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _shown(error: Any, location: tuple[int | str, ...]) -> str:
    """What the user wrote, for the message; never a table, and nothing under ``credentials``,
    because a misshapen credentials table may hold the very secret that must not be echoed."""
    value = error.get("input")
    if "credentials" in location or not isinstance(value, (str, int, float, bool)):
        return ""
    return f" (got {value!r})"


_RANGE_WORDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def _problem(error: Any) -> Problem:
    location = tuple(error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = _model_at(location[:-1])
        known = ", ".join(sorted(parent.model_fields)) if parent else ""
        reason = f"unknown key; known keys here: {known}." if known else "unknown key."
    elif kind == "missing":
        reason = "is required."
    elif kind == "value_error":
        reason = str(error["msg"]).removeprefix("Value error, ").rstrip(".") + "."
    elif kind in _TYPE_WORDS:
        reason = f"must be {_TYPE_WORDS[kind]}{_shown(error, location)}."
    elif kind in _RANGE_WORDS:
        bound = next(iter(context.values()), "?")
        reason = f"must be {_RANGE_WORDS[kind]} {bound}{_shown(error, location)}."
    elif kind == "string_pattern_mismatch":
        reason = f"must start with a letter or digit and hold only letters, digits, '.', '_' and '-'{_shown(error, location)}."
    else:
        reason = f"{str(error['msg']).rstrip('.')}{_shown(error, location)}."
    return Problem(dotted(location), reason)


_TYPE_WORDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "tuple_type": "a list",
    "model_type": "a table",
    "dict_type": "a table",
    "timedelta_type": "a duration string such as '26h'",
}


def _model_at(location: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: Any = Config
    for part in location:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _credential_tables(raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section in ("targets", "agents"):
        entries = raw.get(section)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            credentials = entry.get("credentials") if isinstance(entry, dict) else None
            if isinstance(credentials, dict):
                yield f"{section}[{index}].credentials", credentials


def _literal_secrets(raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Refuse secrets written into the file, before anything else could echo them back."""
    for where, credentials in _credential_tables(raw):
        for key, value in credentials.items():
            if key.lower() in _LITERAL_SECRET_KEYS:
                instead = _LITERAL_SECRET_KEYS[key.lower()]
                yield Problem(
                    f"{where}.{key}",
                    f"holds a literal secret; secrets never go in the config file, use {instead} instead.",
                )
            elif isinstance(value, str) and key.endswith("_env") and not _ENV_NAME.match(value):
                looks_secret = any(shape.search(value) for shape in _SECRET_SHAPES)
                reason = (
                    "holds what looks like a secret value, not the name of an environment variable."
                    if looks_secret
                    else "is not a valid environment variable name."
                )
                yield Problem(f"{where}.{key}", reason)
            elif (
                isinstance(value, str)
                and key.endswith("_env")
                and any(s.search(value) for s in _SECRET_SHAPES)
            ):
                yield Problem(
                    f"{where}.{key}",
                    "holds what looks like a secret value, not the name of an environment variable.",
                )


def _references(config: Config) -> Iterator[Problem]:
    sections: dict[str, tuple[str, ...]] = {
        "targets": tuple(target.name for target in config.targets),
        "databases": tuple(database.name for database in config.databases),
        "agents": tuple(agent.name for agent in config.agents),
    }
    for section, names in sections.items():
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in seen:
                yield Problem(
                    f"{section}[{index}].name", f"{name!r} is already used by {section}[{seen[name]}]."
                )
            seen.setdefault(name, index)
    known = {target.name for target in config.targets}
    for db_index, database in enumerate(config.databases):
        if database.restore_from and database.restore_from not in database.targets:
            yield Problem(
                f"databases[{db_index}].restore_from",
                f"{database.restore_from!r} is not one of this database's targets ({', '.join(database.targets)}).",
            )
        for index, column in enumerate(database.recovery_point_columns):
            if not _COLUMN.match(column):
                yield Problem(
                    f"databases[{db_index}].recovery_point_columns[{index}]",
                    f"{column!r} is not 'table.column' or 'schema.table.column'.",
                )
        for index, name in enumerate(database.targets):
            if name not in known:
                choices = ", ".join(sorted(known)) or "none are defined"
                yield Problem(
                    f"databases[{db_index}].targets[{index}]",
                    f"unknown target {name!r}; known targets: {choices}.",
                )


def _credential_holders(config: Config) -> Iterator[tuple[str, Credentials]]:
    for index, target in enumerate(config.targets):
        yield f"targets[{index}].credentials", target.credentials
    for index, agent in enumerate(config.agents):
        yield f"agents[{index}].credentials", agent.credentials


def _environment(config: Config, environ: Mapping[str, str]) -> Iterator[Problem]:
    for where, credentials in _credential_holders(config):
        for key in ("access_key_id_env", "secret_access_key_env", "session_token_env"):
            name = getattr(credentials, key)
            if name and not environ.get(name):
                yield Problem(f"{where}.{key}", f"environment variable {name} is not set.")


def _schedules(config: Config) -> Iterator[Problem]:
    timezone = config.schedule.timezone
    expressions = [("schedule.cron", config.schedule.cron)] + [
        (f"databases[{index}].schedule", database.schedule) for index, database in enumerate(config.databases)
    ]
    for where, expression in expressions:
        if expression is None:
            continue
        try:
            trigger(expression, timezone)
        except ValueError as error:
            yield Problem(where, f"{error}.")


def _outbound_environment(config: Config, environ: Mapping[str, str]) -> Iterator[Problem]:
    """The variables naming where metrics and notifications go; their values are never shown."""
    for where, name in (
        ("metrics.pushgateway_env", config.metrics.pushgateway_env),
        ("notify.webhook_env", config.notify.webhook_env),
        ("notify.heartbeat_env", config.notify.heartbeat_env),
    ):
        if name is None:
            continue
        if not _ENV_NAME.match(name):
            yield Problem(where, "is not a valid environment variable name.")
        elif not environ.get(name):
            yield Problem(where, f"environment variable {name} is not set.")
        elif not environ[name].startswith(("http://", "https://")):
            yield Problem(where, f"environment variable {name} does not hold an http(s) URL.")


def _restore_environment(config: Config, environ: Mapping[str, str]) -> Iterator[Problem]:
    name = config.restore.dsn_env
    if config.restore.engine is RestoreEngine.DSN and name and not environ.get(name):
        yield Problem("restore.dsn_env", f"environment variable {name} is not set.")


def _files(config: Config, base: Path) -> Iterator[Problem]:
    for where, credentials in _credential_holders(config):
        for key in ("credentials_file", "service_account_file"):
            name = getattr(credentials, key)
            if name and not (base / Path(name).expanduser()).is_file():
                yield Problem(f"{where}.{key}", f"file {name} does not exist.")
    for index, agent in enumerate(config.agents):
        if agent.env_file and not (base / Path(agent.env_file).expanduser()).is_file():
            yield Problem(f"agents[{index}].env_file", f"file {agent.env_file} does not exist.")


def _resolve(base: Path, name: str | None) -> str | None:
    return None if name is None else str(base / Path(name).expanduser())


def _resolved(config: Config, base: Path) -> Config:
    def credentials(value: Credentials) -> Credentials:
        return value.model_copy(
            update={
                "credentials_file": _resolve(base, value.credentials_file),
                "service_account_file": _resolve(base, value.service_account_file),
            }
        )

    targets = tuple(
        target.model_copy(
            update={
                "path": _resolve(base, target.path),
                "credentials": credentials(target.credentials),
            }
        )
        for target in config.targets
    )
    agents = tuple(
        agent.model_copy(
            update={
                "paths": tuple(_resolve(base, path) or path for path in agent.paths),
                "env_file": _resolve(base, agent.env_file),
                "credentials": credentials(agent.credentials),
            }
        )
        for agent in config.agents
    )
    report = config.report.model_copy(update={"dir": _resolve(base, config.report.dir)})
    schedule = config.schedule.model_copy(update={"lock_dir": _resolve(base, config.schedule.lock_dir)})
    metrics = config.metrics.model_copy(update={"textfile": _resolve(base, config.metrics.textfile)})
    restore = config.restore.model_copy(
        update={
            "bin_dir": _resolve(base, config.restore.bin_dir),
            "work_dir": _resolve(base, config.restore.work_dir),
        }
    )
    return config.model_copy(
        update={
            "targets": targets,
            "agents": agents,
            "report": report,
            "restore": restore,
            "schedule": schedule,
            "metrics": metrics,
        }
    )
