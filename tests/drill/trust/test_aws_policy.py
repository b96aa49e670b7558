"""Pure readings of AWS answers. SimulatePrincipalPolicy is not implemented by moto, so its
responses here are written in the documented shape (EvaluationResults with EvalActionName,
EvalResourceName, EvalDecision and optional ResourceSpecificResults)."""

from __future__ import annotations

from typing import Any

from drill.permissions import S3_DESTRUCTIVE
from drill.trust.aws_policy import (
    answers_from_simulation,
    resource_policy_answers,
    simulable_arn,
)
from drill.trust_facts import Answer, EvidenceSource

BUCKET, PREFIX = "backups", "pg/"
OBJECTS = "arn:aws:s3:::backups/pg/*"
BUCKET_ARN = "arn:aws:s3:::backups"


def result(action: str, resource: str, decision: str, **extra: Any) -> dict[str, Any]:
    return {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision, **extra}


def test_object_actions_are_read_on_the_object_arn_and_bucket_actions_on_the_bucket() -> None:
    results = [
        result("s3:DeleteObjectVersion", BUCKET_ARN, "implicitDeny"),  # not the resource it acts on
        result("s3:DeleteObjectVersion", OBJECTS, "allowed"),
        result("s3:PutBucketPolicy", BUCKET_ARN, "explicitDeny"),
        result("s3:PutBucketPolicy", OBJECTS, "allowed"),
    ]
    answers = answers_from_simulation(results, BUCKET, PREFIX)
    assert answers["s3:DeleteObjectVersion"].answer is Answer.ALLOWED
    assert answers["s3:PutBucketPolicy"].answer is Answer.DENIED
    assert answers["s3:PutBucketPolicy"].source is EvidenceSource.SIMULATION
    assert "explicitDeny" in answers["s3:PutBucketPolicy"].detail


def test_resource_specific_results_override_the_overall_decision() -> None:
    results = [
        result(
            "s3:DeleteObject",
            "*",
            "allowed",
            ResourceSpecificResults=[{"EvalResourceName": OBJECTS, "EvalResourceDecision": "implicitDeny"}],
        )
    ]
    assert answers_from_simulation(results, BUCKET, PREFIX)["s3:DeleteObject"].answer is Answer.DENIED


def test_assumed_role_sessions_simulate_as_their_role_and_root_cannot_be_simulated() -> None:
    assert (
        simulable_arn("arn:aws:sts::111122223333:assumed-role/ci-deployer/session-42")
        == "arn:aws:iam::111122223333:role/ci-deployer"
    )
    assert simulable_arn("arn:aws:iam::111122223333:user/agent") == "arn:aws:iam::111122223333:user/agent"
    assert simulable_arn("arn:aws:iam::111122223333:root") is None


def answers(
    policy: dict[str, Any] | None, *, grants: list[dict[str, Any]] | None = None, cross: bool = True
) -> dict[str, Any]:
    return resource_policy_answers(
        policy,
        grants or [],
        "owner-canonical-id",
        permissions=S3_DESTRUCTIVE,
        agent_account="222222222222",
        agent_arn="arn:aws:iam::222222222222:user/agent",
        bucket=BUCKET,
        prefix=PREFIX,
        cross_account=cross,
    )


def test_another_account_without_any_grant_is_denied_everything() -> None:
    found = answers({})
    assert set(found) == set(S3_DESTRUCTIVE)
    assert {answer.answer for answer in found.values()} == {Answer.DENIED}
    assert "222222222222" in found["s3:DeleteBucket"].detail


def test_a_wildcard_grant_to_the_account_leaves_matching_permissions_open() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::999999999999:root", "arn:aws:iam::222222222222:root"]},
                "Action": "s3:Delete*",
                "Resource": [OBJECTS, BUCKET_ARN],
            }
        ]
    }
    found = answers(policy)
    assert (
        "s3:DeleteObject" not in found
        and "s3:DeleteObjectVersion" not in found
        and "s3:DeleteBucket" not in found
    )
    assert found["s3:PutBucketPolicy"].answer is Answer.DENIED


def test_not_action_is_read_conservatively_as_a_grant_of_everything_else() -> None:
    policy = {
        "Statement": {"Effect": "Allow", "Principal": "*", "NotAction": "s3:PutObject", "Resource": "*"}
    }
    found = answers(policy)
    assert set(found) == {"s3:PutObject"}


def test_an_acl_write_grant_to_someone_else_leaves_object_writes_open() -> None:
    grants = [
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "WRITE",
        }
    ]
    found = answers({}, grants=grants)
    assert "s3:PutObject" not in found and "s3:DeleteObject" not in found
    assert found["s3:PutLifecycleConfiguration"].answer is Answer.DENIED


def test_an_unconditional_explicit_deny_denies_in_the_same_account_too() -> None:
    policy = {
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:DeleteObject*"], "Resource": OBJECTS},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutBucketPolicy",
                "Resource": BUCKET_ARN,
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ]
    }
    found = answers(policy, cross=False)
    assert found["s3:DeleteObject"].answer is Answer.DENIED
    assert found["s3:DeleteObjectVersion"].answer is Answer.DENIED
    # A conditional deny proves nothing on its own, and same-account identity policies may allow the rest.
    assert "s3:PutBucketPolicy" not in found and "s3:PutObject" not in found
