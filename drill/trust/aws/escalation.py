"""Power one step away: the actions that let an identity grant itself anything, or act as a role
that may hold more (pure).

The list follows the privilege-escalation methods that cloudsplaining keeps (after Rhino
Security's research and pathfinding.cloud): IAM changes that give a principal new policies,
credentials or trust, passing a role to compute the identity starts, and running code inside
compute that already runs as a role. Deleting or detaching a policy is left out: it can only
remove a Deny, which drill does not credit anyway (an explicit Deny in an identity policy is
honoured, so a principal that may delete it is judged as if the Deny were honoured; see the docs).
"""

from __future__ import annotations

from collections.abc import Mapping

from drill.trust.aws.conditions import condition_applies
from drill.trust.aws.directory import Entity
from drill.trust.aws.statements import Caller, Match, as_list, matching

ESCALATION: Mapping[str, str] = {
    "iam:CreateAccessKey": "create access keys for another user",
    "iam:CreateLoginProfile": "give another user a console password",
    "iam:UpdateLoginProfile": "change another user's console password",
    "iam:AddUserToGroup": "join a group that holds more",
    "iam:CreatePolicyVersion": "rewrite a managed policy",
    "iam:SetDefaultPolicyVersion": "switch a managed policy to another version",
    "iam:AttachUserPolicy": "attach any managed policy to a user",
    "iam:AttachGroupPolicy": "attach any managed policy to a group",
    "iam:AttachRolePolicy": "attach any managed policy to a role",
    "iam:PutUserPolicy": "write a user's inline policy",
    "iam:PutGroupPolicy": "write a group's inline policy",
    "iam:PutRolePolicy": "write a role's inline policy",
    "iam:UpdateAssumeRolePolicy": "let itself assume any role",
    "iam:DeleteUserPermissionsBoundary": "remove a user's permissions boundary",
    "iam:DeleteRolePermissionsBoundary": "remove a role's permissions boundary",
    "iam:PutUserPermissionsBoundary": "replace a user's permissions boundary",
    "iam:PutRolePermissionsBoundary": "replace a role's permissions boundary",
    "iam:PassRole": "pass a role to compute it starts, and act as that role",
    "lambda:UpdateFunctionCode": "run its own code as a Lambda function's role",
    "glue:UpdateDevEndpoint": "log in to a Glue endpoint that runs as a role",
    "ssm:SendCommand": "run commands on instances, as their role",
    "ssm:StartSession": "open a shell on instances, as their role",
    "ec2-instance-connect:SendSSHPublicKey": "log in to instances, as their role",
    "ecs:ExecuteCommand": "run commands in containers, as their task role",
    "codebuild:StartBuild": "run a build (its buildspec overridable) as the project's role",
    "cloudformation:UpdateStack": "change a stack deployed with a service role",
    "sagemaker:CreatePresignedNotebookInstanceUrl": "open a notebook that runs as a role",
}

# Harmless when granted only on the caller itself: the AWS example "manage your own credentials".
SELF_SERVICE = frozenset({"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"})


def only_itself(entity: Entity, action: str, caller: Caller) -> bool:
    """Whether every statement that may grant ``action`` names only the caller's own user."""
    if caller.user_name is None or caller.arn is None:
        return False
    own = {caller.arn, caller.arn.replace(caller.user_name, "${aws:username}")}
    for statement in matching(entity.statements, action, "Allow"):
        if condition_applies(statement, caller).match is Match.NO:
            continue
        if "NotResource" in statement.body or any(
            pattern not in own for pattern in as_list(statement.body.get("Resource", "*"))
        ):
            return False
    return True
