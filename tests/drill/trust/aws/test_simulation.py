"""Reading iam:SimulatePrincipalPolicy, which moto does not implement (it answers an HTML 500).

The responses below are written by hand in the shape the IAM API reference documents, not
captured from AWS: both the older shape (one EvaluationResult per action and resource, the
resource in EvalResourceName) and the current one (one per action, EvalResourceName an ARN
template, the per-resource decisions in ResourceSpecificResults). Each is passed through botocore's
Stubber, which validates it against the IAM service model, and so is every request drill builds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from drill.facts import Answer, EvidenceSource
from drill.permissions import S3_DESTRUCTIVE, S3_OBJECT_PERMISSIONS
from drill.trust.aws.evaluate import Verdict
from drill.trust.aws.iam import simulate_principal
from drill.trust.aws.simulation import (
    Simulated,
    answers_from_simulation,
    simulable_arn,
    simulation_request,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

BUCKET, PREFIX = "backups", "pg/"
BUCKET_ARN = "arn:aws:s3:::backups"
OBJECTS = "arn:aws:s3:::backups/pg/*"
SNAPSHOT = "arn:aws:s3:::backups/pg/orders.dump"
TEMPLATE_OBJECT = "arn:${Partition}:s3:::${BucketName}/${KeyName}"
TEMPLATE_BUCKET = "arn:${Partition}:s3:::${BucketName}"
USER = "arn:aws:iam::111122223333:user/agent"
STATEMENT = {
    "SourcePolicyId": "agent-backups",
    "SourcePolicyType": "IAM Policy",
    "StartPosition": {"Line": 1, "Column": 38},
    "EndPosition": {"Line": 1, "Column": 151},
}


def specific(resource: str, decision: str, **extra: Any) -> dict[str, Any]:
    return {
        "EvalResourceName": resource,
        "EvalResourceDecision": decision,
        "MatchedStatements": [STATEMENT] if decision != "implicitDeny" else [],
        "MissingContextValues": [],
        **extra,
    }


def current_shape(action: str, *per_resource: dict[str, Any]) -> dict[str, Any]:
    """One result per action; the top-level decision is the most restrictive of the resources."""
    decisions = {item["EvalResourceDecision"] for item in per_resource}
    top = next(d for d in ("explicitDeny", "implicitDeny", "allowed") if d in decisions)
    return {
        "EvalActionName": action,
        "EvalResourceName": TEMPLATE_OBJECT if action in S3_OBJECT_PERMISSIONS else TEMPLATE_BUCKET,
        "EvalDecision": top,
        "MatchedStatements": [],
        "MissingContextValues": [],
        "EvalDecisionDetails": {},
        "ResourceSpecificResults": list(per_resource),
    }


def older_shape(action: str, resource: str, decision: str) -> dict[str, Any]:
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": [STATEMENT] if decision != "implicitDeny" else [],
        "MissingContextValues": [],
        "ResourceSpecificResults": [],
    }


def response(*results: dict[str, Any]) -> dict[str, Any]:
    return {"EvaluationResults": list(results), "IsTruncated": False}


@pytest.fixture
def iam() -> Iterator[tuple[IAMClient, Stubber]]:
    client: IAMClient = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def read(answer: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The recorded response goes through the Stubber (validated) and simulate_principal, then is read."""
    client: IAMClient = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub"
    )
    request = simulation_request(
        USER,
        BUCKET,
        PREFIX,
        partition="aws",
        snapshot_keys=("pg/orders.dump",),
        bucket_policy=None,
        resource_owner=None,
    )
    with Stubber(client) as stubber:
        stubber.add_response("simulate_principal_policy", answer, request)
        joined = simulate_principal(client, request)
    return answers_from_simulation(joined, BUCKET, PREFIX, snapshot_keys=("pg/orders.dump",), **options)


