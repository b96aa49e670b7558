"""GcsStore.posture() and protection() against a real gcp-storage-emulator, and, for what the emulator
does not store (object holds and retention, a bucket's objectRetention, a 403), against a stub
server answering the JSON API's documented resource shapes through the real client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pytest
import requests

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import TargetType
from drill.facts import GcsBucketPosture, LifecycleRule
from drill.model import Snapshot, Unavailable
from drill.storage.gcs import GcsStore
from drill.storage.gcs_posture import iam_policy_digest, lifecycle_rules
from tests.helpers import make_target

if TYPE_CHECKING:
    from google.cloud import storage

DAY = 86_400


@pytest.fixture
def bucket(gcs_admin: storage.Client) -> storage.Bucket:
    return gcs_admin.create_bucket("backups")


def store_for(endpoint: str, **overrides: Any) -> GcsStore:
    return GcsStore(make_target(TargetType.GCS, endpoint_url=endpoint, **overrides), {})


def patch_bucket(endpoint: str, name: str, body: dict[str, Any]) -> None:
    """PATCH the bucket resource directly: the client's lock_retention_policy gets a 501 from the emulator."""
    requests.patch(f"{endpoint}/storage/v1/b/{name}", json=body, timeout=10).raise_for_status()


def listed(key: str, generation: str | None = None) -> Snapshot:
    return Snapshot(key=key, size=0, created_at=datetime.now(UTC), version_id=generation)


class _Canned(BaseHTTPRequestHandler):
    """Answers GET by path from ``server.responses``: (status, JSON body); anything else is a 404."""

    def do_GET(self) -> None:
        responses: dict[str, tuple[int, Any]] = self.server.responses  # type: ignore[attr-defined]
        status, body = responses.get(unquote(urlparse(self.path).path), (404, _error(404, "Not Found")))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": [{"message": message, "reason": "x"}]}}


