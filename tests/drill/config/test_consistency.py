"""What only the whole config shows: names that point nowhere or are used twice, secrets written into
the file, unset variables, files that do not exist, cron expressions and outbound URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.config import (
    load_config,
)
from tests.drill.config.snippets import (
    KEY_ID,
    SECRET,
    agent,
    agent_credentials,
    assert_names,
    credentials,
    database,
    fs_target,
    gcs_target,
    rejected,
    s3_target,
    table,
    the_problem,
    write,
)

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


# --- schedule, metrics, notify ---------------------------------------------------------------


def test_a_bad_cron_expression_on_a_database_names_that_database(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(), database(schedule="every night"))
    assert_names(the_problem(path), path, "databases[0].schedule", "is not a cron expression", "5 fields")


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