def test_current_shape_object_actions_on_objects_and_bucket_actions_on_the_bucket() -> None:
    answers = read(
        response(
            current_shape(
                "s3:DeleteObjectVersion",
                specific(BUCKET_ARN, "implicitDeny"),  # not what it acts on: ignored
                specific(OBJECTS, "allowed"),
                specific(SNAPSHOT, "allowed"),
            ),
            current_shape(
                "s3:PutBucketPolicy",
                specific(
                    BUCKET_ARN, "explicitDeny", MatchedStatements=[{**STATEMENT, "SourcePolicyId": "deny"}]
                ),
                specific(OBJECTS, "allowed"),
                specific(SNAPSHOT, "allowed"),
            ),
            current_shape(
                "s3:DeleteBucket",
                specific(BUCKET_ARN, "implicitDeny"),
                specific(OBJECTS, "implicitDeny"),
                specific(SNAPSHOT, "implicitDeny"),
            ),
        )
    )
    assert answers["s3:DeleteObjectVersion"].answer is Answer.ALLOWED
    assert answers["s3:DeleteObjectVersion"].source is EvidenceSource.SIMULATION
    # Only the real keys count once they are known; the prefix stands in only when none was listed.
    assert SNAPSHOT in answers["s3:DeleteObjectVersion"].detail
    assert answers["s3:PutBucketPolicy"].answer is Answer.DENIED
    assert "explicitDeny" in answers["s3:PutBucketPolicy"].detail
    assert answers["s3:DeleteBucket"].answer is Answer.DENIED
    assert "implicitDeny" in answers["s3:DeleteBucket"].detail


def test_an_object_action_allowed_on_one_snapshot_is_allowed() -> None:
    # An identity policy scoped to pg/orders* does not match the literal "pg/*" ARN, but does match the snapshot.
    answers = read(
        response(
            current_shape(
                "s3:DeleteObject",
                specific(BUCKET_ARN, "implicitDeny"),
                specific(OBJECTS, "implicitDeny"),
                specific(SNAPSHOT, "allowed"),
            )
        )
    )
    assert answers["s3:DeleteObject"].answer is Answer.ALLOWED
    assert SNAPSHOT in answers["s3:DeleteObject"].detail


def test_older_shape_one_result_per_resource() -> None:
    answers = read(
        response(
            older_shape("s3:PutObject", BUCKET_ARN, "allowed"),  # not what it acts on: ignored
            older_shape("s3:PutObject", OBJECTS, "implicitDeny"),
            older_shape("s3:PutObject", SNAPSHOT, "implicitDeny"),
            older_shape("s3:PutLifecycleConfiguration", BUCKET_ARN, "allowed"),
            older_shape("s3:PutLifecycleConfiguration", OBJECTS, "implicitDeny"),
        )
    )
    assert answers["s3:PutObject"].answer is Answer.DENIED
    assert answers["s3:PutLifecycleConfiguration"].answer is Answer.ALLOWED


def test_a_decision_that_hinges_on_missing_context_is_unknown() -> None:
    answers = read(
        response(
            current_shape(
                "s3:DeleteObjectVersion",
                specific(BUCKET_ARN, "implicitDeny"),
                specific(OBJECTS, "implicitDeny", MissingContextValues=["aws:SourceIp"]),
                specific(SNAPSHOT, "implicitDeny", MissingContextValues=["aws:SourceIp"]),
            )
        )
    )
    answer = answers["s3:DeleteObjectVersion"]
    assert answer.answer is Answer.UNKNOWN and "aws:SourceIp" in answer.detail


def test_actions_missing_from_the_answer_get_no_answer() -> None:
    assert read(response()) == {}


def implicit_deny_everywhere() -> dict[str, Any]:
    return response(
        *(
            current_shape(action, specific(BUCKET_ARN, "implicitDeny"), specific(OBJECTS, "implicitDeny"))
            for action in S3_DESTRUCTIVE
        )
    )


