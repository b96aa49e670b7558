"""The TOML contract: every bad input is one message naming the file, the dotted key and the reason."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import typing
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from drill.config import (
    Agent,
    Config,
    ConfigError,
    Credentials,
    Database,
    IntegrityQuery,
    LoadedConfig,
    Policy,
    ReportSettings,
    Target,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
# Shaped like real AWS credentials (the documented example pair), so the secret-shape checks fire.
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


# --- TOML snippets -------------------------------------------------------------------------


def toml(value: Any) -> str:
    """A Python value spelled as a TOML value (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return repr(value)


def table(header: str, **keys: Any) -> str:
    """A table header and its keys; a key given as None is left out."""
    lines = [header] + [f"{key} = {toml(value)}" for key, value in keys.items() if value is not None]
    return "\n".join(lines) + "\n\n"


def policy(**keys: Any) -> str:
    return table("[policy]", **keys)


def fs_target(name: str = "nas", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "filesystem", "path": "backups", "site": "office"}
    return table("[[targets]]", **(fields | keys))


def s3_target(name: str = "vault", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "s3", "bucket": f"{name}-bucket", "site": "aws:1:eu"}
    return table("[[targets]]", **(fields | keys))


def gcs_target(name: str = "archive", **keys: Any) -> str:
    fields: dict[str, Any] = {"name": name, "type": "gcs", "bucket": f"{name}-bucket", "site": "gcp:p:eu"}
    return table("[[targets]]", **(fields | keys))


def credentials(**keys: Any) -> str:
    """Credentials of the target written just before."""
    return table("[targets.credentials]", **keys)


def database(name: str = "orders", targets: tuple[str, ...] | str = ("nas",), **keys: Any) -> str:
    fields: dict[str, Any] = {
        "name": name,
        "site": "prod",
        "targets": targets,
        "snapshot_pattern": f"{name}/*.dump",
    }
    return table("[[databases]]", **(fields | keys))


def integrity_check(name: str = "rows exist", **keys: Any) -> str:
    """An integrity query of the database written just before."""
    fields: dict[str, Any] = {"name": name, "sql": "SELECT count(*) FROM t", "expect": "> 0"}
    return table("[[databases.checks]]", **(fields | keys))


def agent(name: str = "ci", **keys: Any) -> str:
    return table("[[agents]]", name=name, **keys)


def agent_credentials(**keys: Any) -> str:
    return table("[agents.credentials]", **keys)


def write(tmp_path: Path, *snippets: str) -> Path:
    path = tmp_path / "drill.toml"
    path.write_text("".join(snippets))
    return path


def rejected(path: Path, environ: Mapping[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={} if environ is None else environ)
    return caught.value


def the_problem(path: Path, environ: Mapping[str, str] | None = None) -> str:
    """The single message a bad config produces (one problem, one line)."""
    error = rejected(path, environ)
    assert len(error.problems) == 1, str(error)
    message = str(error)
    assert "\n" not in message
    return message


def assert_names(message: str, path: Path, dotted: str, *reason: str) -> None:
    """One line of the message is ``FILE: DOTTED: REASON`` and holds every reason phrase."""
    prefix = f"{path}: {dotted}: "
    lines = [line for line in message.splitlines() if line.startswith(prefix)]
    assert lines, f"no line starts with {prefix!r} in:\n{message}"
    for phrase in reason:
        assert any(phrase in line for line in lines), f"{phrase!r} missing from {lines}"


# --- unknown keys --------------------------------------------------------------------------


def test_unknown_top_level_key_is_named_with_the_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "polcy = 1\n", fs_target(), database())
    message = the_problem(path)
    assert_names(message, path, "polcy", "unknown key", "known keys here:", "policy", "targets")


def test_unknown_key_in_policy_names_its_dotted_path(tmp_path: Path) -> None:
    path = write(tmp_path, policy(max_agee="26h"), fs_target(), database())
    message = the_problem(path)
    assert_names(message, path, "policy.max_agee", "unknown key", "max_age", "min_retention")


def test_unknown_key_in_a_target_names_the_target_index(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), s3_target(bukket="typo"), database())
    message = the_problem(path)
    assert_names(message, path, "targets[1].bukket", "unknown key", "bucket", "prefix")


def test_unknown_key_in_a_database_check_names_both_indexes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        fs_target(),
        database("orders"),
        database("users"),
        integrity_check("first"),
        integrity_check("second", expected="> 0"),
    )
    message = the_problem(path)
    assert_names(message, path, "databases[1].checks[1].expected", "unknown key", "expect, name, sql")


