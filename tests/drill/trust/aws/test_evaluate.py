"""IAM's decision, evaluated by drill on policy documents in AWS's own shapes (pure).

moto enforces only part of this (no conditions on Allow, no NotResource in a bucket Deny, no
principals in bucket policies), so the evaluation is tested here on documents as AWS documents
them; tests/drill/trust/aws/test_false_passes.py checks the verdicts against moto where it can.
"""

from __future__ import annotations

from typing import Any

from drill.facts import Answer
from drill.trust.aws.evaluate import Ownership, PolicySet, Verdict, bucket_verdict, decide, decide_all
from drill.trust.aws.statements import Caller, Resource, Statement, statements_of

ACCOUNT = "111122223333"
OTHER = "444455556666"
USER = Caller(f"arn:aws:iam::{ACCOUNT}:user/ci", ACCOUNT)
SESSION = Caller(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/run-42", ACCOUNT)
STRANGER = Caller(f"arn:aws:iam::{OTHER}:user/partner", OTHER)
CHINOOK = Resource("arn:aws:s3:::backups/pg/chinook-2026-11-02.dump")
ORDERS = Resource("arn:aws:s3:::backups/pg/orders-2026-11-02.dump")
BUCKET = Resource("arn:aws:s3:::backups")


def policy(name: str, *statements: dict[str, Any]) -> tuple[Statement, ...]:
    return statements_of(name, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def identity(*statements: dict[str, Any], bucket: tuple[Statement, ...] = (), acl: Any = ()) -> PolicySet:
    return PolicySet(identity=policy("user ci, inline policy 'p'", *statements), bucket=bucket, acl=acl)


def test_nothing_grants_it_is_a_denial_and_says_what_was_read() -> None:
    decision = decide("s3:DeleteObjectVersion", CHINOOK, USER, identity(allow("s3:Get*")), Ownership.SAME)
    assert decision.answer is Answer.DENIED and decision.detail.startswith("nothing grants it")


def test_a_prefix_scoped_grant_is_found_on_the_keys_it_covers_only() -> None:
    policies = identity(allow("s3:Delete*", "arn:aws:s3:::backups/pg/chinook-*", Sid="Pruner"))
    found = decide_all("s3:DeleteObjectVersion", [ORDERS, CHINOOK], USER, policies, Ownership.SAME)
    assert found.answer is Answer.ALLOWED and found.grant == "user ci, inline policy 'p', Sid 'Pruner'"
    assert CHINOOK.arn in found.detail
    assert decide("s3:DeleteObjectVersion", ORDERS, USER, policies, Ownership.SAME).answer is Answer.DENIED


def test_an_explicit_deny_wins_and_is_named() -> None:
    policies = identity(allow("s3:*"), deny("s3:DeleteObjectVersion", "arn:aws:s3:::backups/*", Sid="Keep"))
    decision = decide("s3:DeleteObjectVersion", CHINOOK, USER, policies, Ownership.SAME)
    assert decision.answer is Answer.DENIED and "Sid 'Keep'" in decision.grant


def test_not_action_grants_everything_it_does_not_list() -> None:
    policies = identity({"Effect": "Allow", "NotAction": ["iam:*", "s3:Get*"], "Resource": "*"})
    assert decide("s3:PutBucketPolicy", BUCKET, USER, policies, Ownership.SAME).answer is Answer.ALLOWED
    assert decide("iam:PutUserPolicy", BUCKET, USER, policies, Ownership.SAME).answer is Answer.DENIED


def test_not_resource_in_a_deny_protects_only_outside_its_list() -> None:
    bucket = policy(
        "bucket policy of backups",
        allow("s3:*", "arn:aws:s3:::backups/*", Principal={"AWS": USER.arn}),
        deny("s3:Delete*", None, Principal="*", NotResource="arn:aws:s3:::backups/pg/chinook-*"),
    )
    policies = PolicySet(identity=(), bucket=bucket)
    assert decide("s3:DeleteObject", CHINOOK, USER, policies, Ownership.SAME).answer is Answer.ALLOWED
    assert decide("s3:DeleteObject", ORDERS, USER, policies, Ownership.SAME).answer is Answer.DENIED


def test_a_condition_drill_cannot_decide_is_unknown_naming_the_key() -> None:
    policies = identity(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    decision = decide("s3:DeleteObject", CHINOOK, USER, policies, Ownership.SAME)
    assert decision.answer is Answer.UNKNOWN and decision.blocks_weaker
    assert "aws:SourceIp" in decision.detail


def test_conditions_on_the_caller_are_decided_and_on_the_request_chosen_by_it() -> None:
    mine = identity(
        allow("s3:*", Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/c*"}})
    )
    assert decide("s3:DeleteObject", CHINOOK, USER, mine, Ownership.SAME).answer is Answer.ALLOWED
    theirs = identity(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER}}))
    assert decide("s3:DeleteObject", CHINOOK, USER, theirs, Ownership.SAME).answer is Answer.DENIED
    # A Deny on plain HTTP is sidestepped by using TLS: the grant stands.
    tls = identity(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    assert decide("s3:DeleteObject", CHINOOK, USER, tls, Ownership.SAME).answer is Answer.ALLOWED
    # A Deny the requester cannot avoid, and cannot be sure of, leaves the grant in doubt.
    vpc = identity(allow("s3:*"), deny("s3:*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}))
    doubtful = decide("s3:DeleteObject", CHINOOK, USER, vpc, Ownership.SAME)
    assert doubtful.answer is Answer.UNKNOWN and "aws:SourceVpce" in doubtful.detail


def test_a_policy_variable_is_filled_when_known_and_doubted_when_not() -> None:
    own = identity(allow("s3:DeleteObject", "arn:aws:s3:::backups/home/${aws:username}/*"))
    home = Resource("arn:aws:s3:::backups/home/ci/x.dump")
    assert decide("s3:DeleteObject", home, USER, own, Ownership.SAME).answer is Answer.ALLOWED
    assert decide("s3:DeleteObject", CHINOOK, USER, own, Ownership.SAME).answer is Answer.DENIED
    tagged = identity(allow("s3:DeleteObject", "arn:aws:s3:::backups/${aws:PrincipalTag/team}/*"))
    team = Resource("arn:aws:s3:::backups/pg/x.dump")
    assert decide("s3:DeleteObject", team, USER, tagged, Ownership.SAME).answer is Answer.UNKNOWN


def test_an_unreadable_policy_leaves_what_it_could_grant_unknown_but_not_what_others_grant() -> None:
    partly = PolicySet(
        identity=policy("user ci, inline policy 'p'", allow("s3:PutObject")),
        identity_unread="managed policy x: 403",
    )
    assert decide("s3:PutObject", CHINOOK, USER, partly, Ownership.SAME).answer is Answer.ALLOWED
    unknown = decide("s3:DeleteObject", CHINOOK, USER, partly, Ownership.SAME)
    assert unknown.answer is Answer.UNKNOWN and not unknown.blocks_weaker and "403" in unknown.detail
    unread_bucket = PolicySet(identity=(), bucket=None, bucket_unread="s3:GetBucketPolicy: 403")
    assert decide("s3:DeleteObject", CHINOOK, USER, unread_bucket, Ownership.SAME).answer is Answer.UNKNOWN


def test_another_account_needs_its_own_grant_and_the_buckets() -> None:
    grant = policy(
        "bucket policy of backups",
        allow(
            ["s3:DeleteObject"],
            "arn:aws:s3:::backups/pg/chinook-*",
            Principal={"AWS": f"arn:aws:iam::{OTHER}:root"},
        ),
    )
    both = PolicySet(identity=policy("user partner", allow("s3:*")), bucket=grant)
    assert decide("s3:DeleteObject", CHINOOK, STRANGER, both, Ownership.OTHER).answer is Answer.ALLOWED
    assert decide("s3:DeleteObject", ORDERS, STRANGER, both, Ownership.OTHER).answer is Answer.DENIED
    unread = PolicySet(identity=None, identity_unread="another account", bucket=grant)
    assert decide("s3:DeleteObject", CHINOOK, STRANGER, unread, Ownership.OTHER).answer is Answer.UNKNOWN
    assert decide("s3:DeleteObject", ORDERS, STRANGER, unread, Ownership.OTHER).answer is Answer.DENIED
    # With the owner unknown, the bucket's silence proves nothing: the account may be the owner's.
    assert decide("s3:DeleteObject", ORDERS, STRANGER, unread, Ownership.UNKNOWN).answer is Answer.UNKNOWN


def test_a_bucket_grant_to_the_account_alone_needs_an_identity_grant_but_a_deny_to_it_applies() -> None:
    account_only = policy(
        "bucket policy of backups",
        allow("s3:DeleteObject", "arn:aws:s3:::backups/*", Principal={"AWS": ACCOUNT}),
    )
    assert (
        decide(
            "s3:DeleteObject", CHINOOK, USER, PolicySet(identity=(), bucket=account_only), Ownership.SAME
        ).answer
        is Answer.DENIED
    )
    refused = policy(
        "bucket policy of backups",
        deny("s3:*", "arn:aws:s3:::backups/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    )
    decision = decide(
        "s3:DeleteObject", CHINOOK, USER, identity(allow("s3:*"), bucket=refused), Ownership.SAME
    )
    assert decision.answer is Answer.DENIED


def test_a_role_named_in_the_bucket_policy_covers_its_sessions_and_not_principal_excepts_with_doubt() -> None:
    named = policy(
        "bucket policy of backups",
        allow(
            "s3:DeleteObject",
            "arn:aws:s3:::backups/*",
            Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops/deployer"},
        ),
    )
    assert (
        decide(
            "s3:DeleteObject", CHINOOK, SESSION, PolicySet(identity=(), bucket=named), Ownership.SAME
        ).answer
        is Answer.ALLOWED
    )
    excepted = policy(
        "bucket policy of backups",
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"},
            "Action": "s3:*",
            "Resource": "*",
        },
    )
    doubtful = decide(
        "s3:DeleteObject", CHINOOK, SESSION, identity(allow("s3:*"), bucket=excepted), Ownership.SAME
    )
    assert doubtful.answer is Answer.UNKNOWN


def test_an_acl_granting_write_to_everyone_grants_deletes() -> None:
    acl = (
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "WRITE",
        },
    )
    decision = decide(
        "s3:DeleteObject", CHINOOK, USER, PolicySet(identity=(), bucket=(), acl=acl), Ownership.SAME
    )
    assert decision.answer is Answer.ALLOWED and "everyone" in decision.grant
    unread = PolicySet(identity=(), bucket=(), acl=None, acl_unread="s3:GetBucketAcl: 403")
    assert decide("s3:PutObject", CHINOOK, USER, unread, Ownership.SAME).answer is Answer.UNKNOWN
    assert decide("s3:PutBucketPolicy", BUCKET, USER, unread, Ownership.SAME).answer is Answer.DENIED


def test_the_bucket_verdict_the_simulation_leans_on() -> None:
    refused = policy(
        "bucket policy of backups", deny("s3:DeleteObject", "arn:aws:s3:::backups/*", Principal="*")
    )
    assert (
        bucket_verdict("s3:DeleteObject", [CHINOOK], USER, PolicySet(identity=(), bucket=refused))
        is Verdict.DENIES
    )
    assert (
        bucket_verdict("s3:DeleteObject", [CHINOOK], USER, PolicySet(identity=(), bucket=()))
        is Verdict.SILENT
    )
    assert (
        bucket_verdict("s3:DeleteObject", [CHINOOK], USER, PolicySet(identity=(), bucket=None))
        is Verdict.UNREAD
    )


def test_a_resource_is_shown_escaped_whatever_its_key_holds() -> None:
    from drill.trust.aws.statements import Resource  # noqa: PLC0415

    assert Resource("arn:aws:s3:::b/pg/a\tb.dump").describe() == "arn:aws:s3:::b/pg/a\\u0009b.dump"
    assert Resource("arn:aws:s3:::b/pg/", region=True).describe() == "arn:aws:s3:::b/pg/*"
