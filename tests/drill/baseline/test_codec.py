"""The baseline file: written with the SHA-256 of its content, read back equal, refused when changed."""

from __future__ import annotations

import hashlib
import json

import pytest

from drill.baseline import codec
from tests.drift_records import DELETE, orders, rule, vault
from tests.drift_records import baseline as approved


def _written() -> str:
    return codec.render(
        approved(vault(rules=(rule(expire_current_days=14),), ci=(DELETE,)), orders()).baseline
    )


def test_a_written_baseline_reads_back_equal() -> None:
    original = approved(vault(rules=(rule(expire_current_days=14),), ci=(DELETE,)), orders()).baseline
    assert codec.parse(codec.render(original).encode()) == original


def test_the_file_digest_is_of_its_bytes() -> None:
    text = _written()
    assert codec.file_sha256(text.encode()) == hashlib.sha256(text.encode()).hexdigest()


def test_reformatting_the_file_keeps_it_valid_but_editing_a_value_does_not() -> None:
    document = json.loads(_written())
    assert codec.parse(json.dumps(document).encode()) == codec.parse(_written().encode())
    document["baseline"]["targets"][0]["settings"][3]["value"] = 1
    with pytest.raises(codec.BaselineError, match="does not match the SHA-256 it records"):
        codec.parse(json.dumps(document).encode())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a drill.baseline/v1 file"),
        (b'{"schema": "drill.baseline/v1", "sha256": "0", "baseline": {}, "extra": 1}', "keys are not"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper|not JSON|not a drill.baseline"),
        (b" " * (codec.MAX_BYTES + 1), "more than any baseline"),
    ],
    ids=["not-json", "not-a-baseline", "extra-key", "deep", "huge"],
)
def test_a_file_drill_did_not_write_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(codec.BaselineError, match=reason):
        codec.parse(data)


def test_a_resealed_file_of_the_wrong_shape_is_refused() -> None:
    body = {"approval": {"by": "mallory"}}
    document = {"schema": codec.SCHEMA, "sha256": codec.seal(codec.SCHEMA, body), "baseline": body}
    with pytest.raises(codec.BaselineError, match="shape"):
        codec.parse(json.dumps(document).encode())