# --- wrong types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippets", "dotted", "reason"),
    [
        pytest.param(
            (policy(copies="3"), fs_target(), database()),
            "policy.copies",
            "must be a whole number (got '3')",
            id="copies-as-string",
        ),
        pytest.param(
            (policy(max_size_drop="half"), fs_target(), database()),
            "policy.max_size_drop",
            "must be a number (got 'half')",
            id="max_size_drop-as-word",
        ),
        pytest.param(
            (fs_target(), database(), agent(paths="/home/ci")),
            "agents[0].paths",
            "must be a list",
            id="paths-not-a-list",
        ),
        pytest.param(
            (fs_target(), database(targets="nas")),
            "databases[0].targets",
            "must be a list",
            id="database-targets-not-a-list",
        ),
        pytest.param(
            (s3_target(), fs_target(immutable="yes"), database()),
            "targets[1].immutable",
            "must be true or false (got 'yes')",
            id="immutable-yes",
        ),
        pytest.param(
            (fs_target(), database(copies="2")),
            "databases[0].copies",
            "must be a whole number",
            id="override-copies-as-string",
        ),
    ],
)
def test_a_wrong_type_names_the_key_and_what_it_must_be(
    tmp_path: Path, snippets: tuple[str, ...], dotted: str, reason: str
) -> None:
    path = write(tmp_path, *snippets)
    assert_names(the_problem(path), path, dotted, reason)


# --- durations and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("6x", "'6x' is not a duration", id="unknown-unit"),
        pytest.param("0h", "'0h' is zero", id="zero"),
        pytest.param("", "'' is not a duration", id="empty"),
        pytest.param(26, "must be a duration string such as '26h'", id="bare-number"),
    ],
)
def test_a_bad_duration_names_the_key_and_how_to_write_one(
    tmp_path: Path, value: object, reason: str
) -> None:
    path = write(tmp_path, policy(max_age=value), fs_target(), database())
    assert_names(the_problem(path), path, "policy.max_age", reason)


def test_a_bad_duration_in_a_database_override_names_the_database(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database("orders"), database("users", min_retention="30 days"))
    assert_names(the_problem(path), path, "databases[1].min_retention", "is not a duration", "'30d'")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(0, "greater than 0", id="zero"),
        pytest.param(1.5, "must be at most 1", id="above-one"),
    ],
)
def test_max_size_drop_outside_0_to_1_is_refused(tmp_path: Path, value: float, reason: str) -> None:
    path = write(tmp_path, policy(max_size_drop=value), fs_target(), database())
    assert_names(the_problem(path), path, "policy.max_size_drop", reason, f"(got {value})")


def test_max_size_drop_out_of_range_in_a_database_override_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database(max_size_drop=1.5))
    assert_names(the_problem(path), path, "databases[0].max_size_drop", "must be at most 1")


# --- references and targets ----------------------------------------------------------------


def test_unknown_target_name_names_its_dotted_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        fs_target("nas"),
        s3_target("vault"),
        database("orders", targets=("nas",)),
        database("users", targets=("nas", "vault", "tape")),
    )
    error = rejected(path)
    assert [problem.path for problem in error.problems] == ["databases[1].targets[2]"]
    assert str(error) == (
        f"{path}: databases[1].targets[2]: unknown target 'tape'; known targets: nas, vault."
    )


def test_unknown_target_name_with_no_targets_says_none_are_defined(tmp_path: Path) -> None:
    path = write(tmp_path, database(targets=("nas",)))
    assert_names(
        the_problem(path), path, "databases[0].targets[0]", "unknown target 'nas'", "none are defined"
    )


@pytest.mark.parametrize(
    ("snippets", "dotted", "reason"),
    [
        pytest.param(
            (fs_target("nas"), s3_target("vault"), fs_target("nas", path="other"), database()),
            "targets[2].name",
            "'nas' is already used by targets[0]",
            id="targets",
        ),
        pytest.param(
            (fs_target(), database("orders"), database("orders")),
            "databases[1].name",
            "'orders' is already used by databases[0]",
            id="databases",
        ),
        pytest.param(
            (fs_target(), database(), agent("ci"), agent("ci")),
            "agents[1].name",
            "'ci' is already used by agents[0]",
            id="agents",
        ),
    ],
)
def test_a_duplicate_name_points_at_the_first_use(
    tmp_path: Path, snippets: tuple[str, ...], dotted: str, reason: str
) -> None:
    path = write(tmp_path, *snippets)
    assert_names(the_problem(path), path, dotted, reason)


def test_a_filesystem_target_with_a_bucket_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, s3_target(), fs_target(bucket="stray"), database())
    assert_names(the_problem(path), path, "targets[1]", "a filesystem target takes 'path', not bucket")


