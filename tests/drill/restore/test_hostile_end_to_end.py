"""`drill run` over a bucket of hostile snapshots (tests/drill/restore/hostile.py) and two good ones,
as a user runs it (a subprocess, moto over HTTP, the machine's PostgreSQL), both as this test's
user (root here) and as the container image's unprivileged uid 10001.

Each hostile snapshot fails its own database with its cause; the good ones (Chinook and Pagila)
pass in the same run. What the snapshots tried did not happen: no marker file, no process of
theirs alive, no secret file content and none of drill's environment in stdout, stderr, the run
record or any report file, and nothing left in the work dir.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.drill.restore import hostile
from tests.drill.restore.conftest import postmasters_under
from tests.drill.restore.hostile import Trap
from tests.helpers import AWS_ENVIRON
from tests.pg_dumps import dumps_for, samples_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[3]
CONTAINER_UID = 10001  # the Dockerfile's `drill` user
MiB = 1 << 20
CANARY = "canary-" + os.urandom(8).hex()  # in drill's environment: must reach no output
CONFIG = """
[report]
dir = "{report_dir}"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0
max_age = "3650d"

[restore]
work_dir = "{work_dir}"
run_as = "postgres"
max_expanded_size = "48MiB"

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
{extra}"""
# What each hostile snapshot's restore finding must say.
CAUSES = {
    "meta": "holds a psql meta-command",
    "checked": "must be superuser or have privileges of the pg_execute_server_program role",
    "escape": "is not a file inside the dump directory; drill refused to restore it",
    "linked": "a link; a directory dump holds only files",
    "gzbomb": "expands past [restore] max_expanded_size = 48.0 MiB",
    "zstbomb": "expands past [restore] max_expanded_size = 48.0 MiB",
    "expands": "The restored database expands past [restore] max_expanded_size = 48.0 MiB",
    "fdw": '[restore] allowed_extensions = ["dblink"]',
}


@pytest.fixture(scope="module")
def bucket_contents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, bytes], Trap]]:
    """Every snapshot, built once for both runs; the trap they aim at lives outside any work dir."""
    dumps = dumps_for(tmp_path_factory)
    samples = samples_for(tmp_path_factory)
    parent = Path(tempfile.mkdtemp(prefix="drill-trap-"))
    parent.chmod(0o755)
    trap = Trap.make(parent)
    built = tmp_path_factory.mktemp("hostile")
    contents = {
        "meta/meta-1.sql": hostile.plain_with_meta_command(dumps.plain, "before its restrict", trap),
        "checked/checked-1.dump": hostile.custom_with_evil_check(
            dumps.bin_dir, built, trap, "program first"
        ).read_bytes(),
        "escape/escape-1.tar": hostile.directory_tar_reading(dumps.directory, trap.secret_file),
        "linked/linked-1.tar": hostile.directory_tar_with_symlink(dumps.directory, trap.secret_file),
        "planted/planted-1.dump": hostile.custom_with_planted_objects(dumps.bin_dir, built).read_bytes(),
        "gzbomb/gzbomb-1.sql.gz": hostile.gzip_bomb(256 * MiB),
        "zstbomb/zstbomb-1.sql.zst": hostile.zstd_bomb(256 * MiB),
        "expands/expands-1.dump": hostile.custom_dump_that_expands(dumps.bin_dir, built).read_bytes(),
        "fdw/fdw-1.dump": hostile.custom_dump(
            dumps.bin_dir, built, "fdw", "CREATE EXTENSION dblink; CREATE TABLE t (x int);"
        ).read_bytes(),
        "chinook/chinook-1.dump": samples["chinook"].custom.read_bytes(),
        "pagila/pagila-1.sql.gz": samples["pagila"].plain_gz.read_bytes(),
    }
    yield contents, trap
    trap.disarm()
    shutil.rmtree(parent, ignore_errors=True)


def container_account() -> pwd.struct_passwd:
    """The image's user; created here as the Dockerfile creates it (initdb needs a passwd entry)."""
    try:
        return pwd.getpwuid(CONTAINER_UID)
    except KeyError:
        for command in (
            ("groupadd", "--system", "--gid", str(CONTAINER_UID), "drill"),
            (
                "useradd",
                "--system",
                "--uid",
                str(CONTAINER_UID),
                "--gid",
                str(CONTAINER_UID),
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "drill",
            ),
        ):
            subprocess.run(command, check=True, capture_output=True)
        return pwd.getpwuid(CONTAINER_UID)


