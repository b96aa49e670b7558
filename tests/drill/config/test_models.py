"""What the models refuse: unknown keys, wrong types, bad durations and limits, misshapen targets,
expectations that are not comparisons, time zones and events that do not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.config import (
    load_config,
)
from tests.drill.config.snippets import (
    agent,
    assert_names,
    database,
    fs_target,
    gcs_target,
    integrity_check,
    policy,
    s3_target,
    table,
    the_problem,
    write,
)

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


# --- target shapes ---------------------------------------------------------------------------


def test_a_filesystem_target_with_a_bucket_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, s3_target(), fs_target(bucket="stray"), database())
    assert_names(the_problem(path), path, "targets[1]", "a filesystem target takes 'path', not bucket")


def test_identity_endpoints_belong_to_s3_targets_only(tmp_path: Path) -> None:
    path = write(tmp_path, gcs_target(sts_endpoint_url="https://sts.example"), database(targets=("archive",)))
    assert_names(the_problem(path), path, "targets[0]", "only an s3 target takes 'sts_endpoint_url'")
    endpoints = {"sts_endpoint_url": "https://sts.example", "iam_endpoint_url": "https://iam.example"}
    fine = write(tmp_path, s3_target(**endpoints), database(targets=("vault",)))
    assert load_config(fine).config.targets[0].iam_endpoint_url == "https://iam.example"


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
    assert_names(
        the_problem(path), path, "targets[1].type", "'s3', 'gcs', 'filesystem' or 'pgbackrest'", "'ftp'"
    )


def test_a_missing_required_key_says_it_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target(site=None), database())
    assert_names(the_problem(path), path, "targets[0].site", "is required")


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


# --- schedule and notify -------------------------------------------------------------------


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, table("[schedule]", timezone="Mars/Olympus_Mons"), fs_target(), database())
    assert_names(the_problem(path), path, "schedule.timezone", "'Mars/Olympus_Mons' is not a time zone")


def test_notify_events_are_failure_recovery_or_success(tmp_path: Path) -> None:
    path = write(tmp_path, table("[notify]", on=["failure", "sometimes"]), fs_target(), database())
    assert_names(the_problem(path), path, "notify.on[1]", "failure", "recovery", "success")