def test_a_filesystem_target_without_a_path_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(path=None), database())
    assert_names(the_problem(path), path, "targets[0]", "a filesystem target needs 'path'")


def test_an_s3_target_without_a_bucket_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), s3_target(bucket=None), database())
    assert_names(the_problem(path), path, "targets[1]", "an s3 target needs 'bucket'")


def test_an_s3_target_with_a_path_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, s3_target(path="backups"), database(targets=("vault",)))
    assert_names(the_problem(path), path, "targets[0]", "takes 'bucket' and 'prefix', not 'path'")


def test_an_invalid_target_type_lists_the_valid_ones(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), fs_target("tape", type="ftp"), database())
    assert_names(the_problem(path), path, "targets[1].type", "'s3', 'gcs' or 'filesystem'", "'ftp'")


def test_a_missing_required_key_says_it_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(site=None), database())
    assert_names(the_problem(path), path, "targets[0].site", "is required")


# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "instead"),
    [
        ("secret_access_key", "secret_access_key_env"),
        ("aws_secret_access_key", "secret_access_key_env"),
        ("password", "an environment variable or a file"),
        ("token", "an environment variable or a file"),
        ("private_key", "service_account_file"),
    ],
)
def test_a_literal_secret_in_credentials_is_refused_without_echoing_it(
    tmp_path: Path, key: str, instead: str
) -> None:
    value = f"{SECRET}-{key}"
    path = write(tmp_path, fs_target(), s3_target(), credentials(**{key: value}), database())
    message = the_problem(path)
    assert_names(message, path, f"targets[1].credentials.{key}", "holds a literal secret", f"use {instead}")
    assert value not in message
    assert SECRET not in message


def test_a_literal_secret_in_agent_credentials_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database(), agent(), agent_credentials(aws_secret_access_key=SECRET))
    message = the_problem(path)
    assert_names(message, path, "agents[0].credentials.aws_secret_access_key", "holds a literal secret")
    assert SECRET not in message


def test_a_literal_secret_is_refused_even_when_its_key_is_capitalised(tmp_path: Path) -> None:
    path = write(tmp_path, s3_target(), credentials(Password=SECRET), database(targets=("vault",)))
    message = the_problem(path)
    assert_names(message, path, "targets[0].credentials.Password", "holds a literal secret")
    assert SECRET not in message


@pytest.mark.parametrize(
    ("fields", "key", "value"),
    [
        pytest.param(
            {"access_key_id_env": KEY_ID, "secret_access_key_env": "DRILL_SECRET"},
            "access_key_id_env",
            KEY_ID,
            id="access-key-id",
        ),
        pytest.param(
            {"access_key_id_env": "DRILL_KEY_ID", "secret_access_key_env": SECRET},
            "secret_access_key_env",
            SECRET,
            id="base64-secret-with-slashes",
        ),
        pytest.param(
            {
                "access_key_id_env": "DRILL_KEY_ID",
                "secret_access_key_env": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYab",
            },
            "secret_access_key_env",
            "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYab",
            id="base64-secret-that-could-be-a-name",
        ),
    ],
)
def test_a_secret_where_a_variable_name_belongs_is_refused_without_echoing_it(
    tmp_path: Path, fields: dict[str, str], key: str, value: str
) -> None:
    path = write(tmp_path, s3_target(), credentials(**fields), database(targets=("vault",)))
    message = the_problem(path)
    assert_names(message, path, f"targets[0].credentials.{key}", "looks like a secret value")
    assert value not in message


