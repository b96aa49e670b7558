"""The measuring child of bench/posture.py: one drill posture run in this process, instrumented from
outside drill (drill's code is not changed), its figures returned as one JSON-ready dict."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

KEY_ID_ENV = "DRILL_BENCH_ACCESS_KEY_ID"
SECRET_ENV = "DRILL_BENCH_SECRET_ACCESS_KEY"


class CallCounter:
    """Counts S3 calls per operation (before retries) and HTTP requests (each attempt)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.operations: Counter[str] = Counter()
        self.requests = 0
        self.ranged_get_objects = 0
        self.keys_listed = 0
        self.clients = 0

    def before_call(self, model: Any, params: Mapping[str, Any], **kwargs: Any) -> None:
        ranged = model.name == "GetObject" and "Range" in (params.get("headers") or {})
        with self.lock:
            self.operations[model.name] += 1
            self.ranged_get_objects += int(ranged)

    def before_send(self, **kwargs: Any) -> None:
        with self.lock:
            self.requests += 1

    def after_list(self, parsed: Mapping[str, Any], **kwargs: Any) -> None:
        with self.lock:
            self.keys_listed += len(parsed.get("Contents") or ())

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call.s3", self.before_call)
        events.register("before-send.s3", self.before_send)
        events.register("after-call.s3.ListObjectsV2", self.after_list)
        with self.lock:
            self.clients += 1


def _instrument(counter: CallCounter) -> dict[str, float]:
    """Wrap drill's client factory and store opener (drill's code is not changed)."""
    import drill.clouds.aws  # noqa: PLC0415
    import drill.storage  # noqa: PLC0415

    original_client = drill.clouds.aws.s3_client
    original_open = drill.storage.StoreOpener.open
    timing = {"open_stores_s": 0.0}

    def client(*args: Any, **kwargs: Any) -> Any:
        made = original_client(*args, **kwargs)
        counter.attach(made)
        return made

    def open_store(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_open(*args, **kwargs)
        finally:
            timing["open_stores_s"] += time.perf_counter() - started

    # Storage's shared clients look ``s3_client`` up in its module at call time; the trust evidence
    # builds its clients with ``client`` and is left out: these are the posture calls alone.
    setattr(drill.clouds.aws, "s3_client", client)  # noqa: B010 - mypy would refuse a plain assignment
    setattr(drill.storage.StoreOpener, "open", open_store)  # noqa: B010
    return timing


def _config_text(endpoint: str, targets: int, report_dir: Path) -> str:
    lines = [
        "[report]",
        f'dir = "{report_dir}"',
        "",
        "[policy]",
        "copies = 1",
        "media = 1",
        "offsite = 1",
        "immutable = 0",
        'max_age = "26h"',
        'min_retention = "30d"',
    ]
    for index in range(targets):
        lines += [
            "",
            "[[targets]]",
            f'name = "t-{index:03d}"',
            'type = "s3"',
            f'bucket = "drill-bench-{index:03d}"',
            'prefix = "postgres/"',
            'region = "us-east-1"',
            f'endpoint_url = "{endpoint}"',
            # moto serves STS and IAM too: the trust evidence asks them as it would ask AWS's own.
            f'sts_endpoint_url = "{endpoint}"',
            f'iam_endpoint_url = "{endpoint}"',
            f'site = "bench-site-{index:03d}"',
            "[targets.credentials]",
            f'access_key_id_env = "{KEY_ID_ENV}"',
            f'secret_access_key_env = "{SECRET_ENV}"',
        ]
    for index in range(targets):
        lines += [
            "",
            "[[databases]]",
            f'name = "db-{index:03d}"',
            'site = "production"',
            f'targets = ["t-{index:03d}"]',
            f'snapshot_pattern = "db-{index:03d}/*.dump"',
            # Even buckets carry Object Lock (see moto_seed.py): only they are required to be immutable.
            f"immutable = {1 if index % 2 == 0 else 0}",
        ]
    return "\n".join(lines) + "\n"


# What drill's own credentials need (docs/permissions.md): the S3 reads and the account's IAM.
_READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "iam:Get*", "iam:List*"], "Resource": "*"}
    ],
}


def _reader_keys(endpoint: str) -> dict[str, str]:
    """Keys of an IAM user with drill's read-only policy, so that the trust evidence judges a real
    principal (moto does not enforce IAM here; drill reads the policy and evaluates it)."""
    import json  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    # One user per measurement (each is a fresh process): IAM allows two access keys per user.
    name = f"drill-bench-{os.getpid()}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps(_READER_POLICY))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {KEY_ID_ENV: key["AccessKeyId"], SECRET_ENV: key["SecretAccessKey"]}


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def measure(
    endpoint: str, targets: int, snapshots: int, concurrency: int, *, trace: bool, scratch: Path
) -> dict[str, Any]:
    """One posture run, in this process, with its config and reports in ``scratch``; the figures."""
    import drill  # noqa: PLC0415
    from drill.config import load_config  # noqa: PLC0415
    from drill.engine import execute  # noqa: PLC0415
    from drill.model import Phase  # noqa: PLC0415

    counter = CallCounter()
    timing = _instrument(counter)
    environ = {**os.environ, **_reader_keys(endpoint)}
    path = scratch / "drill.toml"
    path.write_text(_config_text(endpoint, targets, scratch / "reports"))
    loaded = load_config(path, environ)
    import boto3  # noqa: PLC0415, F401 - imported before the baseline, as drill imports it lazily
    import botocore.session  # noqa: PLC0415, F401

    rss_before = _rss_kib("VmRSS")
    if trace:
        import tracemalloc  # noqa: PLC0415

        tracemalloc.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run = execute(
        loaded, command="check", phases=frozenset({Phase.POSTURE}), concurrency=concurrency, environ=environ
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    traced_peak = None
    if trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    statuses = Counter(f"{finding.check}:{finding.status.value}" for finding in run.findings)
    calls = sum(counter.operations.values())
    return {
        "drill_source": str(Path(drill.__file__).parent),
        "targets": targets,
        "snapshots_per_target": snapshots,
        "concurrency": concurrency,
        "tracemalloc": trace,
        "wall_s": round(wall, 3),
        "targets_per_s": round(targets / wall, 2),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_target": round(1000 * cpu / targets, 1),
        "open_stores_s": round(timing["open_stores_s"], 3),
        "clients_created": counter.clients,
        "api_calls": calls,
        "api_calls_per_target": round(calls / targets, 2),
        "calls_per_target_by_operation": {
            name: round(count / targets, 2) for name, count in sorted(counter.operations.items())
        },
        "http_requests": counter.requests,
        "get_object_calls": counter.operations.get("GetObject", 0),
        "ranged_get_object_calls": counter.ranged_get_objects,
        "keys_listed": counter.keys_listed,
        "rss_before_run_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "tracemalloc_peak_mib": None if traced_peak is None else round(traced_peak / 2**20, 2),
        "findings": dict(sorted(statuses.items())),
    }