@pytest.fixture(params=["this user", "container uid"])
def identity(request: pytest.FixtureRequest) -> pwd.struct_passwd | None:
    if request.param == "this user":
        return None
    if os.geteuid() != 0:
        pytest.skip("switching to the container's uid needs root")
    return container_account()


@pytest.fixture
def places(identity: pwd.struct_passwd | None) -> Iterator[tuple[Path, Path]]:
    """A work dir and a report dir the running user owns; the work dir is checked empty afterwards."""
    root = Path(tempfile.mkdtemp(prefix="drill-hostile-e2e-"))
    root.chmod(0o755)
    work, reports = root / "work", root / "reports"
    for path in (work, reports):
        path.mkdir(mode=0o755)
        if identity is not None:
            os.chown(path, identity.pw_uid, identity.pw_gid)
    yield work, reports
    for pid in postmasters_under(work):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)


def test_hostile_snapshots_fail_with_their_cause_and_leave_no_trace(
    bucket_contents: tuple[dict[str, bytes], Trap],
    places: tuple[Path, Path],
    identity: pwd.struct_passwd | None,
    s3_endpoint: str,
    s3_admin: S3Client,
) -> None:
    contents, trap = bucket_contents
    work, reports = places
    s3_admin.create_bucket(Bucket="backups")
    for key, body in contents.items():
        s3_admin.put_object(Bucket="backups", Key=key, Body=body)
    config = write_config(
        reports.parent, work, reports, s3_endpoint, names=[key.split("/")[0] for key in contents]
    )

    result = run_drill(config, reports, identity)

    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr[-3000:]
    record = json.loads((reports / "run.json").read_text())
    restores = {f["database"]: f for f in record["findings"] if f["check"] == "restore"}
    for name, cause in CAUSES.items():
        assert restores[name]["status"] == "fail", (name, restores[name]["message"])
        assert cause in restores[name]["message"], (name, restores[name]["message"])
    for good in ("chinook", "pagila", "planted"):
        assert restores[good]["status"] == "pass", restores[good]["message"]
    integrity = {f["database"]: f for f in record["findings"] if f["check"] == "integrity"}
    assert "public.orders is not a table, and drill reads only tables" in integrity["planted"]["message"]
    # Nothing the snapshots tried happened, and nothing of drill's or the host's got out.
    assert trap.sprung() == []
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    outputs.update(
        {
            str(path): path.read_bytes().decode("utf-8", "replace")
            for path in reports.rglob("*")
            if path.is_file()
        }
    )
    for where, text in outputs.items():
        assert trap.secret not in text, where
        assert CANARY not in text, where
    assert list(work.iterdir()) == []
    assert postmasters_under(work) == []


def write_config(parent: Path, work: Path, reports: Path, endpoint: str, *, names: list[str]) -> Path:
    text = CONFIG.format(report_dir=reports, work_dir=work, endpoint=endpoint)
    for name in names:
        extra = 'recovery_point_columns = ["orders.placed_at"]\n' if name == "planted" else ""
        text += DATABASE.format(name=name, extra=extra)
    config = parent / "drill.toml"
    config.write_text(text)
    config.chmod(0o644)
    return config


def run_drill(
    config: Path, reports: Path, identity: pwd.struct_passwd | None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "drill", "run", "-c", str(config), "--json", str(reports / "run.json")]
    environ = {
        **os.environ,
        **AWS_ENVIRON,
        "DRILL_HOSTILE_CANARY": CANARY,
        "AWS_SESSION_TOKEN": CANARY,
        "PGPASSWORD": CANARY,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if identity is not None:
        command = [
            "setpriv",
            f"--reuid={identity.pw_uid}",
            f"--regid={identity.pw_gid}",
            "--clear-groups",
            *command,
        ]
        environ["HOME"] = str(reports)
    return subprocess.run(
        command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=600, check=False
    )