def test_an_env_key_that_is_not_a_variable_name_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        s3_target(),
        credentials(access_key_id_env="DRILL KEY", secret_access_key_env="DRILL_SECRET"),
        database(targets=("vault",)),
    )
    message = the_problem(path)
    assert_names(
        message, path, "targets[0].credentials.access_key_id_env", "not a valid environment variable"
    )


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"access_key_id_env": "DRILL_KEY_ID"}, id="key-id-alone"),
        pytest.param({"secret_access_key_env": "DRILL_SECRET"}, id="secret-alone"),
    ],
)
def test_half_an_access_key_pair_is_refused(tmp_path: Path, fields: dict[str, str]) -> None:
    path = write(tmp_path, s3_target(), credentials(**fields), database(targets=("vault",)))
    message = the_problem(path)
    assert_names(message, path, "targets[0].credentials", "go together; name both")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            f'[targets]\nname = "vault"\ntype = "s3"\nbucket = "b"\nsite = "x"\n'
            f'[targets.credentials]\nsecret_access_key = "{SECRET}"\n',
            id="single-bracket-targets",
        ),
        pytest.param(
            f'[[targets]]\nname = "vault"\ntype = "s3"\nbucket = "b"\nsite = "x"\n'
            f'[[targets.credentials]]\nsecret_access_key = "{SECRET}"\n',
            id="credentials-as-array-of-tables",
        ),
    ],
)
def test_a_literal_secret_in_a_misshapen_table_is_never_echoed(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert SECRET not in str(rejected(path))


# --- environment and files -----------------------------------------------------------------


def vault_with_env_credentials(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        s3_target(),
        credentials(access_key_id_env="DRILL_KEY_ID", secret_access_key_env="DRILL_SECRET"),
        database(targets=("vault",)),
    )


def test_a_missing_environment_variable_names_the_variable_and_its_key(tmp_path: Path) -> None:
    path = vault_with_env_credentials(tmp_path)
    message = the_problem(path, environ={"DRILL_KEY_ID": KEY_ID})
    assert_names(
        message,
        path,
        "targets[0].credentials.secret_access_key_env",
        "environment variable DRILL_SECRET is not set",
    )
    assert KEY_ID not in message


def test_every_missing_environment_variable_is_reported_on_its_own_line(tmp_path: Path) -> None:
    path = vault_with_env_credentials(tmp_path)
    error = rejected(path, environ={})
    assert [problem.path for problem in error.problems] == [
        "targets[0].credentials.access_key_id_env",
        "targets[0].credentials.secret_access_key_env",
    ]
    assert len(str(error).splitlines()) == 2


def test_an_empty_environment_variable_counts_as_missing(tmp_path: Path) -> None:
    path = vault_with_env_credentials(tmp_path)
    message = the_problem(path, environ={"DRILL_KEY_ID": KEY_ID, "DRILL_SECRET": ""})
    assert_names(message, path, "targets[0].credentials.secret_access_key_env", "DRILL_SECRET is not set")


def test_environment_credentials_load_when_the_variables_are_set(tmp_path: Path) -> None:
    path = vault_with_env_credentials(tmp_path)
    loaded = load_config(path, environ={"DRILL_KEY_ID": KEY_ID, "DRILL_SECRET": SECRET})
    assert loaded.config.target("vault").credentials.env_names() == ("DRILL_KEY_ID", "DRILL_SECRET")
    assert loaded.config.secret_env_names() == ("DRILL_SECRET",)


def test_the_process_environment_is_read_when_none_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = vault_with_env_credentials(tmp_path)
    monkeypatch.setenv("DRILL_KEY_ID", KEY_ID)
    monkeypatch.setenv("DRILL_SECRET", SECRET)
    assert load_config(path).config.target("vault").name == "vault"


@pytest.mark.parametrize(
    ("snippets", "dotted", "name"),
    [
        pytest.param(
            (s3_target(), credentials(profile="backup", credentials_file="aws-credentials")),
            "targets[0].credentials.credentials_file",
            "aws-credentials",
            id="credentials_file",
        ),
        pytest.param(
            (fs_target(), gcs_target(), credentials(service_account_file="reader.json")),
            "targets[1].credentials.service_account_file",
            "reader.json",
            id="service_account_file",
        ),
        pytest.param(
            (s3_target(), agent(env_file="ci.env")),
            "agents[0].env_file",
            "ci.env",
            id="env_file",
        ),
        pytest.param(
            (s3_target(), agent(), agent_credentials(credentials_file="ci-credentials")),
            "agents[0].credentials.credentials_file",
            "ci-credentials",
            id="agent-credentials_file",
        ),
    ],
)
def test_a_named_file_that_does_not_exist_is_refused(
    tmp_path: Path, snippets: tuple[str, ...], dotted: str, name: str
) -> None:
    path = write(tmp_path, *snippets)
    assert_names(the_problem(path), path, dotted, f"file {name} does not exist")


def test_named_files_are_found_beside_the_config_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "etc"
    home.mkdir()
    (home / "aws-credentials").write_text("[backup]\n")
    (home / "ci.env").write_text("X=1\n")
    path = write(
        home,
        s3_target(),
        credentials(profile="backup", credentials_file="aws-credentials"),
        agent(env_file="ci.env"),
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path, environ={}).config
    assert config.target("vault").credentials.credentials_file == str(home / "aws-credentials")
    assert config.agents[0].env_file == str(home / "ci.env")


# --- integrity queries ---------------------------------------------------------------------


@pytest.mark.parametrize("expect", ["about 3", "=> 5", "> many", ""])
def test_an_expectation_that_is_not_a_comparison_is_refused(tmp_path: Path, expect: str) -> None:
    path = write(
        tmp_path, fs_target(), database(), integrity_check(), integrity_check("second", expect=expect)
    )
    message = the_problem(path)
    assert_names(
        message, path, "databases[0].checks[1].expect", f"{expect!r} is not a comparison", "'>= 1000'"
    )


def test_a_valid_expectation_is_parsed_into_an_operator_and_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database(), integrity_check(expect=" >= 1000 "))
    [query] = load_config(path, environ={}).config.databases[0].checks
    assert query.comparison() == (">=", 1000.0)


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


