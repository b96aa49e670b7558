"""A finding's evidence as JSON: written in one place, read back in one place.

Written, evidence is ``{"kind": ..., "version": N, ...fields}``: every field of its dataclass under
its own name, datetimes in ISO 8601, enums by value, nested parts as objects, tuples as lists. No
evidence is ``{}``.

Read, the kind names the type among those the checks declare (``@check(evidence=...)``) and the
ones any check may record (``registry.COMMON_EVIDENCE``); each field is parsed by its type hint,
strictly: a missing field without a default, a key the type does not have, or a value of another
type refuses the whole mapping. Evidence without a kind (drill 0.1.0 wrote none) is matched to
the types its check declares by its fields. Evidence that maps to no type (an unknown kind, another
version, a field renamed since) is kept as it was recorded in ``UnparsedEvidence``, which
reports show raw: a run record never fails to load over its evidence.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from drill.model import Evidence, UnparsedEvidence
from drill.registry import COMMON_EVIDENCE, discover

Parser = Callable[[Any], Any]
# Keys of the written form that are not fields; no evidence type may have a field of these names.
RESERVED = ("kind", "version")


class EvidenceShapeError(ValueError):
    """A value that does not have the shape its evidence type declares."""


@dataclass(frozen=True)
class Catalogue:
    """Every evidence type a run record may hold, by kind and by the check that records it."""

    by_kind: Mapping[str, type[Evidence]]
    by_check: Mapping[str, tuple[type[Evidence], ...]]


@functools.cache
def catalogue(package: str = "drill.checks") -> Catalogue:
    """The evidence types the checks of ``package`` declare, and the common ones."""
    by_check = {spec.id: spec.evidence for spec in discover(package)}
    by_kind: dict[str, type[Evidence]] = {}
    for kind_type in (*COMMON_EVIDENCE, *(t for types_ in by_check.values() for t in types_)):
        known = by_kind.setdefault(kind_type.kind, kind_type)
        if known is not kind_type:
            raise TypeError(
                f"{known.__name__} and {kind_type.__name__} both claim evidence kind {kind_type.kind!r}"
            )
        for name in fields_of(kind_type):
            if name in RESERVED:
                raise TypeError(
                    f"{kind_type.__name__} has a field named {name!r}, which the JSON form reserves"
                )
    return Catalogue(by_kind, by_check)


def fields_of(cls: type) -> Mapping[str, Any]:
    """The resolved type hint of each field of a dataclass, in declaration order."""
    known = _FIELDS.get(cls)
    if known is None:
        hints = get_type_hints(cls)
        known = _FIELDS[cls] = {field.name: hints[field.name] for field in dataclasses.fields(cls)}
    return known


# Built once per type and kept: every finding of every run record passes through them.
_FIELDS: dict[type, Mapping[str, Any]] = {}
_PARSERS: dict[object, Parser] = {}


# -- writing


def to_json(evidence: Evidence | None) -> dict[str, Any]:
    """The JSON form of a finding's evidence, as a run record holds it."""
    if evidence is None:
        return {}
    if isinstance(evidence, UnparsedEvidence):
        return dict(evidence.raw)
    return {"kind": evidence.kind, "version": evidence.version, **field_values(evidence)}


