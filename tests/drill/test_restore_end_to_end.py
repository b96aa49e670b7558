"""`drill run` end to end: real dumps on moto, restored by the machine's PostgreSQL in a scratch
cluster, run as a user runs it (a subprocess), and nothing left behind whatever happens."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.drill.restore.conftest import postmasters_under, processes_mentioning, wait_until
from tests.helpers import AWS_ENVIRON
from tests.pg_dumps import Dumps, dumps_for, throwaway_cluster

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[2]
HEAD = """
[report]
dir = "{report_dir}"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
max_age = "3d"

[restore]
work_dir = "{work_dir}"
run_as = "{run_as}"

[[targets]]
name = "vault"
type = "s3"
bucket = "backups"
region = "us-east-1"
endpoint_url = "{endpoint}"
site = "aws:123456789012:us-east-1"
credentials = {{ access_key_id_env = "DRILL_TEST_AWS_KEY_ID", secret_access_key_env = "DRILL_TEST_AWS_SECRET" }}
"""
DATABASE = """
[[databases]]
name = "{name}"
site = "prod"
targets = ["vault"]
snapshot_pattern = "{name}/*"
{extra}
"""
GOOD_CHECKS = """rto = "10m"
recovery_point_columns = ["orders.placed_at"]
[[databases.checks]]
name = "orders exist"
sql = "SELECT count(*) FROM orders"
expect = ">= 3000"
"""


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.fixture
def work_dir() -> Iterator[Path]:
    """World-searchable (the postgres user runs the scratch server in it); checked empty afterwards."""
    path = Path(tempfile.mkdtemp(prefix="drill-e2e-"))
    path.chmod(0o755)
    yield path
    for pid in postmasters_under(path):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def bucket(s3_admin: S3Client) -> S3Client:
    s3_admin.create_bucket(Bucket="backups")
    return s3_admin


def write_config(
    tmp_path: Path, work_dir: Path, endpoint: str, databases: dict[str, str], *, run_as: str = "postgres"
) -> Path:
    text = HEAD.format(report_dir=tmp_path / "reports", work_dir=work_dir, endpoint=endpoint, run_as=run_as)
    for name, extra in databases.items():
        text += DATABASE.format(name=name, extra=extra)
    config = tmp_path / "drill.toml"
    config.write_text(text)
    return config


def drill(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "drill",
            "run",
            "-c",
            str(config),
            "--json",
            str(config.parent / "run.json"),
            *args,
        ],
        cwd=config.parent,
        env={**os.environ, **AWS_ENVIRON},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def findings(config: Path, check: str) -> dict[str, dict[str, Any]]:
    run = json.loads((config.parent / "run.json").read_text())
    return {finding["database"]: finding for finding in run["findings"] if finding["check"] == check}


def assert_nothing_left(work_dir: Path) -> None:
    assert list(work_dir.iterdir()) == []
    assert postmasters_under(work_dir) == []


def test_a_custom_dump_on_s3_restores_verifies_and_reports_its_timings(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    bucket.put_object(Bucket="backups", Key="orders/orders-1.dump", Body=dumps.custom.read_bytes())
    bucket.put_object(Bucket="backups", Key="billing/billing-1.sql.gz", Body=dumps.plain_gz.read_bytes())
    bucket.put_object(Bucket="backups", Key="ledger/ledger-1.tar", Body=dumps.directory_tar.read_bytes())
    config = write_config(
        tmp_path, work_dir, s3_endpoint, {"orders": GOOD_CHECKS, "billing": "", "ledger": ""}
    )

    result = drill(config)

    assert "recovered in" in result.stdout, result.stdout + result.stderr
    restores = findings(config, "restore")
    for name, dump_format in (("orders", "custom"), ("billing", "plain"), ("ledger", "directory")):
        assert restores[name]["status"] == "pass", restores[name]["message"]
        assert restores[name]["evidence"]["dump_format"] == dump_format
    timings = restores["orders"]["evidence"]
    assert 0 < timings["restore_seconds"] <= timings["total_seconds"] <= 600
    assert timings["download_seconds"] > 0 and timings["rto_seconds"] == 600
    integrity = findings(config, "integrity")["orders"]
    assert integrity["evidence"]["table_rows"] == {"public.customers": 500, "public.orders": 3000}
    # The data's newest row is from 2024: sound, but older than max_age, which is a warning.
    assert integrity["status"] == "warn" and "older than max_age" in integrity["message"]
    # The bucket has no Object Lock, so the run as a whole fails on immutability; and on moto
    # (an endpoint that is not AWS, no sts_endpoint_url) drill cannot tell who its own keys are,
    # so whether they are read-only is an error, not a pass.
    run = json.loads((config.parent / "run.json").read_text())
    failing = {f["check"]: f["status"] for f in run["findings"] if f["status"] in ("fail", "error")}
    assert failing == {"immutability": "fail", "verifier_least_privilege": "error"}
    assert result.returncode == 3
    assert_nothing_left(work_dir)


def test_each_bad_dump_fails_its_own_database_and_the_next_one_still_drills(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    custom = dumps.custom.read_bytes()
    broken_sql = dumps.plain.read_text().replace("CREATE INDEX", "CREATE INDEXX", 1)
    uploads = {
        "empty/empty-1.dump": b"",
        "truncated/truncated-1.dump": custom[: len(custom) // 2],
        "readme/readme-1.dump": b"This bucket holds our backups. Ask ops before deleting anything.\n" * 50,
        "halfway/halfway-1.sql": broken_sql.encode(),
        "queries/queries-1.dump": custom,
        "good/good-1.dump": custom,
    }
    for key, body in uploads.items():
        bucket.put_object(Bucket="backups", Key=key, Body=body)
    bad_query = '[[databases.checks]]\nname = "typo"\nsql = "SELECT count(*) FROM orderz"\nexpect = "> 0"\n'
    names = ["empty", "truncated", "readme", "halfway", "queries", "good"]
    config = write_config(
        tmp_path, work_dir, s3_endpoint, {name: bad_query if name == "queries" else "" for name in names}
    )

    result = drill(config)

    assert result.returncode == 3 and "Traceback" not in result.stderr
    restores = findings(config, "restore")
    assert restores["empty"]["status"] == "fail" and "empty" in restores["empty"]["message"].lower()
    assert (
        restores["truncated"]["status"] == "fail" and "truncated" in restores["truncated"]["message"].lower()
    )
    assert restores["readme"]["status"] == "fail" and "not a" in restores["readme"]["message"].lower()
    assert restores["halfway"]["status"] == "fail" and "INDEXX" in restores["halfway"]["message"]
    assert restores["queries"]["status"] == "pass" and restores["good"]["status"] == "pass"
    integrity = findings(config, "integrity")
    assert integrity["queries"]["status"] in ("fail", "error") and "orderz" in integrity["queries"]["message"]
    assert integrity["good"]["status"] in ("pass", "warn")
    assert_nothing_left(work_dir)


def start_slow_drill(
    tmp_path: Path, work_dir: Path, endpoint: str, bucket: S3Client, dumps: Dumps
) -> tuple[Path, subprocess.Popen[str]]:
    """`drill run` on a plain dump that ends in a minute-long pg_sleep: a restore to interrupt."""
    slow = dumps.plain.read_text() + "\nSELECT pg_sleep(60);\n"
    bucket.put_object(Bucket="backups", Key="orders/orders-1.sql", Body=slow.encode())
    config = write_config(tmp_path, work_dir, endpoint, {"orders": ""})
    process = subprocess.Popen(
        [sys.executable, "-m", "drill", "run", "-c", str(config)],
        cwd=tmp_path,
        env={**os.environ, **AWS_ENVIRON},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return config, process


def test_sigterm_in_the_middle_of_a_restore_leaves_no_process_and_no_directory(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    config, process = start_slow_drill(tmp_path, work_dir, s3_endpoint, bucket, dumps)
    try:
        assert wait_until(lambda: bool(processes_mentioning("pg_sleep") or _sleeping_backend(work_dir)), 60)
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate()
    assert status == 143, stderr  # 128 + SIGTERM, after the run was recorded
    assert wait_until(lambda: not postmasters_under(work_dir), 10)
    assert_nothing_left(work_dir)
    [record] = (config.parent / "reports" / "runs").glob("*/run.json")
    run = json.loads(record.read_text())
    assert run["interrupted"] == {"signal": "SIGTERM", "during": "restore"}
    assert run["status"] in ("fail", "error")
    [restore] = [finding for finding in run["findings"] if finding["check"] == "restore"]
    assert restore["status"] == "error" and "interrupted by SIGTERM" in restore["message"]


def _sleeping_backend(work_dir: Path) -> bool:
    """The psql child is running the final pg_sleep when a postmaster under work_dir has a backend
    in it; cheaper to detect as: psql with the dump file is alive and the restore is well under way."""
    return any("psql" in _cmdline(pid) for pid in processes_mentioning(str(work_dir)))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_runs_leftovers_are_swept_at_the_next_start(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    config, process = start_slow_drill(tmp_path, work_dir, s3_endpoint, bucket, dumps)
    assert wait_until(lambda: _sleeping_backend(work_dir), 60)
    process.kill()  # SIGKILL: no cleanup can run
    process.communicate(timeout=10)
    for pid in processes_mentioning(str(work_dir)):
        if "psql" in _cmdline(pid):
            os.kill(pid, signal.SIGKILL)  # the orphaned client; the postmaster is the sweep's job
    leftovers = sorted(path.name.split("-")[1] for path in work_dir.iterdir())
    assert leftovers == ["fetch", "scratch"]

    bucket.put_object(Bucket="backups", Key="orders/orders-2.dump", Body=dumps.custom.read_bytes())
    result = drill(config)

    assert findings(config, "restore")["orders"]["status"] == "pass", result.stdout
    assert_nothing_left(work_dir)


def test_a_missing_server_user_as_root_is_a_clear_error(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    if os.geteuid() != 0:
        pytest.skip("the run_as user only matters when drill runs as root")
    bucket.put_object(Bucket="backups", Key="orders/orders-1.dump", Body=dumps.custom.read_bytes())
    config = write_config(tmp_path, work_dir, s3_endpoint, {"orders": ""}, run_as="no-such-user")

    result = drill(config)

    assert result.returncode == 3 and "Traceback" not in result.stderr
    restore = findings(config, "restore")["orders"]
    assert restore["status"] == "error"
    assert "no-such-user" in restore["message"]
    assert_nothing_left(work_dir)


def test_keep_leaves_the_scratch_database_running_and_says_how_to_connect(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    bucket.put_object(Bucket="backups", Key="orders/orders-1.dump", Body=dumps.custom.read_bytes())
    config = write_config(tmp_path, work_dir, s3_endpoint, {"orders": ""})

    result = drill(config, "--keep")

    assert "kept for inspection" in result.stdout and "psql" in result.stdout, result.stdout
    [postmaster] = postmasters_under(work_dir)
    kept = json.loads(next(work_dir.glob("drill-scratch-*/drill-owner.json")).read_text())
    assert kept["kept"] is True
    os.kill(postmaster, signal.SIGKILL)  # the test cleans up what --keep left on purpose
    assert wait_until(lambda: not postmasters_under(work_dir), 10)


def test_a_table_that_lost_most_of_its_rows_since_the_last_drill_fails(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    bucket.put_object(Bucket="backups", Key="orders/orders-1.dump", Body=dumps.custom.read_bytes())
    config = write_config(tmp_path, work_dir, s3_endpoint, {"orders": ""})
    assert findings_after(config, "integrity")["orders"]["status"] in ("pass", "warn")

    shrunk = tmp_path / "shrunk.dump"
    with throwaway_cluster(dumps.bin_dir) as socket_dir:
        environ = {**os.environ, "PGHOST": str(socket_dir), "PGUSER": "postgres"}
        for command in (
            ["createdb", "shop"],
            ["pg_restore", "--no-owner", "-d", "shop", str(dumps.custom)],
            ["psql", "-q", "-d", "shop", "-c", "DELETE FROM orders WHERE id > 300"],
            ["pg_dump", "-Fc", "-f", str(shrunk), "shop"],
        ):
            subprocess.run(
                [dumps.tool(command[0]), *command[1:]], env=environ, check=True, capture_output=True
            )
    time.sleep(1.1)  # a strictly newer LastModified (S3 keeps whole seconds)
    bucket.put_object(Bucket="backups", Key="orders/orders-2.dump", Body=shrunk.read_bytes())

    integrity = findings_after(config, "integrity")["orders"]
    assert integrity["status"] == "fail", integrity["message"]
    assert "public.orders" in integrity["message"]


def findings_after(config: Path, check: str) -> dict[str, dict[str, Any]]:
    drill(config)
    return findings(config, check)


def test_a_gzipped_plain_dump_is_recognised_from_its_content_not_its_name(
    tmp_path: Path, work_dir: Path, s3_endpoint: str, bucket: S3Client, dumps: Dumps
) -> None:
    # Named like a custom dump, but it is gzip-compressed plain SQL.
    bucket.put_object(
        Bucket="backups", Key="orders/orders-1.dump", Body=gzip.compress(dumps.plain.read_bytes())
    )
    config = write_config(tmp_path, work_dir, s3_endpoint, {"orders": ""})
    drill(config)
    restore = findings(config, "restore")["orders"]
    assert restore["status"] == "pass" and restore["evidence"]["dump_format"] == "plain"
    assert_nothing_left(work_dir)