def test_the_example_comments_state_the_real_defaults() -> None:
    stated = dict(re.findall(r"^# (\w+)\s+- .*\(default (\d+)\)$", EXAMPLE.read_text(), re.MULTILINE))
    defaults = Policy()
    assert stated == {key: str(getattr(defaults, key)) for key in ("copies", "media", "offsite", "immutable")}


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


# --- config.example.toml -------------------------------------------------------------------


def example_env_names() -> list[str]:
    """Every *_env value in the example, wherever it sits."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("_env") and isinstance(item, str):
                    yield item
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return sorted(set(walk(tomllib.loads(EXAMPLE.read_text()))))


def test_the_example_names_environment_variables() -> None:
    assert example_env_names(), "the example should show *_env credentials"


def test_the_example_validates_when_its_variables_are_set() -> None:
    environ = {name: f"value-of-{name}" for name in example_env_names()}
    loaded = load_config(EXAMPLE, environ=environ)
    assert loaded.config.targets and loaded.config.databases and loaded.config.agents
    assert {target.type.value for target in loaded.config.targets} == {"s3", "gcs", "filesystem"}


def test_the_example_names_each_missing_variable() -> None:
    error = rejected(EXAMPLE, environ={})
    names = example_env_names()
    assert len(error.problems) == len(names)
    message = str(error)
    for name in names:
        assert f"environment variable {name} is not set." in message
    for line in message.splitlines():
        assert re.match(rf"{re.escape(str(EXAMPLE))}: targets\[\d+\]\.credentials\.\w+_env: ", line), line


def models_reachable_from(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        for candidate in _types_in(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                yield from models_reachable_from(candidate)


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def test_the_example_documents_every_key_the_models_accept() -> None:
    models = set(models_reachable_from(Config))
    named = {Config, Policy, Target, Credentials, Database, IntegrityQuery, Agent, ReportSettings}
    assert named <= models
    text = EXAMPLE.read_text()
    undocumented = sorted(
        f"{model.__name__}.{key}"
        for model in models
        for key in model.model_fields
        if not re.search(rf"^\s*(#\s*)?{key}\s*=|^\s*\[\[?([\w.]+\.)?{key}\]\]?\s*$", text, re.MULTILINE)
    )
    assert undocumented == []


# --- schedule, metrics, notify ---------------------------------------------------------------


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


def test_a_bad_cron_expression_on_a_database_names_that_database(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database(schedule="every night"))
    assert_names(the_problem(path), path, "databases[0].schedule", "is not a cron expression", "5 fields")


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, table("[schedule]", timezone="Mars/Olympus_Mons"), fs_target(), database())
    assert_names(the_problem(path), path, "schedule.timezone", "'Mars/Olympus_Mons' is not a time zone")


@pytest.mark.parametrize(
    ("section", "key"),
    [("[notify]", "webhook_env"), ("[notify]", "heartbeat_env"), ("[metrics]", "pushgateway_env")],
)
def test_an_outbound_url_variable_must_be_set_and_hold_a_url_that_is_never_shown(
    tmp_path: Path, section: str, key: str
) -> None:
    path = write(tmp_path, table(section, **{key: "DRILL_URL"}), fs_target(), database())
    dotted = f"{section.strip('[]')}.{key}"
    assert_names(the_problem(path), path, dotted, "environment variable DRILL_URL is not set")
    secret = "hooks.example/services/T000/B000/SECRETTOKEN"
    message = the_problem(path, {"DRILL_URL": secret})
    assert_names(message, path, dotted, "does not hold an http(s) URL")
    assert "SECRETTOKEN" not in message
    assert load_config(path, environ={"DRILL_URL": "https://" + secret}).config is not None


def test_notify_events_are_failure_recovery_or_success(tmp_path: Path) -> None:
    path = write(tmp_path, table("[notify]", on=["failure", "sometimes"]), fs_target(), database())
    assert_names(the_problem(path), path, "notify.on[1]", "failure", "recovery", "success")
