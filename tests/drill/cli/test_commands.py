"""The CLI end to end, as a user runs it: a subprocess, a config file, a filesystem target."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pg_dumps import dumps_for

CONFIG = """
[report]
dir = "reports"

# One local copy, held to a one-copy policy, so that only freshness decides the verdict.
[policy]
copies = 1
media = 1
offsite = 0
immutable = 0

[[targets]]
name = "local"
type = "filesystem"
path = "backups"
site = "office"

[[databases]]
name = "orders"
site = "prod"
targets = ["local"]
snapshot_pattern = "orders/*.dump"
max_age = "{max_age}"
"""


def drill(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drill", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def workspace(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dump = tmp_path / "backups" / "orders" / "orders-1.dump"
    dump.parent.mkdir(parents=True)
    shutil.copyfile(dumps_for(tmp_path_factory).custom, dump)
    two_days_ago = time.time() - 2 * 86400
    os.utime(dump, (two_days_ago, two_days_ago))
    return tmp_path


def _config(workspace: Path, max_age: str) -> Path:
    path = workspace / "drill.toml"
    path.write_text(CONFIG.format(max_age=max_age))
    return path


def test_run_with_a_fresh_snapshot_exits_0_and_writes_the_json(workspace: Path) -> None:
    config = _config(workspace, "3d")
    result = drill("run", "-c", str(config), "--json", "out/run.json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout and "freshness" in result.stdout
    run = json.loads((workspace / "out" / "run.json").read_text())
    assert run["schema"] == "drill.run/v1"
    assert run["status"] in ("pass", "warn")
    assert run["command"] == "run"
    assert len(run["config"]["sha256"]) == 64
    [finding] = [finding for finding in run["findings"] if finding["check"] == "freshness"]
    assert finding["status"] == "pass"
    assert set(finding) >= {
        "check",
        "status",
        "severity",
        "target",
        "database",
        "agent",
        "message",
        "evidence",
    }
    assert (
        finding["check"] == "freshness" and finding["target"] == "local" and finding["database"] == "orders"
    )
    assert 2 * 86400 - 60 < finding["evidence"]["age_seconds"] < 2 * 86400 + 60


def test_a_stale_snapshot_exits_3(workspace: Path) -> None:
    result = drill("check", "-c", str(_config(workspace, "26h")), cwd=workspace)
    assert result.returncode == 3
    assert "FAIL" in result.stdout and "older than the limit" in result.stdout


def test_an_unreadable_target_is_an_error_that_fails_closed(workspace: Path) -> None:
    config = _config(workspace, "3d")
    (workspace / "backups").rename(workspace / "moved")
    result = drill("check", "-c", str(config), "--json", "run.json", cwd=workspace)
    assert result.returncode == 3
    findings = json.loads((workspace / "run.json").read_text())["findings"]
    [freshness] = [finding for finding in findings if finding["check"] == "freshness"]
    assert freshness["status"] == "error"
    assert "does not exist" in freshness["message"]


def test_an_unknown_database_is_a_usage_error(workspace: Path) -> None:
    result = drill("run", "-c", str(_config(workspace, "3d")), "--database", "nope", cwd=workspace)
    assert result.returncode == 2
    assert "unknown database nope" in result.stderr and "orders" in result.stderr


def test_list_checks_names_every_check(workspace: Path) -> None:
    result = drill("list-checks", cwd=workspace)
    assert result.returncode == 0
    assert "freshness" in result.stdout


@pytest.mark.parametrize("command", ["check", "run", "list-checks", "validate"])
def test_every_command_explains_itself(command: str, workspace: Path) -> None:
    result = drill(command, "--help", cwd=workspace)
    assert result.returncode == 0
    assert "Usage" in result.stdout and len(result.stdout) > 200


def test_report_builds_a_pack_for_a_proven_period_and_verify_pack_accepts_it(workspace: Path) -> None:
    config = _config(workspace, "3d")
    assert drill("run", "-c", str(config), cwd=workspace).returncode == 0
    today = time.strftime("%Y-%m-%d", time.gmtime())
    built = drill("report", "-c", str(config), "--since", today, "--out", "pack.zip", cwd=workspace)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Period verdict: PASS" in built.stdout and "1 run," in built.stdout
    verified = drill("verify-pack", "pack.zip", cwd=workspace)
    assert verified.returncode == 0 and verified.stdout.startswith("OK:"), verified.stdout


def test_verify_pack_fails_a_pack_whose_file_was_changed(workspace: Path) -> None:
    import zipfile  # noqa: PLC0415 - only this test rewrites an archive

    config = _config(workspace, "3d")
    drill("run", "-c", str(config), cwd=workspace)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    drill("report", "-c", str(config), "--since", today, "--out", "pack.zip", cwd=workspace)
    with (
        zipfile.ZipFile(workspace / "pack.zip") as original,
        zipfile.ZipFile(workspace / "edited.zip", "w") as edited,
    ):
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith("/summary.html"):
                data = data.replace(b"PASS", b"pass (edited)")
            edited.writestr(info, data)
    verified = drill("verify-pack", "edited.zip", cwd=workspace)
    assert verified.returncode == 3
    assert "changed: summary.html" in verified.stdout and "FAILED" in verified.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--since", "2026-13-01"), "--since: '2026-13-01' is not a date; write it as YYYY-MM-DD."),
        (
            ("--since", "2026-10-01", "--until", "2026-09-30"),
            "--since 2026-10-01 is after --until 2026-09-30.",
        ),
        (("--since", "2026-10-01", "--report-dir", "nowhere"), "nowhere: no such report directory"),
        (("--since", "2026-10-01", "--report-dir", "reports", "-c", "drill.toml"), "give either --config"),
        (
            (
                "--since",
                "2026-10-01",
            ),
            "give either --config",
        ),
    ],
)
def test_report_usage_errors_are_one_line_and_exit_2(
    workspace: Path, arguments: tuple[str, ...], message: str
) -> None:
    _config(workspace, "3d")
    (workspace / "reports").mkdir()
    result = drill("report", *arguments, "--out", "pack.zip", cwd=workspace)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (workspace / "pack.zip").exists()


def test_verify_pack_of_something_that_is_not_a_pack_fails_closed(workspace: Path) -> None:
    (workspace / "notes.zip").write_text("not a zip")
    result = drill("verify-pack", "notes.zip", cwd=workspace)
    assert result.returncode == 3 and "FAILED" in result.stderr and "not a zip archive" in result.stderr


OUTBOUND = """
[metrics]
textfile = "metrics/drill-{{command}}.prom"

