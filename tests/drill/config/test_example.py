"""config.example.toml: it validates, names its variables, states the real defaults and documents every key."""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from drill.config import (
    Agent,
    Config,
    Credentials,
    Database,
    IntegrityQuery,
    Policy,
    ReportSettings,
    Target,
    load_config,
)
from tests.drill.config.snippets import EXAMPLE, rejected


def example_env_names() -> list[str]:
    """Every *_env value in the example, wherever it sits."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("_env") and isinstance(item, str):
                    yield item
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return sorted(set(walk(tomllib.loads(EXAMPLE.read_text()))))


def test_the_example_names_environment_variables() -> None:
    assert example_env_names(), "the example should show *_env credentials"


def test_the_example_validates_when_its_variables_are_set() -> None:
    environ = {name: f"value-of-{name}" for name in example_env_names()}
    loaded = load_config(EXAMPLE, environ=environ)
    assert loaded.config.targets and loaded.config.databases and loaded.config.agents
    assert {target.type.value for target in loaded.config.targets} == {
        "s3",
        "gcs",
        "filesystem",
        "pgbackrest",
    }


def test_the_example_names_each_missing_variable() -> None:
    error = rejected(EXAMPLE, environ={})
    names = example_env_names()
    assert len(error.problems) == len(names)
    message = str(error)
    for name in names:
        assert f"environment variable {name} is not set." in message
    for line in message.splitlines():
        assert re.match(rf"{re.escape(str(EXAMPLE))}: targets\[\d+\]\.credentials\.\w+_env: ", line), line


def models_reachable_from(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        for candidate in _types_in(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                yield from models_reachable_from(candidate)


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def test_the_example_documents_every_key_the_models_accept() -> None:
    models = set(models_reachable_from(Config))
    named = {Config, Policy, Target, Credentials, Database, IntegrityQuery, Agent, ReportSettings}
    assert named <= models
    text = EXAMPLE.read_text()
    undocumented = sorted(
        f"{model.__name__}.{key}"
        for model in models
        for key in model.model_fields
        if not re.search(rf"^\s*(#\s*)?{key}\s*=|^\s*\[\[?([\w.]+\.)?{key}\]\]?\s*$", text, re.MULTILINE)
    )
    assert undocumented == []


def test_the_example_comments_state_the_real_defaults() -> None:
    stated = dict(re.findall(r"^# (\w+)\s+- .*\(default (\d+)\)$", EXAMPLE.read_text(), re.MULTILINE))
    defaults = Policy()
    assert stated == {key: str(getattr(defaults, key)) for key in ("copies", "media", "offsite", "immutable")}
