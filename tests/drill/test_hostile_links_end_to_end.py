"""`drill run` over a filesystem target whose snapshot, or whose prefix directory, is a symbolic link
to a file outside the target: nothing outside is read (inotify), counted or restored, no output
quotes it, and snapshot_links fails naming the link. As root and as the container image's
unprivileged user (10001), as the issue asks of every hostile-input test run end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.opened import opened_below

SECRET = b"PGDMP" + b"secret-of-another-system-4f1c" * 40
UNPRIVILEGED = 10001  # the container image's user
CONFIG = """
[report]
dir = "reports"

[restore]
work_dir = "work"

[[targets]]
name = "nas"
type = "filesystem"
path = "nas"
prefix = "pg"
site = "office"
media = "disk"

[[databases]]
name = "orders"
site = "aws:111:eu-west-1"
targets = ["nas"]
snapshot_pattern = "orders/*.dump"
"""


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A directory any user can enter: pytest's own tmp_path is the owner's alone."""
    root = Path(tempfile.mkdtemp(prefix="drill-links-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def _arrange(root: Path, linked: str) -> Path:
    outside = root / "elsewhere"
    (outside / "orders").mkdir(parents=True)
    (outside / "orders" / "orders-2026-12-01.dump").write_bytes(SECRET)
    (root / "nas").mkdir()
    if linked == "prefix":
        (root / "nas" / "pg").symlink_to(outside)
    else:
        (root / "nas" / "pg" / "orders").mkdir(parents=True)
        (root / "nas" / "pg" / "orders" / "orders-2026-12-01.dump").symlink_to(
            outside / "orders" / "orders-2026-12-01.dump"
        )
    (root / "work").mkdir()
    (root / "drill.toml").write_text(CONFIG)
    return outside


def _as_user(uid: int) -> list[str]:
    # setpriv drops every group as the image's user has none; here it also reaches an interpreter that
    # subprocess's own user= switch is refused (measured on this project's CI machines).
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _interpreter_runs_as(uid: int) -> bool:
    try:
        probe = subprocess.run(
            [*_as_user(uid), sys.executable, "-c", "import drill"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (PermissionError, FileNotFoundError):
        return False
    return probe.returncode == 0


@pytest.mark.parametrize("linked", ["prefix", "snapshot"])
@pytest.mark.parametrize("user", ["root", "unprivileged"])
def test_a_link_out_of_a_filesystem_target_is_a_failed_finding_and_nothing_outside_is_read(
    workspace: Path, linked: str, user: str
) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching users needs root; this run is already unprivileged")
    if user == "unprivileged" and not _interpreter_runs_as(UNPRIVILEGED):
        pytest.skip(
            f"{sys.executable} cannot be run by uid {UNPRIVILEGED} here (it lives under a private home)"
        )
    outside = _arrange(workspace, linked)
    if user == "unprivileged":
        for path in [workspace, *workspace.rglob("*")]:
            os.lchown(path, UNPRIVILEGED, UNPRIVILEGED)

    with opened_below(outside) as opened:
        result = subprocess.run(
            [
                *(_as_user(UNPRIVILEGED) if user == "unprivileged" else []),
                sys.executable,
                "-m",
                "drill",
                "run",
                "-c",
                "drill.toml",
                "--json",
                "run.json",
                "--junit",
                "junit.xml",
            ],
            cwd=workspace,
            env={**os.environ, "HOME": str(workspace)},
            capture_output=True,
            timeout=300,
            check=False,
        )

    assert result.returncode == 3, result.stderr.decode()
    assert opened == []  # not the outside directory, not the file: the kernel saw no open
    run = json.loads((workspace / "run.json").read_text())
    [links] = [finding for finding in run["findings"] if finding["check"] == "snapshot_links"]
    assert links["status"] == "fail"
    assert "outside the directory of target nas" in links["message"] and "not a copy" in links["message"]
    [restore] = [finding for finding in run["findings"] if finding["check"] == "restore"]
    assert restore["status"] in ("fail", "error") and "Nothing to restore" in restore["message"]
    [scorecard, _] = [finding for finding in run["findings"] if finding["check"] == "copies_3_2_1"]
    assert scorecard["evidence"]["score"]["copies"] == 0  # a link is not a copy
    [run_dir] = (workspace / "reports" / "runs").iterdir()
    outputs = [
        result.stdout,
        result.stderr,
        (workspace / "run.json").read_bytes(),
        (workspace / "junit.xml").read_bytes(),
        (run_dir / "report.html").read_bytes(),
        (workspace / "reports" / "history.jsonl").read_bytes(),
    ]
    assert not any(b"secret-of-another-system" in output for output in outputs)
