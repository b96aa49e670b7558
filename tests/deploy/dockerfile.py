"""A small Dockerfile parser for the deploy tests: logical lines, stages, exec and shell forms.

No Docker engine is needed to read the instructions the rules in dockerfile_rules.py judge.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for the shell form."""
        if not self.arguments.startswith("["):
            return None
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def logical_lines(text: str) -> Iterator[str]:
    """Instructions with their continuations joined; comment lines (also inside a continuation) dropped."""
    buffer: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1])
            continue
        buffer.append(raw)
        yield " ".join(part.strip() for part in buffer if part.strip())
        buffer = []
    if buffer:
        yield " ".join(part.strip() for part in buffer if part.strip())


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def env_of(stage: Stage) -> dict[str, str]:
    """ENV KEY=VALUE pairs, with $PATH-style references left as written."""
    values: dict[str, str] = {}
    for item in stage.all("ENV"):
        words = shlex.split(item.arguments)
        if words and "=" not in words[0]:
            values[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            values[key] = value
    return values


def labels_of(stage: Stage) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in stage.all("LABEL"):
        for word in shlex.split(item.arguments):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def copy_sources(item: Instruction) -> list[str]:
    words = item.exec_form() or shlex.split(item.arguments)
    words = [word for word in words if not word.startswith("--")]
    return words[:-1]


def shell_commands(run: Instruction) -> list[str]:
    """A RUN's commands, split at ; && || and newlines (good enough for apt-get lines)."""
    return [part.strip() for part in re.split(r";|&&|\|\|", run.arguments) if part.strip()]
