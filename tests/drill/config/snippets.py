"""TOML snippets and the assertions every config test shares: one problem, one line, file and dotted key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from drill.config import (
    ConfigError,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.toml"
# Shaped like real AWS credentials (the documented example pair), so the secret-shape checks fire.
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# --- TOML snippets -------------------------------------------------------------------------


def toml(value: Any) -> str:
    """A Python value spelled as a TOML value (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return repr(value)


def table(header: str, **keys: Any) -> str:
    """A table header and its keys; a key given as None is left out."""
    lines = [header] + [f"{key} = {toml(value)}" for key, value in keys.items() if value is not None]
    return "\n".join(lines) + "\n\n"


def policy(**keys: Any) -> str:
    return table("[policy]", **keys)


def fs_target(name: str = "nas", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "filesystem", "path": "backups", "site": "office"}
    return table("[[targets]]", **(fields | keys))


def s3_target(name: str = "vault", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "s3", "bucket": f"{name}-bucket", "site": "aws:1:eu"}
    return table("[[targets]]", **(fields | keys))


def gcs_target(name: str = "archive", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "gcs", "bucket": f"{name}-bucket", "site": "gcp:p:eu"}
    return table("[[targets]]", **(fields | keys))


def credentials(**keys: Any) -> str:
    """Credentials of the target written just before."""
    return table("[targets.credentials]", **keys)


def database(name: str = "orders", targets: tuple[str, ...] | str = ("nas",), **keys: Any) -> str:
    fields: dict[str, Any] = {
        "name": name,
        "site": "prod",
        "targets": targets,
        "snapshot_pattern": f"{name}/*.dump",
    }
    return table("[[databases]]", **(fields | keys))


def integrity_check(name: str = "rows exist", **keys: Any) -> str:
    """An integrity query of the database written just before."""
    fields: dict[str, Any] = {"name": name, "sql": "SELECT count(*) FROM t", "expect": "> 0"}
    return table("[[databases.checks]]", **(fields | keys))


def agent(name: str = "ci", **keys: Any) -> str:
    return table("[[agents]]", name=name, **keys)


def agent_credentials(**keys: Any) -> str:
    return table("[agents.credentials]", **keys)


def write(tmp_path: Path, *snippets: str) -> Path:
    path = tmp_path / "drill.toml"
    path.write_text("".join(snippets))
    return path


def rejected(path: Path, environ: Mapping[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={} if environ is None else environ)
    return caught.value


def the_problem(path: Path, environ: Mapping[str, str] | None = None) -> str:
    """The single message a bad config produces (one problem, one line)."""
    error = rejected(path, environ)
    assert len(error.problems) == 1, str(error)
    message = str(error)
    assert "\n" not in message
    return message


def assert_names(message: str, path: Path, dotted: str, *reason: str) -> None:
    """One line of the message is ``FILE: DOTTED: REASON`` and holds every reason phrase."""
    prefix = f"{path}: {dotted}: "
    lines = [line for line in message.splitlines() if line.startswith(prefix)]
    assert lines, f"no line starts with {prefix!r} in:\n{message}"
    for phrase in reason:
        assert any(phrase in line for line in lines), f"{phrase!r} missing from {lines}"
