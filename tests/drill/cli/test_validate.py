"""`drill validate` as a user runs it: a subprocess, a config file, a controlled environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

TARGETS = """
[[targets]]
name = "nas"
type = "filesystem"
path = "backups"
site = "office"

[[targets]]
name = "vault"
type = "s3"
bucket = "acme-vault"
site = "aws:1:eu"
[targets.credentials]
access_key_id_env = "DRILL_TEST_KEY_ID"
secret_access_key_env = "DRILL_TEST_SECRET"
"""

DATABASES = """
[[databases]]
name = "orders"
site = "prod"
targets = ["nas"]
snapshot_pattern = "orders/*.dump"

[[databases]]
name = "users"
site = "prod"
targets = ["nas", "vault", "{third}"]
snapshot_pattern = "users/*.dump"
"""

SECRETS = {"DRILL_TEST_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "DRILL_TEST_SECRET": "not-a-real-secret-value"}


def drill(*args: str, cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Only what the interpreter needs, a narrow terminal (so any wrapping would show) and the test's
    # own variables: nothing from the developer's shell leaks in, DRILL_DEBUG included.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "COLUMNS": "40"} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "drill", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_config(tmp_path: Path, *, policy: str = "", third: str = "nas") -> Path:
    path = tmp_path / "drill.toml"
    path.write_text(policy + TARGETS + DATABASES.format(third=third))
    return path


def assert_config_error(result: subprocess.CompletedProcess[str], *expected_lines: str) -> None:
    """Exit 2, no traceback, and stderr is exactly the expected problems, one whole line each."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "is valid" not in result.stdout
    assert result.stderr.splitlines() == list(expected_lines)


def test_a_valid_config_exits_0_and_says_it_is_valid(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = drill("validate", "-c", str(config), cwd=tmp_path, extra_env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{config} is valid: 2 targets, 2 databases, 0 agents."
    assert result.stderr == ""


def test_an_unknown_target_exits_2_with_its_dotted_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, third="tape")
    result = drill("validate", "-c", str(config), cwd=tmp_path, extra_env=SECRETS)
    assert_config_error(
        result, f"{config}: databases[1].targets[2]: unknown target 'tape'; known targets: nas, vault."
    )


def test_a_bad_duration_exits_2_with_its_dotted_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, policy='[policy]\nmax_age = "6x"\n')
    result = drill("validate", "-c", str(config), cwd=tmp_path, extra_env=SECRETS)
    assert_config_error(
        result,
        f"{config}: policy.max_age: '6x' is not a duration; write a number and a unit (s, m, h, d, w), "
        "such as '26h' or '30d'.",
    )


def test_a_missing_environment_variable_exits_2_naming_the_variable(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = drill(
        "validate",
        "-c",
        str(config),
        cwd=tmp_path,
        extra_env={"DRILL_TEST_KEY_ID": SECRETS["DRILL_TEST_KEY_ID"]},
    )
    assert_config_error(
        result,
        f"{config}: targets[1].credentials.secret_access_key_env: environment variable DRILL_TEST_SECRET is not set.",
    )
    assert SECRETS["DRILL_TEST_KEY_ID"] not in result.stderr


def test_every_problem_is_its_own_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, third="tape")
    result = drill("validate", "-c", str(config), cwd=tmp_path)
    assert_config_error(
        result,
        f"{config}: databases[1].targets[2]: unknown target 'tape'; known targets: nas, vault.",
        f"{config}: targets[1].credentials.access_key_id_env: environment variable DRILL_TEST_KEY_ID is not set.",
        f"{config}: targets[1].credentials.secret_access_key_env: environment variable DRILL_TEST_SECRET is not set.",
    )


def test_a_literal_secret_exits_2_and_is_never_printed(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    config = tmp_path / "drill.toml"
    config.write_text(
        TARGETS.replace('secret_access_key_env = "DRILL_TEST_SECRET"', f'secret_access_key = "{secret}"')
    )
    result = drill("validate", "-c", str(config), cwd=tmp_path, extra_env=SECRETS)
    assert_config_error(
        result,
        f"{config}: targets[1].credentials.secret_access_key: holds a literal secret; secrets never go in "
        "the config file, use secret_access_key_env instead.",
    )
    assert secret not in result.stdout + result.stderr


def test_a_missing_config_file_exits_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "absent.toml"
    result = drill("validate", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{config}: cannot read the file: ")


def test_the_example_config_validates_from_another_directory(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[3] / "config.example.toml"
    raw = tomllib.loads(example.read_text())
    names = {
        name: "set"
        for entry in raw.get("targets", []) + raw.get("agents", [])
        for key, name in entry.get("credentials", {}).items()
        if key.endswith("_env")
    }
    assert names, "the example should name environment variables"
    result = drill("validate", "-c", str(example), cwd=tmp_path, extra_env=names)
    assert "is valid" in result.stdout
    # The config is valid; validate also asks pgBackRest for the example's stanza, which no test
    # machine has: that, and only that, is the problem it reports.
    [problem] = result.stderr.splitlines()
    assert "targets[4] (ledger-stanza): " in problem and result.returncode == 2, result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(("--help",), ("Verify that backups", "validate", "Exit codes"), id="drill"),
        pytest.param(
            ("validate", "--help"),
            ("Check a config file (and that each pgBackRest stanza exists)", "--config"),
            id="validate",
        ),
    ],
)
def test_help_exits_0_and_says_what_the_command_does(
    tmp_path: Path, args: tuple[str, ...], says: tuple[str, ...]
) -> None:
    result = drill(*args, cwd=tmp_path, extra_env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for phrase in says:
        assert phrase in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(("validate", "-c", "drill.toml", "--bogus"), "No such option", id="unknown-option"),
        pytest.param(("validate",), "Missing option", id="missing-config"),
    ],
)
def test_a_usage_error_exits_2(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    result = drill(*args, cwd=tmp_path, extra_env={"COLUMNS": "200"})
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_config_nested_too_deep_exits_2_naming_the_file(tmp_path: Path) -> None:
    """A RecursionError once ended as an internal error (exit 1); it is a config error like any other."""
    (tmp_path / "drill.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")

    result = drill("validate", "-c", "drill.toml", cwd=tmp_path)

    assert result.returncode == 2
    assert (
        result.stderr
        == "drill.toml: nested more than 32 levels deep (tables and arrays); no drill setting is.\n"
    )
