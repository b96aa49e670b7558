"""The box pg_restore, psql and the scratch server run in: measured from inside, with real processes.

Network namespaces are measured, not assumed: as root here ``unshare --net`` works; as an
unprivileged user it needs a user namespace, which Docker's default seccomp profile and hardened
kernels refuse. Where the kernel refuses, the box keeps the host's network and the test that
looks inside the namespace is skipped, saying so.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.restore.box import MARKER_VARIABLE, Box, Network, isolation_available
from drill.restore.server_account import server_account
from tests.drill.restore.conftest import wait_until


@pytest.fixture
def home() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="drill-test-"))
    parent.chmod(0o755)  # the scratch OS user must reach its home
    yield parent / "home"
    subprocess.run(("rm", "-rf", str(parent)), check=False)


def box_at(home: Path, *, isolate_network: bool = False) -> Box:
    return Box.make(
        home, server_account("postgres"), isolate_network=isolate_network, bin_dir=Path("/usr/bin")
    )


def run_in(box: Box, script: str, variables: dict[str, str] | None = None) -> str:
    process = box.popen(("/bin/sh", "-c", script), variables or {}, stdout=subprocess.PIPE)
    output, _ = process.communicate(timeout=30)
    box.kill(process)
    return output.decode()


def test_a_boxed_program_gets_none_of_drills_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_SECRET_ACCESS_KEY": "aws-secret-in-drills-env",
        "GOOGLE_APPLICATION_CREDENTIALS": "/etc/drill/gcp.json",
        "PGPASSWORD": "dsn-password-in-drills-env",
        "DRILL_WEBHOOK_URL": "https://hooks.example/T000/secret",
    }.items():
        monkeypatch.setenv(name, value)
    box = box_at(home)

    output = run_in(box, "cat /proc/$$/environ", {"PGHOST": "/tmp/socket", "PGUSER": "drill_restore"})

    names = {entry.split("=", 1)[0] for entry in output.split("\0") if entry}
    allowed = {"PATH", "LC_ALL", "LANG", "HOME", "TMPDIR", MARKER_VARIABLE, "PGHOST", "PGUSER"}
    assert names <= allowed | {"USER", "LOGNAME"}, names - allowed
    assert "secret" not in output and "password" not in output


def test_a_boxed_program_runs_in_an_empty_private_dir_with_no_stdin_and_never_as_root(home: Path) -> None:
    box = box_at(home)

    output = run_in(box, 'pwd; ls -A | wc -l; cat | wc -c; id -u; id -G; stat -c %a "$HOME"').split()

    cwd, entries, stdin_bytes, uid, *groups, mode = output
    assert (cwd, entries, stdin_bytes, mode) == (str(home), "0", "0", "700")
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        assert (int(uid), [int(group) for group in groups]) == (account.pw_uid, [account.pw_gid])
    else:
        assert int(uid) == os.geteuid()


def test_the_kernel_grants_a_network_namespace_as_measured_here() -> None:
    measured = isolation_available((os.geteuid(), os.getegid()))
    # Root may always make one where unshare exists; anyone else depends on user namespaces.
    if os.geteuid() == 0:
        assert measured is Network.NAMESPACE
    else:
        assert measured in (Network.USER_NAMESPACE, Network.HOST)


def test_a_boxed_program_has_no_network_where_the_kernel_allows_a_namespace(home: Path) -> None:
    box = box_at(home, isolate_network=True)
    if box.network is Network.HOST:
        pytest.skip("the kernel refuses a network namespace to this user: the box keeps the host's network")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        output = run_in(
            box,
            "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; "
            f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo reached || echo unreachable",
        )
    finally:
        listener.close()

    interfaces, reached = output.split()[:-1], output.split()[-1]
    assert interfaces == ["lo"]  # and it is down: no address, not even loopback
    assert reached == "unreachable"


def test_a_process_that_left_the_group_is_killed_by_the_boxs_marker(home: Path) -> None:
    box = box_at(home, isolate_network=True)
    token = os.urandom(4).hex()
    process = box.popen(
        ("/bin/sh", "-c", f"setsid sh -c 'sleep 1000; : escaped-{token}' >/dev/null 2>&1 & sleep 0.3"), {}
    )
    assert wait_until(lambda: bool(escaped(token)), 5), "the detached process did not start"
    process.wait(timeout=10)
    assert escaped(token), "setsid should have taken it out of the tool's group"

    box.kill(process)

    assert wait_until(lambda: not escaped(token), 5), escaped(token)


def escaped(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if f"escaped-{token}".encode() in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found
