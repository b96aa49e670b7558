"""The .dockerignore: the build context sends the sources and keeps caches, reports and configs out.

A small matcher reads the patterns as Docker does (the last matching rule wins), so the same rule
judges the shipped file (no problem) and broken copies (the problem named).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

import pytest

from tests.deploy.dockerfile import DOCKERFILE, DOCKERIGNORE, REPO, copy_sources, parse


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus **), as a regex over a context-relative path."""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif pattern[index] == "*":
            regex += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            regex += "[^/]"
            index += 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            regex += pattern[index : end + 1]
            index = end + 1
        else:
            regex += re.escape(pattern[index])
            index += 1
    return re.compile(regex)


def ignored(path: str, rules: list[str]) -> bool:
    """Whether the context sends ``path``: the last matching rule wins; a matched dir takes its contents."""
    candidates = [path, *(str(parent) for parent in PurePosixPath(path).parents if str(parent) != ".")]
    verdict = False
    for rule in rules:
        negated = rule.startswith("!")
        pattern = _pattern(rule.lstrip("!").strip("/"))
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            verdict = not negated
    return verdict


def dockerignore_rules(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


MUST_BE_IGNORED = (
    ".venv/bin/python",
    ".git/config",
    ".pytest_cache/v/cache/lastfailed",
    ".mypy_cache/3.11/drill/cli.meta.json",
    ".ruff_cache/content",
    "drill/__pycache__",
    "drill-reports/history.jsonl",
    "bench/out/posture.json",
    "drill.toml",
    "config.example.toml",
    ".env",
    "deploy/kubernetes/secret.example.yaml",
)


def dockerignore_problems(text: str, sent: Iterable[str]) -> list[str]:
    rules = dockerignore_rules(text)
    problems = [
        f"{path} is not excluded from the build context."
        for path in MUST_BE_IGNORED
        if not ignored(path, rules)
    ]
    problems += [
        f"{path} is excluded, but the Dockerfile copies it." for path in sent if ignored(path, rules)
    ]
    return problems


def sent_sources() -> list[str]:
    """What the builder copies from the context, with a file inside each copied directory."""
    builder = parse(DOCKERFILE.read_text())[0]
    sent = []
    for item in builder.all("COPY"):
        for source in copy_sources(item):
            sent.append(source.rstrip("/"))
            if (REPO / source).is_dir():
                sent.append(f"{source.rstrip('/')}/__init__.py")
    return sent


def test_the_dockerignore_keeps_caches_reports_and_configs_out_but_sends_the_sources() -> None:
    sent = sent_sources()
    assert {"pyproject.toml", "README.md", "drill", "checks", "reports"} <= set(sent)
    assert dockerignore_problems(DOCKERIGNORE.read_text(), sent) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("\n.venv\n", "\n", ".venv/bin/python is not excluded"),
        ("\n.git\n", "\n", ".git/config is not excluded"),
        ("\ndrill-reports\n", "\n", "drill-reports/history.jsonl is not excluded"),
        ("\n*.toml\n", "\n", "drill.toml is not excluded"),
        ("\n!pyproject.toml\n", "\n", "pyproject.toml is excluded, but the Dockerfile copies it"),
        ("\n**/__pycache__\n", "\n", "__pycache__"),
    ],
)
def test_the_rules_reject_a_broken_dockerignore(old: str, new: str, expected: str) -> None:
    text = DOCKERIGNORE.read_text()
    assert old in text, f"the mutation no longer applies: {old!r}"
    problems = dockerignore_problems(text.replace(old, new, 1), sent_sources())
    assert any(expected in problem for problem in problems), problems
