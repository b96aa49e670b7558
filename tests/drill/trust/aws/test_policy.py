"""What a bucket policy and ACL settle about one principal, on hand-written documents: IAM
wildcards, NotAction, Deny over Allow, lists and forms of principals, ACL grants, and the rule
that only another account can be denied by the bucket's silence."""

from __future__ import annotations

from typing import Any

import pytest
from drill.trust.aws.policy import (
    Verdict,
    bucket_verdicts,
    glob_covers,
    glob_matches,
    glob_reaches,
    partition_of,
    resource_policy_answers,
    role_of,
)

from drill.facts import Answer, EvidenceSource
from drill.permissions import S3_DESTRUCTIVE, S3_OBJECT_PERMISSIONS

BUCKET, PREFIX = "backups", "pg/"
OBJECTS = "arn:aws:s3:::backups/pg/*"
BUCKET_ARN = "arn:aws:s3:::backups"
AGENT_ACCOUNT = "222222222222"
AGENT = f"arn:aws:iam::{AGENT_ACCOUNT}:user/agent"
OWNER_ID = "owner-canonical-id"
BUCKET_PERMISSIONS = set(S3_DESTRUCTIVE) - S3_OBJECT_PERMISSIONS


def verdicts(
    policy: dict[str, Any] | None,
    *,
    grants: list[dict[str, Any]] | None = None,
    principal: str = AGENT,
    account: str = AGENT_ACCOUNT,
    snapshot_keys: tuple[str, ...] = (),
) -> dict[str, Verdict]:
    return bucket_verdicts(
        policy,
        [] if grants is None else grants,
        OWNER_ID,
        principal_account=account,
        principal_arn=principal,
        bucket=BUCKET,
        prefix=PREFIX,
        snapshot_keys=snapshot_keys,
    )


def allow(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, **extra}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::backups/*", "arn:aws:s3:::backups/pg/a.dump", True),
        ("arn:aws:s3:::backups/*", "arn:aws:s3:::backups", False),
        ("arn:aws:s3:::back?ps", "arn:aws:s3:::backups", True),
        ("arn:aws:s3:::back?ps", "arn:aws:s3:::backps", False),
        ("*", "", True),
        ("arn:aws:s3:::[b]ackups", "arn:aws:s3:::backups", False),  # no character classes in IAM
        ("s3:delete*", "s3:deleteobjectversion", True),
    ],
)
def test_iam_wildcards_match_whole_values(pattern: str, value: str, *, expected: bool) -> None:
    assert glob_matches(pattern, value) is expected


def test_a_pattern_reaches_a_prefix_when_some_object_under_it_matches() -> None:
    under = "arn:aws:s3:::backups/pg/"
    assert glob_reaches("arn:aws:s3:::backups/pg/orders/*", under)  # a narrower prefix still reaches it
    assert glob_reaches("arn:aws:s3:::backups/*/orders.dump", under)
    assert not glob_reaches("arn:aws:s3:::backups/logs/*", under)
    assert not glob_reaches("arn:aws:s3:::backups", under)


def test_a_pattern_covers_a_prefix_only_when_every_object_under_it_matches() -> None:
    under = "arn:aws:s3:::backups/pg/"
    assert glob_covers("arn:aws:s3:::backups/*", under)
    assert glob_covers("arn:aws:s3:::backups/pg*", under)
    assert not glob_covers("arn:aws:s3:::backups/pg/orders/*", under)
    assert not glob_covers("arn:aws:s3:::backups/*.dump", under)


def test_assumed_role_sessions_and_roles_with_paths_name_the_same_role() -> None:
    assert role_of("arn:aws:sts::111122223333:assumed-role/ci-deployer/session-42") == (
        "111122223333",
        "ci-deployer",
    )
    assert role_of("arn:aws:iam::111122223333:role/service-role/ci-deployer") == (
        "111122223333",
        "ci-deployer",
    )
    assert role_of("arn:aws:iam::111122223333:user/agent") is None
    assert partition_of("arn:aws-cn:iam::111122223333:user/agent") == "aws-cn"


def test_a_bucket_without_policy_or_grants_is_silent_about_everything() -> None:
    assert set(verdicts({}).values()) == {Verdict.SILENT}


