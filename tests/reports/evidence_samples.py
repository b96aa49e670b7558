"""Instances of every evidence type the checks declare, built from their type hints, for tests
that must cover every kind without naming each one."""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Union, get_args, get_origin

from drill import evidence
from drill.model import Evidence

MOMENT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
# A naive time too: a lifecycle rule's date may come without an offset, and must stay so.
SCALARS: Mapping[Any, list[Any]] = {
    str: ["text ünicode"],
    bool: [True, False],
    int: [0, 7],
    float: [2.5, 0.0],
    datetime: [MOMENT, MOMENT.replace(tzinfo=None)],
}


def values(hint: Any) -> list[Any]:
    """Values of ``hint``: one of each shape a union allows, None included, the simplest first."""
    origin = get_origin(hint)
    if hint is Any:
        return [{"raw": [1, "two", None, {"nested": True}]}]
    if hint is type(None):
        return [None]
    if origin in (Union, types.UnionType):
        return [value for member in get_args(hint) for value in values(member)]
    if origin is Literal:
        return list(get_args(hint))
    if origin is tuple:
        return [(), tuple(values(get_args(hint)[0]))]
    if origin in (dict, Mapping):
        return [{f"key-{index}": value for index, value in enumerate(values(get_args(hint)[1]))}]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)
    if dataclasses.is_dataclass(hint):
        return list(instances(hint))
    return SCALARS[hint]


def instances(cls: Any) -> Iterator[Any]:
    """One instance per value of each field, the other fields at their first value."""
    options = {name: values(hint) for name, hint in evidence.fields_of(cls).items()}
    first = {name: choices[0] for name, choices in options.items()}
    yield cls(**first)
    for name, choices in options.items():
        for value in choices[1:]:
            yield cls(**{**first, name: value})


def every_kind() -> Iterator[tuple[str, Evidence]]:
    """(the check that records it, an instance) for every instance of every evidence kind."""
    known = evidence.catalogue()
    check_of = {kind_type: check for check, declared in known.by_check.items() for kind_type in declared}
    for kind_type in known.by_kind.values():
        for instance in instances(kind_type):
            yield check_of.get(kind_type, "any"), instance