@pytest.fixture
def canned() -> Iterator[tuple[str, dict[str, tuple[int, Any]]]]:
    """A stub JSON API: the test fills the responses by path; the endpoint goes into the target."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    responses: dict[str, tuple[int, Any]] = {}
    server.responses = responses  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", responses
    finally:
        server.shutdown()
        server.server_close()


def test_locked_retention_policy_is_reported(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    patch_bucket(
        gcs_endpoint, "backups", {"retentionPolicy": {"retentionPeriod": str(30 * DAY), "isLocked": True}}
    )

    posture = store_for(gcs_endpoint).posture()

    assert posture.retention_period_seconds == 30 * DAY
    assert posture.retention_locked is True


def test_unlocked_retention_policy_is_reported(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    bucket.retention_period = 7 * DAY
    bucket.patch()

    posture = store_for(gcs_endpoint).posture()

    assert posture.retention_period_seconds == 7 * DAY
    assert posture.retention_locked is False


def test_bucket_without_policy_versioning_or_lifecycle(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    posture = store_for(gcs_endpoint).posture()

    assert posture == GcsBucketPosture(
        retention_period_seconds=None,
        retention_locked=False,
        versioning=False,
        soft_delete_seconds=7 * DAY,  # new buckets get 7 days of soft delete, on GCS as on the emulator
        object_retention_enabled=False,
        lifecycle=(),
        iam_policy=iam_policy_digest({"version": 1}),  # the emulator answers a policy with no bindings
    )


def test_versioning_and_soft_delete_are_reported(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    bucket.versioning_enabled = True
    bucket.patch()
    patch_bucket(gcs_endpoint, "backups", {"softDeletePolicy": {"retentionDurationSeconds": str(14 * DAY)}})

    posture = store_for(gcs_endpoint).posture()

    assert posture.versioning is True
    assert posture.soft_delete_seconds == 14 * DAY


def test_disabled_soft_delete_is_zero(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    patch_bucket(gcs_endpoint, "backups", {"softDeletePolicy": {"retentionDurationSeconds": "0"}})

    assert store_for(gcs_endpoint).posture().soft_delete_seconds == 0


def test_lifecycle_delete_rules_are_normalised(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    rules: list[dict[str, Any]] = [
        {"action": {"type": "Delete"}, "condition": {"age": 7, "matchesPrefix": ["orders/", "payments/"]}},
        {"action": {"type": "SetStorageClass", "storageClass": "COLDLINE"}, "condition": {"age": 1}},
        {"action": {"type": "Delete"}, "condition": {"isLive": False, "daysSinceNoncurrentTime": 3}},
        {"action": {"type": "Delete"}, "condition": {"createdBefore": "2024-01-01"}},
        {"action": {"type": "Delete"}, "condition": {"age": 30, "isLive": True}},
        {"action": {"type": "Delete"}, "condition": {"age": 2, "matchesSuffix": [".tmp"]}},
    ]
    bucket.lifecycle_rules = rules
    bucket.patch()

    lifecycle = store_for(gcs_endpoint).posture().lifecycle

    assert not isinstance(lifecycle, Unavailable)
    summary = [
        (
            rule.rule_id,
            rule.prefix,
            rule.expire_current_days,
            rule.expire_noncurrent_days,
            rule.delete_created_before,
            rule.conditions_unknown,
        )
        for rule in lifecycle
    ]
    assert summary == [
        # age with no isLive applies to live and noncurrent versions alike
        ("lifecycle[0]", "orders/", 7, 7, None, False),
        ("lifecycle[0]", "payments/", 7, 7, None, False),
        # lifecycle[1] moves objects to COLDLINE: not a deletion
        ("lifecycle[2]", None, None, 3, None, False),
        ("lifecycle[3]", None, None, None, datetime(2024, 1, 1, tzinfo=UTC), False),
        ("lifecycle[4]", None, 30, None, None, False),
        ("lifecycle[5]", None, 2, 2, None, True),
    ]
    assert all(rule.enabled for rule in lifecycle)
    assert lifecycle[0].raw == rules[0]
    assert type(lifecycle[0].raw) is dict  # a plain dict, not the client's LifecycleRuleDelete


def test_rules_without_a_day_count_delete_at_once() -> None:
    # Documented JSON shapes; normalised directly, since the emulator only stores rules and never runs them.
    rules = lifecycle_rules(
        [
            {"action": {"type": "Delete"}, "condition": {"isLive": False}},
            {"action": {"type": "Delete"}, "condition": {"numNewerVersions": 2}},
            {"action": {"type": "Delete"}, "condition": {"isLive": False, "age": 10}},
            {"action": {"type": "Delete"}, "condition": {"daysSinceCustomTime": 1, "matchesPrefix": []}},
            {"action": {"type": "Delete"}, "condition": {"matchesStorageClass": ["STANDARD"]}},
            {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
        ]
    )

    assert [(r.expire_current_days, r.expire_noncurrent_days, r.conditions_unknown) for r in rules] == [
        (None, 0, False),
        (None, 0, True),  # drill cannot count newer versions: assume it deletes
        (None, 10, False),
        (0, 0, True),  # the custom time may be set at upload: assume it deletes at once
        (0, 0, True),  # every STANDARD object, at once
    ]
    assert rules[3] == LifecycleRule(
        rule_id="lifecycle[3]",
        enabled=True,
        prefix=None,
        expire_current_days=0,
        expire_noncurrent_days=0,
        conditions_unknown=True,
        raw={"action": {"type": "Delete"}, "condition": {"daysSinceCustomTime": 1, "matchesPrefix": []}},
    )


def test_protection_reports_generation_and_checksums(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    body = b"pg_dump output"
    bucket.blob("orders/a.dump").upload_from_string(body)
    stored = bucket.get_blob("orders/a.dump")
    assert stored is not None

    protection = store_for(gcs_endpoint).protection(listed("orders/a.dump", str(stored.generation)))

    assert protection.key == "orders/a.dump"
    assert protection.size == len(body)
    assert protection.written_at == stored.time_created
    assert protection.written_at.tzinfo == UTC
    assert protection.version_id == str(stored.generation)
    assert protection.checksums == {"md5": stored.md5_hash, "crc32c": stored.crc32c}
    assert (protection.lock_mode, protection.retain_until, protection.legal_hold, protection.holds) == (
        None,
        None,
        False,
        (),
    )


def test_protection_of_a_missing_object_is_not_found(gcs_endpoint: str, bucket: storage.Bucket) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(gcs_endpoint).protection(listed("orders/a.dump"))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "gs://backups/orders/a.dump of target vault does not exist."


def test_protection_in_a_missing_bucket_is_not_found(gcs_endpoint: str) -> None:
    with pytest.raises(StorageError) as raised:
        store_for(gcs_endpoint, bucket="gone").protection(listed("orders/a.dump"))

    assert raised.value.kind is StorageErrorKind.NOT_FOUND
    assert str(raised.value) == "Bucket gone of target vault does not exist."


def test_missing_bucket_makes_every_part_unavailable(gcs_endpoint: str) -> None:
    posture = store_for(gcs_endpoint, bucket="gone").posture()

    gone = Unavailable("Bucket gone of target vault does not exist.")
    assert posture == GcsBucketPosture(gone, gone, gone, gone, gone, gone, gone)


def test_object_holds_and_retention_are_reported(canned: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    # Documented object resource (JSON API objects.get). The emulator drops eventBasedHold,
    # temporaryHold and retention on PATCH (they are not among its writable fields), so a stub
    # serves the shape and the real client parses it.
    endpoint, responses = canned
    written = datetime(2026, 1, 1, tzinfo=UTC)
    retain_until = written + timedelta(days=90)
    responses["/storage/v1/b/backups/o/orders/a.dump"] = (
        200,
        {
            "kind": "storage#object",
            "name": "orders/a.dump",
            "bucket": "backups",
            "generation": "1767225600000000",
            "size": "42",
            "timeCreated": "2026-01-01T00:00:00.000Z",
            "updated": "2026-03-01T00:00:00.000Z",
            "md5Hash": "kAFQmDzST7DWlj99KOF/cg==",
            "crc32c": "Nks/tw==",
            "eventBasedHold": True,
            "temporaryHold": True,
            "retention": {"mode": "Locked", "retainUntilTime": "2026-04-01T00:00:00Z"},
        },
    )

    protection = store_for(endpoint).protection(listed("orders/a.dump", "1767225600000000"))

    assert protection.written_at == written  # timeCreated: a hold set later does not make it newer
    assert protection.version_id == "1767225600000000"
    assert protection.lock_mode == "Locked"
    assert protection.retain_until == retain_until
    assert protection.legal_hold is True
    assert protection.holds == ("event_based", "temporary")
    assert protection.checksums == {"md5": "kAFQmDzST7DWlj99KOF/cg==", "crc32c": "Nks/tw=="}


def test_one_hold_alone_counts_as_a_hold(canned: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    # Documented object resource, served by the stub for the reason above.
    endpoint, responses = canned
    responses["/storage/v1/b/backups/o/orders/a.dump"] = (
        200,
        {
            "name": "orders/a.dump",
            "bucket": "backups",
            "generation": "7",
            "size": "1",
            "timeCreated": "2026-01-01T00:00:00Z",
            "temporaryHold": True,
            "eventBasedHold": False,
        },
    )

    protection = store_for(endpoint).protection(listed("orders/a.dump"))

    assert (protection.legal_hold, protection.holds, protection.lock_mode) == (True, ("temporary",), None)


def test_bucket_object_retention_is_reported(canned: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    # Documented bucket resource (JSON API buckets.get); the emulator does not store objectRetention.
    endpoint, responses = canned
    responses["/storage/v1/b/backups"] = (
        200,
        {
            "kind": "storage#bucket",
            "name": "backups",
            "objectRetention": {"mode": "Enabled"},
            "retentionPolicy": {
                "retentionPeriod": "2592000",
                "effectiveTime": "2026-01-01T00:00:00Z",
                "isLocked": True,
            },
            "versioning": {"enabled": True},
            "softDeletePolicy": {
                "retentionDurationSeconds": "604800",
                "effectiveTime": "2026-01-01T00:00:00Z",
            },
        },
    )

    # Documented policy resource (JSON API buckets.getIamPolicy): bindings digested in any order,
    # members sorted, the etag (which every write changes) left out.
    policy = {
        "kind": "storage#policy",
        "resourceId": "projects/_/buckets/backups",
        "version": 3,
        "etag": "CAE=",
        "bindings": [
            {"role": "roles/storage.objectViewer", "members": ["user:b@example.com", "user:a@example.com"]},
            {"role": "roles/storage.admin", "members": ["projectOwner:backup-project"]},
        ],
    }
    responses["/storage/v1/b/backups/iam"] = (200, policy)

    posture = store_for(endpoint).posture()

    reordered = {**policy, "etag": "CAI=", "bindings": list(reversed(policy["bindings"]))}  # type: ignore[call-overload]
    assert posture == GcsBucketPosture(
        retention_period_seconds=30 * DAY,
        retention_locked=True,
        versioning=True,
        soft_delete_seconds=7 * DAY,
        object_retention_enabled=True,
        lifecycle=(),
        iam_policy=iam_policy_digest(reordered),
    )
    assert not isinstance(posture.iam_policy, Unavailable) and posture.iam_policy.entries == 2


def test_forbidden_bucket_read_makes_every_part_unavailable(
    canned: tuple[str, dict[str, tuple[int, Any]]],
) -> None:
    # A documented 403 error body; the emulator grants everything, so a stub refuses instead.
    endpoint, responses = canned
    responses["/storage/v1/b/backups"] = (
        403,
        _error(403, "drill@p.iam.gserviceaccount.com does not have storage.buckets.get access"),
    )

    posture = store_for(endpoint).posture()

    assert isinstance(posture.retention_period_seconds, Unavailable)
    reason = posture.retention_period_seconds.reason
    assert reason == "storage.buckets.get denied on bucket backups for target vault (Forbidden)."
    assert posture == GcsBucketPosture(*([Unavailable(reason)] * 7))