def test_unreadable_documents_settle_nothing() -> None:
    assert set(verdicts(None).values()) == {Verdict.UNREAD}
    # A readable policy but an unreadable ACL: bucket permissions are still judged, objects not.
    found = bucket_verdicts(
        {},
        None,
        None,
        principal_account=AGENT_ACCOUNT,
        principal_arn=AGENT,
        bucket=BUCKET,
        prefix=PREFIX,
    )
    assert {found[p] for p in S3_OBJECT_PERMISSIONS} == {Verdict.UNREAD}
    assert {found[p] for p in BUCKET_PERMISSIONS} == {Verdict.SILENT}


def test_wildcard_actions_granted_to_a_list_of_accounts_reach_the_agent() -> None:
    found = verdicts(
        policy(
            allow(
                {"AWS": ["arn:aws:iam::999999999999:root", f"arn:aws:iam::{AGENT_ACCOUNT}:root"]},
                "s3:Delete*",
                [OBJECTS, BUCKET_ARN],
            )
        )
    )
    assert found["s3:DeleteObject"] is Verdict.GRANTS
    assert found["s3:DeleteObjectVersion"] is Verdict.GRANTS
    assert found["s3:DeleteBucket"] is Verdict.GRANTS
    assert found["s3:DeleteBucketPolicy"] is Verdict.GRANTS
    assert found["s3:PutBucketPolicy"] is Verdict.SILENT
    assert found["s3:PutObject"] is Verdict.SILENT


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": AGENT_ACCOUNT},
        {"AWS": f"arn:aws:iam::{AGENT_ACCOUNT}:root"},
        {"AWS": AGENT},
        {"AWS": ["arn:aws:iam::999999999999:user/someone", AGENT]},
        {"AWS": "AIDAEXAMPLEUNIQUEID"},  # a unique id drill cannot resolve: it may be the agent
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ],
)
def test_every_form_that_may_name_the_agent_counts_as_a_grant(principal: Any) -> None:
    assert verdicts(policy(allow(principal, "s3:PutObject", OBJECTS)))["s3:PutObject"] is Verdict.GRANTS


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "999999999999"},
        {"AWS": "arn:aws:iam::999999999999:root"},
        {"AWS": f"arn:aws:iam::{AGENT_ACCOUNT}:user/someone-else"},
        {"Service": "logging.s3.amazonaws.com"},
        {"CanonicalUser": OWNER_ID},
    ],
)
def test_other_principals_grant_the_agent_nothing(principal: Any) -> None:
    assert verdicts(policy(allow(principal, "s3:PutObject", OBJECTS)))["s3:PutObject"] is Verdict.SILENT


def test_a_grant_on_a_narrower_prefix_or_a_named_snapshot_still_reaches_the_backups() -> None:
    narrower = verdicts(policy(allow({"AWS": AGENT}, "s3:DeleteObject", "arn:aws:s3:::backups/pg/orders/*")))
    assert narrower["s3:DeleteObject"] is Verdict.GRANTS
    elsewhere = policy(allow({"AWS": AGENT}, "s3:DeleteObject", "arn:aws:s3:::backups/logs/*"))
    assert verdicts(elsewhere)["s3:DeleteObject"] is Verdict.SILENT
    named = policy(allow({"AWS": AGENT}, "s3:DeleteObject", "arn:aws:s3:::backups/pg/o?ders.dump"))
    assert verdicts(named, snapshot_keys=("pg/orders.dump",))["s3:DeleteObject"] is Verdict.GRANTS


def test_object_grants_do_not_reach_bucket_permissions_and_back() -> None:
    found = verdicts(policy(allow({"AWS": AGENT}, "s3:*", OBJECTS)))
    assert {found[p] for p in S3_OBJECT_PERMISSIONS} == {Verdict.GRANTS}
    assert {found[p] for p in BUCKET_PERMISSIONS} == {Verdict.SILENT}


def test_not_action_is_read_as_a_grant_of_everything_it_does_not_name() -> None:
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:PutObject", "Resource": "*"}
    found = verdicts({"Statement": statement})  # a single statement needs no list
    assert found["s3:PutObject"] is Verdict.SILENT
    assert {verdict for permission, verdict in found.items() if permission != "s3:PutObject"} == {
        Verdict.GRANTS
    }


def test_uncertain_allows_count_as_grants() -> None:
    conditional = allow(
        "*", "s3:PutObject", OBJECTS, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-example"}}
    )
    assert verdicts(policy(conditional))["s3:PutObject"] is Verdict.GRANTS
    not_resource = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "NotResource": OBJECTS}
    assert verdicts(policy(not_resource))["s3:PutObject"] is Verdict.GRANTS
    not_principal = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": AGENT},
        "Action": "s3:PutObject",
        "Resource": "*",
    }
    assert verdicts(policy(not_principal))["s3:PutObject"] is Verdict.GRANTS
    variable = allow({"AWS": AGENT}, "s3:PutObject", "arn:aws:s3:::backups/${aws:username}/*")
    assert verdicts(policy(variable))["s3:PutObject"] is Verdict.GRANTS


