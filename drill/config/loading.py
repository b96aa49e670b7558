"""Reading a config file: parse the TOML, validate it, collect every problem, resolve relative paths.

Relative paths in the file (filesystem targets, credential files, agent paths, the report
directory, the baseline) are resolved against the directory that holds the config file, so that a
cron job started from ``$HOME`` reads the same files as an engineer in the repository.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from drill.config import consistency
from drill.config.errors import ConfigError, Problem, dotted, validation_problem
from drill.config.models import Config, Credentials

# No drill key is deeper than four levels (databases[0].checks[1].name); validating and copying
# the parsed file recurse, so a deeper one is refused before either runs.
MAX_DEPTH = 32
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (tables and arrays); no drill setting is."


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its paths resolved, the file it came from, and that file's SHA-256."""

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
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ConfigError(path, [Problem("", _TOO_DEEP)]) from None
    too_deep = _deeper_than(raw, MAX_DEPTH)
    if too_deep is not None:
        raise ConfigError(path, [Problem(dotted(too_deep), _TOO_DEEP)])

    problems = list(consistency.literal_secrets(raw))
    if problems:
        raise ConfigError(path, problems)
    try:
        config = Config.model_validate(_tuples(raw))
    except ValidationError as error:
        raise ConfigError(path, [validation_problem(item) for item in error.errors()]) from None

    base = path.resolve().parent
    problems = consistency.problems(config, base, environ)
    if problems:
        raise ConfigError(path, problems)
    return LoadedConfig(_resolved(config, base), path, hashlib.sha256(raw_bytes).hexdigest())


def _deeper_than(raw: dict[str, Any], limit: int) -> tuple[int | str, ...] | None:
    """Where the parsed file first nests deeper than ``limit`` tables and arrays, or None; without recursion."""
    pending: list[tuple[tuple[int | str, ...], Any]] = [((), raw)]
    while pending:
        location, value = pending.pop()
        if len(location) > limit:
            return location
        if isinstance(value, dict):
            pending.extend(((*location, key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*location, index), item) for index, item in enumerate(value))
    return None


def _tuples(value: Any) -> Any:
    """TOML arrays become tuples, so that strict validation accepts them for the frozen model."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


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
                # pgBackRest resolves a relative --config against /, not the working directory.
                "config": _resolve(base, target.config),
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
    baseline = config.baseline.model_copy(update={"path": _resolve(base, config.baseline.path)})
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
            "baseline": baseline,
            "restore": restore,
            "schedule": schedule,
            "metrics": metrics,
        }
    )