def field_values(evidence: Evidence | None) -> dict[str, Any]:
    """The evidence's fields as JSON values, without kind and version: what a report shows of it."""
    if evidence is None:
        return {}
    if isinstance(evidence, UnparsedEvidence):
        return {str(key): _plain(value) for key, value in evidence.raw.items()}
    return {name: _plain(getattr(evidence, name)) for name in fields_of(type(evidence))}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind in _FIELDS:
        return {name: _plain(getattr(value, name)) for name in _FIELDS[kind]}
    if isinstance(value, tuple | list | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(kind):
        return {name: _plain(getattr(value, name)) for name in fields_of(kind)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, str | bool | int | float):  # a subclass of one that is no enum
        return value
    raise TypeError(f"evidence cannot hold a {type(value).__name__}")


def plain(value: Any) -> Any:
    """Any frozen dataclass, and what it holds, as the JSON values evidence is written as."""
    return _plain(value)


# Values JSON holds as they are; checked by exact type first, the commonest case by far.
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


# -- reading


def from_json(data: Any, check: str, package: str = "drill.checks") -> Evidence | None:
    """The evidence a run record holds for a finding of ``check``; raw when it maps to no type.

    Raises EvidenceShapeError only when the evidence is not a JSON object at all.
    """
    if data is None or data == {}:
        return None
    if not isinstance(data, dict):
        raise EvidenceShapeError(f"evidence is a {type(data).__name__}, not an object")
    known = catalogue(package)
    if "kind" not in data:
        return _unversioned(data, known.by_check.get(check, ()))
    kind_type = known.by_kind.get(str(data["kind"]))
    if kind_type is None:
        return UnparsedEvidence(data, f"evidence kind {data['kind']!r} is unknown to this drill")
    if data.get("version") != kind_type.version:
        return UnparsedEvidence(
            data,
            f"{kind_type.kind} evidence of version {data.get('version')!r}; "
            f"this drill reads version {kind_type.version}",
        )
    fields = {key: value for key, value in data.items() if key not in RESERVED}
    try:
        evidence: Evidence = _parser(kind_type)(fields)
    except EvidenceShapeError as error:
        return UnparsedEvidence(data, f"{kind_type.kind} evidence: {error}")
    return evidence


def parse_as(hint: Any, value: Any) -> Any:
    """``value`` read into the type ``hint`` as evidence is read: strictly, or EvidenceShapeError."""
    return _parser(hint)(value)


def _unversioned(data: dict[str, Any], declared: tuple[type[Evidence], ...]) -> Evidence:
    """Evidence without a kind (drill 0.1.0's): the first of the check's types whose fields it fits."""
    problems = []
    for candidate in (*declared, *COMMON_EVIDENCE):
        try:
            evidence: Evidence = _parser(candidate)(data)
        except EvidenceShapeError as error:
            problems.append(f"not {candidate.kind} ({error})")
            continue
        return evidence
    return UnparsedEvidence(
        data, "evidence without a kind that fits no type of its check: " + "; ".join(problems)
    )


def _parser(hint: Any) -> Parser:
    """A function that parses a JSON value into ``hint``, raising EvidenceShapeError; built once per type."""
    parser = _PARSERS.get(hint)
    if parser is None:
        parser = _PARSERS[hint] = _build(hint)
    return parser


def _build(hint: Any) -> Parser:
    origin = get_origin(hint)
    if hint is Any:
        return _any
    if hint is type(None):
        return _none
    if origin in (Union, types.UnionType):
        return _union(tuple(_parser(member) for member in get_args(hint)), hint)
    if origin is Literal:
        return _literal(get_args(hint))
    if origin is tuple:
        item, ellipsis = get_args(hint)
        if ellipsis is not Ellipsis:
            raise TypeError(f"evidence tuples are tuple[X, ...], not {hint!r}")
        return _sequence(_parser(item))
    if origin in (dict, Mapping):
        key, value = get_args(hint)
        if key is not str:
            raise TypeError(f"evidence mappings have text keys, not {hint!r}")
        return _mapping(_parser(value))
    if isinstance(hint, type):
        return _of_type(hint)
    raise TypeError(f"evidence cannot hold {hint!r}")


def _of_type(hint: type) -> Parser:
    if issubclass(hint, enum.Enum):
        return _enum(hint)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    scalar = _SCALARS.get(hint)
    if scalar is None:
        raise TypeError(f"evidence cannot hold {hint!r}")
    return scalar


def _any(value: Any) -> Any:
    return value


def _none(value: Any) -> None:
    if value is not None:
        raise EvidenceShapeError(f"expected null, got {value!r}")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise EvidenceShapeError(f"expected true or false, got {value!r}")
    return value


def _int(value: Any) -> int:
    # As in JSON Schema, 5400.0 is an integer: a number with no fractional part.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvidenceShapeError(f"expected an integer, got {value!r}")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvidenceShapeError(f"expected a number, got {value!r}")
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise EvidenceShapeError(f"expected text, got {value!r}")
    return value


def _datetime(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_str(value))
    except ValueError:
        raise EvidenceShapeError(f"expected an ISO 8601 time, got {value!r}") from None


_SCALARS: Mapping[type, Parser] = {bool: _bool, int: _int, float: _float, str: _str, datetime: _datetime}


def _union(members: tuple[Parser, ...], hint: Any) -> Parser:
    def parse(value: Any) -> Any:
        for member in members:
            try:
                return member(value)
            except EvidenceShapeError:
                continue
        raise EvidenceShapeError(f"{_short(value)} is none of {_name(hint)}")

    return parse


def _literal(allowed: tuple[Any, ...]) -> Parser:
    def parse(value: Any) -> Any:
        if not any(type(value) is type(option) and value == option for option in allowed):
            raise EvidenceShapeError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value

    return parse


def _sequence(item: Parser) -> Parser:
    def parse(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise EvidenceShapeError(f"expected a list, got {_short(value)}")
        return tuple(_at(index, item, element) for index, element in enumerate(value))

    return parse


def _mapping(item: Parser) -> Parser:
    def parse(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise EvidenceShapeError(f"expected an object, got {_short(value)}")
        return {key: _at(key, item, element) for key, element in value.items()}

    return parse


def _enum(kind: type[enum.Enum]) -> Parser:
    def parse(value: Any) -> enum.Enum:
        try:
            return kind(value)
        except ValueError:
            raise EvidenceShapeError(f"{value!r} is not a {kind.__name__}") from None

    return parse


def _dataclass(cls: type) -> Parser:
    fields = {name: _parser(hint) for name, hint in fields_of(cls).items()}
    names = fields.keys()
    required = frozenset(field.name for field in dataclasses.fields(cls) if _required(field))

    def parse(value: Any) -> Any:
        if not isinstance(value, dict):
            raise EvidenceShapeError(f"expected an object, got {_short(value)}")
        if not value.keys() <= names:
            unknown = [key for key in value if key not in names]
            raise EvidenceShapeError(f"unknown field {', '.join(map(repr, unknown))}")
        if not required <= value.keys():
            missing = sorted(required - value.keys())
            raise EvidenceShapeError(f"missing field {', '.join(map(repr, missing))}")
        parsed = {}
        name = ""
        try:
            for name, element in value.items():
                parsed[name] = fields[name](element)
        except EvidenceShapeError as error:
            raise EvidenceShapeError(f"{name}: {error}") from None
        return cls(**parsed)

    return parse


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _at(where: object, parse: Parser, value: Any) -> Any:
    try:
        return parse(value)
    except EvidenceShapeError as error:
        raise EvidenceShapeError(f"{where}: {error}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(hint: Any) -> str:
    return " | ".join(getattr(member, "__name__", repr(member)) for member in get_args(hint))
