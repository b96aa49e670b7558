"""What the models alone cannot judge: secrets written into the file, names that point nowhere,
unset environment variables, files that do not exist, cron expressions APScheduler refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from drill.config.errors import Problem
from drill.config.models import Config, Credentials, RestoreEngine, TargetType
from drill.cron import trigger

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
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){1,2}$")


def literal_secrets(raw: Mapping[str, Any]) -> Iterator[Problem]:
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


def problems(config: Config, base: Path, environ: Mapping[str, str]) -> list[Problem]:
    """Every problem of a config the models accepted; relative file names are read against ``base``."""
    return [
        *_references(config),
        *_environment(config, environ),
        *_restore_environment(config, environ),
        *_schedules(config),
        *_outbound_environment(config, environ),
        *_files(config, base),
    ]


def _credential_tables(raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section in ("targets", "agents"):
        entries = raw.get(section)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            credentials = entry.get("credentials") if isinstance(entry, dict) else None
            if isinstance(credentials, dict):
                yield f"{section}[{index}].credentials", credentials


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
    stanzas = {target.name for target in config.targets if target.type is TargetType.PGBACKREST}
    for db_index, database in enumerate(config.databases):
        dumps = [name for name in database.targets if name in known and name not in stanzas]
        if dumps and database.snapshot_pattern is None:
            yield Problem(
                f"databases[{db_index}].snapshot_pattern",
                f"is required: {', '.join(dumps)} hold dumps, and the pattern says which objects are "
                f"{database.name}'s (only a database whose targets are all pgbackrest stanzas needs none).",
            )
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
    for index, target in enumerate(config.targets):
        if target.config and not (base / Path(target.config).expanduser()).is_file():
            yield Problem(f"targets[{index}].config", f"file {target.config} does not exist.")
    for index, agent in enumerate(config.agents):
        if agent.env_file and not (base / Path(agent.env_file).expanduser()).is_file():
            yield Problem(f"agents[{index}].env_file", f"file {agent.env_file} does not exist.")
