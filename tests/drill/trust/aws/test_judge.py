"""An account's IAM as GetAccountAuthorizationDetails returns it (AWS's documented shape), and what
drill concludes from it: each principal's statements with their labels, IAM changes one step
away, and roles it may assume (pure: no emulator needed)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from drill.facts import Answer
from drill.model import Unavailable
from drill.trust.aws.directory import AuthorizationDetails, Entity
from drill.trust.aws.judge import Bucket, Judge
from drill.trust.aws.statements import Caller, Resource

ACCOUNT = "111122223333"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/backup-admin"
KEY = Resource("arn:aws:s3:::backups/pg/chinook-1.dump")


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def user(
    name: str, *statements: dict[str, Any], groups: tuple[str, ...] = (), managed: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": doc(*statements)}] if statements else [],
        "GroupList": list(groups),
        "AttachedManagedPolicies": [
            {"PolicyName": m, "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{m}"} for m in managed
        ],
    }


def role(name: str, trust: dict[str, Any], *statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        # GetAccountAuthorizationDetails returns documents URL-encoded; botocore decodes most of them.
        "AssumeRolePolicyDocument": quote(json.dumps(doc(trust))),
        "RolePolicyList": [{"PolicyName": "power", "PolicyDocument": doc(*statements)}],
        "AttachedManagedPolicies": [],
    }


def trusts(principal: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", **extra}


EVERYTHING_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
DETAILS = {
    "UserDetailList": [
        user("ci", groups=("deployers",), managed=("ci-agent-managed", "gone")),
        user("assumer", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ADMIN_ROLE}),
        user("anywhere", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
        user(
            "hopper",
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/hop"},
        ),
        user(
            "self-service",
            {
                "Effect": "Allow",
                "Action": "iam:CreateAccessKey",
                "Resource": f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}",
            },
        ),
        user("keymaker", {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}),
        user(
            "vpn",
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/conditional",
            },
        ),
    ],
    "GroupDetailList": [
        {
            "GroupName": "deployers",
            "GroupPolicyList": [
                {
                    "PolicyName": "deploy",
                    "PolicyDocument": doc(
                        {"Sid": "Put", "Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}
                    ),
                }
            ],
            "AttachedManagedPolicies": [],
        }
    ],
    "RoleDetailList": [
        role("backup-admin", trusts(f"arn:aws:iam::{ACCOUNT}:root"), EVERYTHING_S3),
        role(
            "hop",
            trusts(f"arn:aws:iam::{ACCOUNT}:user/hopper"),
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ADMIN_ROLE},
        ),
        role(
            "conditional",
            trusts(
                f"arn:aws:iam::{ACCOUNT}:user/vpn", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
            ),
            EVERYTHING_S3,
        ),
    ],
    "Policies": [
        {
            "PolicyName": "ci-agent-managed",
            "Arn": f"arn:aws:iam::{ACCOUNT}:policy/ci-agent-managed",
            "DefaultVersionId": "v2",
            "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": False, "Document": doc(EVERYTHING_S3)},
                {
                    "VersionId": "v2",
                    "IsDefaultVersion": True,
                    "Document": doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
                },
            ],
        }
    ],
}
DIRECTORY = AuthorizationDetails(ACCOUNT, [DETAILS])


def judge(directory: Any = DIRECTORY) -> Judge:
    return Judge(
        Bucket("backups", (), "", (), None, "", ACCOUNT, Resource("arn:aws:s3:::backups"), (KEY,)),
        directory,
    )


def caller(name: str) -> Caller:
    return Caller(f"arn:aws:iam::{ACCOUNT}:user/{name}", ACCOUNT)


def entity(name: str) -> Entity:
    found = DIRECTORY.entity(f"arn:aws:iam::{ACCOUNT}:user/{name}")
    assert isinstance(found, Entity)
    return found


def test_a_user_carries_its_groups_and_its_default_managed_versions_and_names_what_it_missed() -> None:
    ci = entity("ci")
    labels = {statement.name for statement in ci.statements}
    assert labels == {
        "group deployers, inline policy 'deploy', Sid 'Put'",
        "managed policy ci-agent-managed (attached to user ci), statement 1",
    }
    assert ci.unread == ("managed policy gone (attached to user ci): not in the authorization details",)
    roles = DIRECTORY.roles()
    assert not isinstance(roles, Unavailable)
    assert [r.name for r in roles] == ["backup-admin", "conditional", "hop"] and roles[0].trust
    outside = DIRECTORY.entity("arn:aws:iam::999999999999:user/x")
    assert isinstance(outside, Unavailable) and "only in its own account" in outside.reason


def test_iam_changes_are_power_one_step_away_but_a_users_own_keys_are_not() -> None:
    power = judge().power(caller("ci"), entity("ci"))
    assert [(a.permission, a.answer) for a in power.escalation if a.permission == "iam:PassRole"] == [
        ("iam:PassRole", Answer.ALLOWED)
    ]
    assert any(
        a.permission == "iam:*" and a.answer is Answer.UNKNOWN for a in power.escalation
    )  # the missing policy
    keymaker = judge().escalation(caller("keymaker"), entity("keymaker"))
    assert [a.permission for a in keymaker] == ["iam:CreateAccessKey"]
    assert judge().escalation(caller("self-service"), entity("self-service")) == []


def test_a_role_the_principal_may_assume_lends_its_power_and_names_the_chain() -> None:
    # The trust policy admits the account; the user's own policy allows the assumption.
    power = judge().power(caller("assumer"), entity("assumer"))
    through = power.through["s3:DeleteObjectVersion"]
    assert through.answer is Answer.ALLOWED and through.via == ("backup-admin",)
    assert "role backup-admin, inline policy 'power'" in through.grant


def test_chains_are_followed_a_few_roles_deep() -> None:
    through = judge().power(caller("hopper"), entity("hopper")).through["s3:DeleteObjectVersion"]
    assert through.answer is Answer.ALLOWED and through.via == ("hop", "backup-admin")
    power = judge().power(caller("anywhere"), entity("anywhere"))
    assert power.through["s3:DeleteObjectVersion"].via == ("backup-admin",)
    # sts:AssumeRole on "*" may reach roles of accounts drill cannot read.
    assert any(
        a.permission == "sts:AssumeRole" and a.answer is Answer.UNKNOWN and "other accounts" in a.detail
        for a in power.escalation
    )


def test_a_trust_policy_with_a_condition_drill_cannot_decide_leaves_the_role_in_doubt() -> None:
    through = judge().power(caller("vpn"), entity("vpn")).through["s3:DeleteObjectVersion"]
    assert through.answer is Answer.UNKNOWN and through.blocks_weaker and "aws:SourceIp" in through.detail


def test_roles_that_cannot_be_listed_are_unknown_never_absent() -> None:
    power = judge(Unavailable("iam:ListRoles: 403")).power(caller("assumer"), Unavailable("iam:GetUser: 403"))
    assert all(a.answer is Answer.UNKNOWN for a in power.escalation)
    assert power.own["s3:DeleteObjectVersion"].answer is Answer.UNKNOWN


def test_roles_of_an_account_drill_cannot_read_keep_an_unreadable_caller_in_doubt() -> None:
    stranger = Caller("arn:aws:iam::444455556666:user/agent", "444455556666")
    unread = Unavailable("another account")
    # The bucket lives in a third account: its roles may trust the agent, and drill cannot list them.
    elsewhere = Judge(
        Bucket("backups", (), "", (), None, "", "999999999999", Resource("arn:aws:s3:::backups"), (KEY,)),
        DIRECTORY,
    )
    [doubt] = [a for a in elsewhere.power(stranger, unread).escalation if a.permission == "sts:AssumeRole"]
    assert doubt.answer is Answer.UNKNOWN and "999999999999" in doubt.detail
    # In drill's own account, the roles are read: none trusts the stranger, so nothing is in doubt.
    assert not [a for a in judge().power(stranger, unread).escalation if a.permission == "sts:AssumeRole"]
