"""A moto S3 server holding a seeded backup estate, for bench/posture.py.

Seeding 200,000 objects through moto's HTTP API costs about 5 ms a PUT, so this process seeds
moto's in-process backend directly and only then serves it over HTTP. It prints one JSON line
with the endpoint, the seeding time and its own RSS, then ``ready``, and serves until killed.

Layout: one bucket per target, ``drill-bench-NNN``, holding ``postgres/db-NNN/db-NNN-<time>.dump``
snapshots an hour apart, the newest an hour old. Even buckets are versioned with Object Lock
(COMPLIANCE, 30 days by default, and each snapshot locked until 31 days after it was written);
odd buckets are plain, with a lifecycle rule that expires snapshots after 90 days. No sidecars.

    python bench/moto_seed.py --targets 200 --snapshots 1000
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

ACCOUNT_ID = "123456789012"  # moto's default account: the one dummy access keys map to
REGION = "us-east-1"
PREFIX = "postgres/"
LOCK_DAYS = 30
LIFECYCLE_DAYS = 90
BODY = b"PGDMP-bench-0123"  # a few bytes: posture never downloads a body, so size is irrelevant


def bucket_name(index: int) -> str:
    return f"drill-bench-{index:03d}"


def database_name(index: int) -> str:
    return f"db-{index:03d}"


def is_locked(index: int) -> bool:
    return index % 2 == 0


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def seed(targets: int, snapshots: int, now: datetime) -> None:
    """Create the buckets and objects in moto's backend, with distinct LastModified times."""
    from moto.s3.models import s3_backends  # noqa: PLC0415 - moto takes a second to import

    backend = s3_backends[ACCOUNT_ID]["aws"]
    newest = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for index in range(targets):
        bucket = bucket_name(index)
        database = database_name(index)
        backend.create_bucket(bucket, REGION)
        locked = is_locked(index)
        if locked:
            backend.put_bucket_versioning(bucket, "Enabled")
            backend.put_object_lock_configuration(bucket, True, mode="COMPLIANCE", days=LOCK_DAYS)
        else:
            backend.put_bucket_lifecycle_configuration(
                bucket,
                [
                    {
                        "ID": "expire-old-dumps",
                        "Status": "Enabled",
                        "Filter": {"Prefix": PREFIX},
                        "Expiration": {"Days": LIFECYCLE_DAYS},
                    }
                ],
            )
        for age in range(snapshots):
            written = newest - timedelta(hours=age)
            key = f"{PREFIX}{database}/{database}-{written:%Y%m%dT%H%MZ}.dump"
            until = written + timedelta(days=LOCK_DAYS + 1)
            fake = backend.put_object(
                bucket,
                key,
                BODY,
                lock_mode="COMPLIANCE" if locked else None,
                lock_until=f"{until:%Y-%m-%dT%H:%M:%SZ}" if locked else None,
                disable_notification=True,
            )
            fake.last_modified = written.replace(tzinfo=None)  # moto keeps naive UTC times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--snapshots", type=int, default=1000)
    args = parser.parse_args()

    started = time.perf_counter()
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    imported = time.perf_counter()
    seed(args.targets, args.snapshots, datetime.now(UTC))
    seeded = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    info = {
        "endpoint": f"http://{host}:{port}",
        "targets": args.targets,
        "snapshots": args.snapshots,
        "objects": args.targets * args.snapshots,
        "import_s": round(imported - started, 3),
        "seed_s": round(seeded - imported, 3),
        "rss_mib": round(_rss_kib() / 1024, 1),
    }
    print(json.dumps(info), flush=True)
    print("ready", flush=True)

    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
