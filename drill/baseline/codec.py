"""The baseline file, ``drill.baseline/v1``: JSON that carries the SHA-256 of its own content.

    {"schema": "drill.baseline/v1", "sha256": "<hex>", "baseline": {...}}

``sha256`` is the digest of the schema and the baseline written canonically (keys sorted, no
spaces), so a file edited by hand, truncated or corrupted no longer matches it and is refused:
a tampered baseline is an error, never a silent pass. The seal shows a changed file, not who
changed it: anyone who can write the file can also recompute the digest. That is why every run
record and evidence pack records the digest of the file it compared with: a baseline replaced
outside ``drill baseline approve`` shows there as a new digest with no new approval.

The fields are written and read as evidence is (``drill.evidence``): every field of its
dataclass under its own name, strictly typed on the way in.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from drill import evidence
from drill.baseline.model import Baseline

SCHEMA = "drill.baseline/v1"
# drill writes a few kilobytes per target; anything this large was not written by drill.
MAX_BYTES = 32 << 20
_KEYS = frozenset({"schema", "sha256", "baseline"})


class BaselineError(ValueError):
    """A file that is not a baseline drill wrote, or one changed since: it cannot be compared with."""


def seal(schema: str, body: Any) -> str:
    """The digest a baseline file records: of its schema and body, written canonically."""
    canonical = json.dumps(
        {"schema": schema, "baseline": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def render(baseline: Baseline) -> str:
    body = evidence.plain(baseline)
    document = {"schema": SCHEMA, "sha256": seal(SCHEMA, body), "baseline": body}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse(data: bytes) -> Baseline:
    """The baseline a file holds, or BaselineError saying why it cannot be trusted."""
    if len(data) > MAX_BYTES:
        raise BaselineError(f"it is {len(data)} bytes, more than any baseline drill writes ({MAX_BYTES})")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"it is not JSON: {error}") from None
    except RecursionError:
        raise BaselineError("it is nested deeper than any baseline drill writes") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise BaselineError(f"it is not a {SCHEMA} file")
    if document.keys() != _KEYS:
        unexpected = sorted(document.keys() - _KEYS) or sorted(_KEYS - document.keys())
        raise BaselineError(f"its keys are not those drill writes ({', '.join(map(str, unexpected))})")
    recorded = document["sha256"]
    actual = seal(SCHEMA, document["baseline"])
    if recorded != actual:
        raise BaselineError(
            f"its content does not match the SHA-256 it records (records {str(recorded)[:64]}, content "
            f"hashes to {actual}): it was changed after it was approved"
        )
    try:
        baseline: Baseline = evidence.parse_as(Baseline, document["baseline"])
    except evidence.EvidenceShapeError as error:
        raise BaselineError(f"its content does not have the shape drill writes: {error}") from None
    return baseline


def file_sha256(data: bytes) -> str:
    """The file's own digest, as ``sha256sum`` prints it: what run records and packs name it by."""
    return hashlib.sha256(data).hexdigest()
