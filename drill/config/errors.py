"""Config problems as one line each: the file, the dotted key, and a reason a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from drill.config.models import Config


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: its dotted key (empty for the file as a whole) and the reason."""

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


def validation_problem(error: Any) -> Problem:
    """One of pydantic's errors as a Problem at its dotted key."""
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
