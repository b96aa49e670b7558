"""Reading the file: unreadable and invalid files, every problem reported together, what a valid
config loads to, paths resolved beside the file, its digest."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from drill.config import (
    LoadedConfig,
    Policy,
    load_config,
)
from tests.drill.config.snippets import (
    KEY_ID,
    agent,
    credentials,
    database,
    fs_target,
    policy,
    rejected,
    s3_target,
    table,
    the_problem,
    write,
)

# --- the file itself -----------------------------------------------------------------------


def test_invalid_toml_says_so_and_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), 'name = "unterminated\n')
    message = the_problem(path)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line " in message


def test_a_file_that_is_not_utf8_is_not_valid_toml(tmp_path: Path) -> None:
    path = tmp_path / "drill.toml"
    path.write_bytes(b'name = "\xff"\n')
    assert the_problem(path).startswith(f"{path}: not valid TOML: ")


@pytest.mark.parametrize(
    "nested",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # beyond the parser's own recursion
        "x = " + "{a = " * 800 + "1" + "}" * 800,
        "x = " + "[" * 40 + "]" * 40,  # parsed, but deeper than any setting
    ],
    ids=["arrays past the parser", "inline tables past the parser", "arrays past the limit"],
)
def test_a_config_nested_too_deep_is_one_clear_problem(tmp_path: Path, nested: str) -> None:
    path = write(tmp_path, nested + "\n")

    message = the_problem(path)

    assert message.startswith(f"{path}: ")
    assert message.endswith("nested more than 32 levels deep (tables and arrays); no drill setting is.")


def test_a_config_nested_too_deep_names_where(tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nextra = " + "{a = " * 40 + "1" + "}" * 40 + "\n")

    assert the_problem(path).startswith(f"{path}: policy.extra" + ".a" * 31 + ": nested more than 32")


def test_a_missing_config_file_is_one_message_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    message = the_problem(path)
    assert message.startswith(f"{path}: cannot read the file: ")
    assert "No such file" in message


def test_a_directory_given_as_the_config_file_is_unreadable(tmp_path: Path) -> None:
    message = the_problem(tmp_path)
    assert message.startswith(f"{tmp_path}: cannot read the file: ")


def test_problems_of_different_kinds_are_all_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        s3_target(),
        credentials(access_key_id_env="DRILL_KEY_ID", secret_access_key_env="DRILL_SECRET"),
        database(targets=("vault", "tape")),
        agent(env_file="ci.env"),
    )
    error = rejected(path, environ={"DRILL_KEY_ID": KEY_ID})
    assert [problem.path for problem in error.problems] == [
        "databases[0].targets[1]",
        "targets[0].credentials.secret_access_key_env",
        "agents[0].env_file",
    ]
    assert all(line.startswith(f"{path}: ") for line in str(error).splitlines())


# --- valid configs -------------------------------------------------------------------------


def test_a_minimal_config_loads(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database())
    loaded = load_config(path, environ={})
    assert isinstance(loaded, LoadedConfig)
    assert loaded.path == path
    [nas] = loaded.config.targets
    assert (nas.name, nas.type.value, nas.site, nas.effective_media) == (
        "nas",
        "filesystem",
        "office",
        "filesystem",
    )
    [orders] = loaded.config.databases
    assert (orders.name, orders.targets, orders.checks) == ("orders", ("nas",), ())


def test_defaults_are_the_documented_3_2_1_1_0_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database())
    assert load_config(path, environ={}).config.policy == Policy(
        copies=3,
        media=2,
        offsite=1,
        immutable=1,
        max_age=timedelta(hours=26),
        min_retention=timedelta(days=30),
        max_size_drop=0.5,
        governance_is_warning=False,
    )


def test_a_database_override_replaces_only_the_keys_it_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        policy(copies=4, max_age="2d"),
        fs_target(),
        database("orders", max_age="6h", copies=2, governance_is_warning=True),
        database("users"),
    )
    config = load_config(path, environ={}).config
    orders, users = config.databases
    overridden = config.policy_for(orders)
    assert (overridden.max_age, overridden.copies, overridden.governance_is_warning) == (
        timedelta(hours=6),
        2,
        True,
    )
    assert (overridden.media, overridden.min_retention) == (2, timedelta(days=30))
    assert config.policy_for(users) == config.policy
    assert (config.policy.copies, config.policy.max_age) == (4, timedelta(days=2))


def test_relative_paths_resolve_against_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "etc" / "drill"
    home.mkdir(parents=True)
    path = write(
        home,
        table("[report]", dir="out"),
        fs_target("nas", path="backups"),
        fs_target("disk", path="/mnt/disk"),
        database(targets=("nas", "disk")),
        agent(paths=["workspace", "/srv/ci"]),
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path, environ={}).config
    assert config.report.dir == str(home / "out")
    assert config.target("nas").path == str(home / "backups")
    assert config.target("disk").path == "/mnt/disk"
    assert config.agents[0].paths == (str(home / "workspace"), "/srv/ci")


def test_the_report_dir_defaults_to_drill_reports_beside_the_config(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database())
    assert load_config(path, environ={}).config.report.dir == str(tmp_path.resolve() / "drill-reports")


def test_the_sha256_of_the_file_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database())
    loaded = load_config(path, environ={})
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(path.read_text() + "# a comment changes the file, so the digest\n")
    assert load_config(path, environ={}).sha256 != loaded.sha256


def test_a_schedule_and_its_time_zone_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        table("[schedule]", cron="30 3 * * *", timezone="Europe/Berlin", lock_dir="locks"),
        fs_target(),
        database(schedule="0 */6 * * *"),
    )
    config = load_config(path, environ={}).config
    assert (config.schedule.cron, config.schedule.timezone) == ("30 3 * * *", "Europe/Berlin")
    assert config.schedule.lock_dir == str(tmp_path / "locks")  # relative to the config file
    assert config.databases[0].schedule == "0 */6 * * *"
