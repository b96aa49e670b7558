"""The JSON Schema of the run record (``drill.run/v1``), its evidence generated from the evidence types.

docs/run-record.schema.json is this module's output; a test fails when it is stale. Regenerate it:

    python -m drill.reports.run_schema docs/run-record.schema.json

The record's envelope (run, check, coverage, finding) is spelt out here beside ``json_report``,
which writes it; each evidence kind is derived from its dataclass's fields and type hints, the
same hints ``drill.evidence`` parses by, so the schema and the reader cannot disagree.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import sys
import types
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from drill import evidence
from drill.model import Evidence, Phase, Scope, Severity, Status
from drill.reports.json_report import SCHEMA

Schema = dict[str, Any]

_TEXT: Schema = {"type": "string"}
_TIME: Schema = {"type": "string", "format": "date-time"}
_OPTIONAL_TEXT: Schema = {"type": ["string", "null"]}
_TEXTS: Schema = {"type": "array", "items": _TEXT}
_SCALARS: Mapping[type, Schema] = {
    str: _TEXT,
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime: _TIME,
    type(None): {"type": "null"},
}


def run_record_schema() -> Schema:
    """The schema of a run record as this drill writes it."""
    definitions: dict[str, Schema] = {}
    kinds = list(evidence.catalogue().by_kind.values())
    for kind_type in kinds:
        definitions[_kind_name(kind_type)] = _evidence_schema(kind_type, definitions)
    definitions.update(_envelope_definitions(kinds))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"drill run record ({SCHEMA})",
        "description": "One drill run as run.json holds it; see docs/run-record.md.",
        "type": "object",
        "required": [
            "schema",
            "run_id",
            "command",
            "status",
            "started_at",
            "finished_at",
            "duration_seconds",
            "config",
            "drill_version",
            "counts",
            "findings",
        ],
        "properties": {
            "schema": {"const": SCHEMA},
            "run_id": _TEXT,
            "command": {**_TEXT, "description": "check or run"},
            "status": {"$ref": "#/$defs/status"},
            "started_at": _TIME,
            "finished_at": _TIME,
            "duration_seconds": {"type": "number"},
            "config": _object({"path": _TEXT, "sha256": _TEXT}),
            "drill_version": _TEXT,
            "counts": _object({status.value: {"type": "integer"} for status in Status}),
            "interrupted": {
                **_object({"signal": _TEXT, "during": {"enum": [phase.value for phase in Phase]}}),
                "description": "Only in a run a signal stopped: which signal, and during which phase",
            },
            "baseline": {
                **_object(
                    {
                        "path": _TEXT,
                        "sha256": _OPTIONAL_TEXT,
                        "approved_by": _OPTIONAL_TEXT,
                        "approved_at": {"type": ["string", "null"], "format": "date-time"},
                        "problem": _OPTIONAL_TEXT,
                    }
                ),
                "description": (
                    "The approved baseline the run compared with (drill baseline approve): its file, the "
                    "SHA-256 of its bytes, who approved it and when; problem is 'missing' or why the file "
                    "cannot be trusted"
                ),
            },
            "checks": {"type": "array", "items": {"$ref": "#/$defs/check"}},
            "coverage": {"$ref": "#/$defs/coverage"},
            "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
        },
        "$defs": dict(sorted(definitions.items())),
    }


def render() -> str:
    return json.dumps(run_record_schema(), indent=2, ensure_ascii=False) + "\n"


def _object(properties: Mapping[str, Schema], optional: Sequence[str] = ()) -> Schema:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": dict(properties),
        "additionalProperties": False,
    }


def _envelope_definitions(kinds: Sequence[type[Evidence]]) -> dict[str, Schema]:
    evidence_kinds: list[Schema] = [{"$ref": f"#/$defs/{_kind_name(kind_type)}"} for kind_type in kinds]
    return {
        "status": {"enum": [status.value for status in Status]},
        "severity": {"enum": [severity.value for severity in Severity]},
        "check": _object(
            {
                "id": _TEXT,
                "title": _TEXT,
                "scope": {"enum": [scope.value for scope in Scope]},
                "phase": {"enum": [phase.value for phase in Phase]},
                "severity": {"$ref": "#/$defs/severity"},
                "controls": _TEXTS,
            }
        ),
        "coverage": _object(
            {
                "databases": {
                    "type": "array",
                    "items": _object({"name": _TEXT, "site": _TEXT, "targets": _TEXTS}),
                },
                "targets": _TEXTS,
                "agents": _TEXTS,
            }
        ),
        "finding": _object(
            {
                "check": _TEXT,
                "status": {"$ref": "#/$defs/status"},
                "severity": {"$ref": "#/$defs/severity"},
                "target": _nullable(_TEXT),
                "database": _nullable(_TEXT),
                "agent": _nullable(_TEXT),
                "message": _TEXT,
                "evidence": {"$ref": "#/$defs/evidence"},
                "remediation": _nullable(_TEXT),
            }
        ),
        "evidence": {
            "description": "What the finding judged: one of the kinds below, or {} when it recorded nothing.",
            "anyOf": [
                *evidence_kinds,
                {"type": "object", "maxProperties": 0},
                {
                    "description": "Evidence without a kind, as drill 0.1.0 wrote it: "
                    "the fields of one of its check's kinds, without kind and version.",
                    "type": "object",
                    "not": {"required": ["kind"]},
                },
            ],
        },
    }


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _kind_name(kind_type: type[Evidence]) -> str:
    return f"evidence.{kind_type.kind}"


def _evidence_schema(kind_type: type[Evidence], definitions: dict[str, Schema]) -> Schema:
    fields = {"kind": {"const": kind_type.kind}, "version": {"const": kind_type.version}}
    part = _dataclass_schema(kind_type, definitions)
    return {
        "description": part["description"],
        "type": "object",
        "required": ["kind", "version", *part["required"]],
        "properties": {**fields, **part["properties"]},
        "additionalProperties": False,
    }


def _dataclass_schema(cls: type, definitions: dict[str, Schema]) -> Schema:
    properties = {name: _hint_schema(hint, definitions) for name, hint in evidence.fields_of(cls).items()}
    return {
        "description": inspect.cleandoc(cls.__doc__ or cls.__name__).split("\n\n")[0].replace("\n", " "),
        "type": "object",
        # Every field is written, defaults included; a reader of older records needs only the required.
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def _hint_schema(hint: Any, definitions: dict[str, Schema]) -> Schema:
    origin = get_origin(hint)
    if hint is Any:
        return {}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_hint_schema(member, definitions) for member in get_args(hint)]}
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin is tuple:
        return {"type": "array", "items": _hint_schema(get_args(hint)[0], definitions)}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _hint_schema(get_args(hint)[1], definitions)}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        name = f"part.{hint.__name__}"
        described = definitions.setdefault(name, _dataclass_schema(hint, definitions))
        if described["description"] != _dataclass_schema(hint, definitions)["description"]:
            raise TypeError(f"two evidence parts are named {hint.__name__}; rename one")
        return {"$ref": f"#/$defs/{name}"}
    if hint in _SCALARS:
        return _SCALARS[hint]
    raise TypeError(f"no JSON Schema for {hint!r}")


def main(argv: Sequence[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m drill.reports.run_schema [OUTPUT]", file=sys.stderr)
        return 2
    if argv:
        Path(argv[0]).write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