def test_without_the_bucket_policy_a_same_account_implicit_deny_is_final_only_if_the_policy_grants_nothing() -> (
    None
):
    role_simulation = Simulated(resource_policy_included=False, cross_account=False)
    verdicts = dict.fromkeys(S3_DESTRUCTIVE, Verdict.SILENT) | {
        "s3:PutObject": Verdict.GRANTS,
        "s3:DeleteObject": Verdict.UNREAD,
    }
    answers = answers_from_simulation(
        implicit_deny_everywhere(), BUCKET, PREFIX, simulated=role_simulation, verdicts=verdicts
    )
    assert answers["s3:DeleteBucket"].answer is Answer.DENIED
    assert "identity policies only" in answers["s3:DeleteBucket"].detail
    assert answers["s3:PutObject"].answer is Answer.UNKNOWN and "may grant" in answers["s3:PutObject"].detail
    assert answers["s3:DeleteObject"].answer is Answer.UNKNOWN
    assert "could not be read" in answers["s3:DeleteObject"].detail


def test_across_accounts_an_identity_only_simulation_denies_but_cannot_allow_alone() -> None:
    simulated = Simulated(resource_policy_included=False, cross_account=True)
    verdicts = dict.fromkeys(S3_DESTRUCTIVE, Verdict.SILENT) | {"s3:DeleteObject": Verdict.GRANTS}
    denied = answers_from_simulation(
        implicit_deny_everywhere(), BUCKET, PREFIX, simulated=simulated, verdicts=verdicts
    )
    assert {answer.answer for answer in denied.values()} == {Answer.DENIED}
    allowed = response(
        current_shape("s3:DeleteObject", specific(OBJECTS, "allowed")),
        current_shape("s3:PutBucketPolicy", specific(BUCKET_ARN, "allowed")),
    )
    answers = answers_from_simulation(allowed, BUCKET, PREFIX, simulated=simulated, verdicts=verdicts)
    assert answers["s3:DeleteObject"].answer is Answer.ALLOWED  # the bucket may grant it too
    # The bucket grants nothing for it: the resource policy's DENIED must be the one that counts.
    assert answers["s3:PutBucketPolicy"].answer is Answer.UNKNOWN


def test_an_acl_that_may_grant_objects_leaves_an_implicit_deny_open_unless_identity_must_grant() -> None:
    verdicts = dict.fromkeys(S3_DESTRUCTIVE, Verdict.SILENT) | {
        "s3:PutObject": Verdict.ACL_GRANTS,
        "s3:DeleteObjectVersion": Verdict.UNREAD,  # the policy was read, so the ACL was not
    }
    answers = answers_from_simulation(implicit_deny_everywhere(), BUCKET, PREFIX, verdicts=verdicts)
    assert answers["s3:PutObject"].answer is Answer.UNKNOWN and "ACL" in answers["s3:PutObject"].detail
    assert answers["s3:DeleteObjectVersion"].answer is Answer.UNKNOWN
    assert answers["s3:DeleteObject"].answer is Answer.DENIED
    # Another account whose identity policies do not allow it: no ACL can make up for that.
    across = Simulated(resource_policy_included=False, cross_account=True)
    answers = answers_from_simulation(
        implicit_deny_everywhere(), BUCKET, PREFIX, simulated=across, verdicts=verdicts
    )
    assert answers["s3:PutObject"].answer is Answer.DENIED


def test_assumed_role_sessions_simulate_as_their_role_and_root_cannot_be_simulated() -> None:
    assert (
        simulable_arn("arn:aws:sts::111122223333:assumed-role/ci-deployer/session-42")
        == "arn:aws:iam::111122223333:role/ci-deployer"
    )
    assert (
        simulable_arn("arn:aws-us-gov:sts::111122223333:assumed-role/ci/s")
        == "arn:aws-us-gov:iam::111122223333:role/ci"
    )
    assert simulable_arn(USER) == USER
    assert simulable_arn("arn:aws:iam::111122223333:role/path/ci") == "arn:aws:iam::111122223333:role/path/ci"
    assert simulable_arn("arn:aws:iam::111122223333:root") is None
    assert simulable_arn("arn:aws:sts::111122223333:federated-user/bob") is None