def test_an_unconditional_deny_beats_any_allow() -> None:
    found = verdicts(
        policy(
            allow("*", "s3:*", [BUCKET_ARN, "arn:aws:s3:::backups/*"]),
            deny("*", ["s3:DeleteObject*", "s3:PutBucketPolicy"], [BUCKET_ARN, "arn:aws:s3:::backups/*"]),
        )
    )
    assert found["s3:DeleteObject"] is Verdict.DENIES
    assert found["s3:DeleteObjectVersion"] is Verdict.DENIES
    assert found["s3:PutBucketPolicy"] is Verdict.DENIES
    assert found["s3:PutObject"] is Verdict.GRANTS


def test_only_a_deny_that_certainly_applies_denies() -> None:
    partial = deny("*", "s3:DeleteObjectVersion", "arn:aws:s3:::backups/pg/orders/*")  # not all of pg/
    conditional = deny(
        "*", "s3:DeleteBucket", BUCKET_ARN, Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    )
    someone_else = deny({"AWS": "arn:aws:iam::999999999999:root"}, "s3:PutObject", OBJECTS)
    found = verdicts(policy(partial, conditional, someone_else))
    assert found["s3:DeleteObjectVersion"] is Verdict.SILENT
    assert found["s3:DeleteBucket"] is Verdict.SILENT
    assert found["s3:PutObject"] is Verdict.SILENT


def test_a_deny_naming_the_role_denies_its_sessions() -> None:
    session = f"arn:aws:sts::{AGENT_ACCOUNT}:assumed-role/ci-deployer/run-7"
    statement = deny(
        {"AWS": f"arn:aws:iam::{AGENT_ACCOUNT}:role/deploy/ci-deployer"}, "s3:*", [BUCKET_ARN, OBJECTS]
    )
    assert set(verdicts(policy(statement), principal=session).values()) == {Verdict.DENIES}


def test_acl_write_grants_to_others_reach_objects_only() -> None:
    grants = [
        {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"},
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
            "Permission": "WRITE",
        },
    ]
    assert set(verdicts({}, grants=grants).values()) == {Verdict.SILENT}  # the owner and log delivery
    grants.append(
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
            "Permission": "WRITE",
        }
    )
    found = verdicts({}, grants=grants)
    assert {found[p] for p in S3_OBJECT_PERMISSIONS} == {Verdict.ACL_GRANTS}
    assert {found[p] for p in BUCKET_PERMISSIONS} == {Verdict.SILENT}


def test_another_account_that_nothing_grants_is_denied_everything() -> None:
    answers = resource_policy_answers(
        verdicts(policy(allow({"AWS": f"arn:aws:iam::{AGENT_ACCOUNT}:root"}, "s3:GetObject", OBJECTS))),
        cross_account=True,
        principal_account=AGENT_ACCOUNT,
        owner_account="111111111111",
    )
    assert set(answers) == set(S3_DESTRUCTIVE)
    assert {answer.answer for answer in answers.values()} == {Answer.DENIED}
    assert {answer.source for answer in answers.values()} == {EvidenceSource.RESOURCE_POLICY}
    detail = answers["s3:DeleteObjectVersion"].detail
    assert AGENT_ACCOUNT in detail and "111111111111" in detail and "ACL" in detail


def test_the_bucket_alone_denies_its_own_account_only_by_an_explicit_deny() -> None:
    found = verdicts(policy(deny("*", "s3:DeleteObjectVersion", OBJECTS)))
    answers = resource_policy_answers(
        found, cross_account=False, principal_account=AGENT_ACCOUNT, owner_account=AGENT_ACCOUNT
    )
    assert set(answers) == {"s3:DeleteObjectVersion"}
    assert answers["s3:DeleteObjectVersion"].answer is Answer.DENIED
    assert "Deny" in answers["s3:DeleteObjectVersion"].detail


def test_grants_and_unread_documents_settle_nothing_even_across_accounts() -> None:
    granted = verdicts(policy(allow({"AWS": AGENT}, "s3:*", [BUCKET_ARN, OBJECTS])))
    unread = verdicts(None)
    for found in (granted, unread):
        answers = resource_policy_answers(
            found, cross_account=True, principal_account=AGENT_ACCOUNT, owner_account="111111111111"
        )
        assert answers == {}