[notify]
webhook_env = "DRILL_TEST_WEBHOOK"
heartbeat_env = "DRILL_TEST_HEARTBEAT"
on = ["failure", "recovery"]
timeout = "2s"
retries = 0
"""


def test_a_failing_drill_posts_to_the_webhook_writes_metrics_and_a_recovery_pings_the_heartbeat(
    workspace: Path,
) -> None:
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    from tests.reports.servers import receiver  # noqa: PLC0415

    with receiver() as hooks:
        environ = {
            **os.environ,
            "DRILL_TEST_WEBHOOK": hooks.url("/services/T000/B000/SECRETTOKEN"),
            "DRILL_TEST_HEARTBEAT": hooks.url("/ping/drill"),
        }
        stale = _config(workspace, "1d")
        stale.write_text(stale.read_text() + OUTBOUND.format())
        failed = drill("run", "-c", str(stale), cwd=workspace, env=environ)
        assert failed.returncode == 3, failed.stdout + failed.stderr
        [post] = hooks.to("/services/T000/B000/SECRETTOKEN")
        assert post.method == "POST" and "FAIL" in post.json()["text"] and "freshness" in post.json()["text"]
        # healthchecks.io's signals: the run began, then it failed; the switch tells it from silence.
        assert [ping.path for ping in hooks.requests if ping.path.startswith("/ping")] == [
            "/ping/drill/start",
            "/ping/drill/fail",
        ]
        assert hooks.to("/ping/drill") == []

        fresh = _config(workspace, "3d")
        fresh.write_text(fresh.read_text() + OUTBOUND.format())
        passed = drill("run", "-c", str(fresh), cwd=workspace, env=environ)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        recovery = hooks.to("/services/T000/B000/SECRETTOKEN")[1].json()["text"]
        assert "recover" in recovery.lower()
        assert [ping.method for ping in hooks.to("/ping/drill")] == ["GET"]
        assert len(hooks.to("/ping/drill/start")) == 2 and len(hooks.to("/ping/drill/fail")) == 1
    assert "SECRETTOKEN" not in failed.stdout + failed.stderr + passed.stdout + passed.stderr
    families = {
        family.name: family
        for family in text_string_to_metric_families((workspace / "metrics" / "drill-run.prom").read_text())
    }
    [failed_sample] = families["drill_run_failed"].samples
    assert failed_sample.value == 0  # the file holds the last run: the one that passed
    assert "drill_last_success_timestamp_seconds" in families


def test_a_webhook_that_is_down_never_fails_the_drill(workspace: Path) -> None:
    from tests.reports.servers import closed_port  # noqa: PLC0415

    config = _config(workspace, "3d")
    with closed_port() as port:
        config.write_text(config.read_text() + OUTBOUND.format())
        environ = {
            **os.environ,
            "DRILL_TEST_WEBHOOK": f"http://127.0.0.1:{port}/services/SECRET",
            "DRILL_TEST_HEARTBEAT": f"http://127.0.0.1:{port}/ping",
        }
        result = drill("run", "-c", str(config), cwd=workspace, env=environ)
    assert result.returncode == 0, (
        result.stdout + result.stderr
    )  # the drill passed; the ping could not be sent
    assert f"http://127.0.0.1:{port}" in result.stderr and "SECRET" not in result.stderr


def test_keep_runs_prunes_the_oldest_run_and_says_so(workspace: Path) -> None:
    config = _config(workspace, "3d")
    config.write_text(config.read_text().replace('dir = "reports"\n', 'dir = "reports"\nkeep_runs = 2\n'))
    outputs = [drill("check", "-c", str(config), cwd=workspace) for _ in range(3)]

    # The verdict does not matter here: the pruning does.
    assert {result.returncode for result in outputs} <= {0, 3}, outputs[-1].stderr
    assert "pruned" not in outputs[1].stdout
    assert "History: pruned 1 run." in outputs[2].stdout
    assert len(list((workspace / "reports" / "runs").iterdir())) == 2
    assert len((workspace / "reports" / "history.jsonl").read_text().splitlines()) == 2