def test_the_request_passes_the_bucket_policy_and_its_owner_in_the_documented_form(
    iam: tuple[IAMClient, Stubber],
) -> None:
    request = simulation_request(
        USER,
        BUCKET,
        PREFIX,
        partition="aws",
        snapshot_keys=("pg/orders.dump", "pg/orders.dump"),
        bucket_policy='{"Version":"2012-10-17","Statement":[]}',
        resource_owner="444455556666",
    )
    assert request["ActionNames"] == list(S3_DESTRUCTIVE)
    assert request["ResourceArns"] == [BUCKET_ARN, SNAPSHOT]  # the real keys, not the prefix
    assert request["ResourceOwner"] == "arn:aws:iam::444455556666:root"
    client, stubber = iam
    stubber.add_response("simulate_principal_policy", response(), request)  # validates the parameters
    assert simulate_principal(client, request) == {"EvaluationResults": []}
    # Without a resource policy there is no owner to name.
    bare = simulation_request(
        USER, BUCKET, PREFIX, partition="aws", bucket_policy=None, resource_owner="444455556666"
    )
    assert "ResourcePolicy" not in bare and "ResourceOwner" not in bare


def test_pages_are_joined(iam: tuple[IAMClient, Stubber]) -> None:
    client, stubber = iam
    request = simulation_request(
        USER, BUCKET, PREFIX, partition="aws", bucket_policy=None, resource_owner=None
    )
    first = current_shape("s3:DeleteObject", specific(OBJECTS, "allowed"))
    second = current_shape("s3:DeleteBucket", specific(BUCKET_ARN, "implicitDeny"))
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [first], "IsTruncated": True, "Marker": "m1"},
        request,
    )
    stubber.add_response("simulate_principal_policy", response(second), {**request, "Marker": "m1"})
    assert simulate_principal(client, request)["EvaluationResults"] == [first, second]


def test_a_role_with_a_path_is_looked_up_once(iam: tuple[IAMClient, Stubber]) -> None:
    client, stubber = iam
    pathless = "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123"
    real = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
    request = simulation_request(
        pathless, BUCKET, PREFIX, partition="aws", bucket_policy=None, resource_owner=None
    )
    stubber.add_client_error("simulate_principal_policy", "NoSuchEntity", http_status_code=404)
    stubber.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/aws-reserved/sso.amazonaws.com/",
                "RoleName": "AWSReservedSSO_Admin_0123",
                "RoleId": "AROAEXAMPLEROLEID0001",
                "Arn": real,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {"RoleName": "AWSReservedSSO_Admin_0123"},
    )
    stubber.add_response("simulate_principal_policy", response(), {**request, "PolicySourceArn": real})
    assert simulate_principal(client, request) == {"EvaluationResults": []}
    stubber.assert_no_pending_responses()


def test_a_resource_owner_refused_as_an_arn_is_sent_as_the_account_id(iam: tuple[IAMClient, Stubber]) -> None:
    client, stubber = iam
    request = simulation_request(
        USER, BUCKET, PREFIX, partition="aws", bucket_policy="{}", resource_owner="444455556666"
    )
    stubber.add_client_error("simulate_principal_policy", "InvalidInput", http_status_code=400)
    stubber.add_response(
        "simulate_principal_policy", response(), {**request, "ResourceOwner": "444455556666"}
    )
    assert simulate_principal(client, request) == {"EvaluationResults": []}


def test_an_escaped_key_is_simulated_under_the_name_the_store_holds() -> None:
    """Listings carry names as escaped text (drill.names); IAM must see the key the bucket really holds."""
    request = simulation_request(
        USER,
        BUCKET,
        PREFIX,
        partition="aws",
        snapshot_keys=("pg/orders\\u0009night.dump",),
        bucket_policy=None,
        resource_owner=None,
    )
    assert f"arn:aws:s3:::{BUCKET}/pg/orders\tnight.dump" in request["ResourceArns"]
    assert not any("\\u0009" in arn for arn in request["ResourceArns"])
