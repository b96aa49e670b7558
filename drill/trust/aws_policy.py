"""Pure readings of AWS answers: IAM policy simulation results, and what a bucket policy or ACL
grants another account. No I/O here, so every rule is tested on documented response shapes.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from drill.permissions import S3_OBJECT_PERMISSIONS
from drill.trust_facts import Answer, EvidenceSource, PermissionAnswer

_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ALLOWED = "allowed"
# ACL permissions that let a grantee write, overwrite or delete objects in the bucket.
_WRITE_GRANTS = frozenset({"WRITE", "FULL_CONTROL"})


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def simulable_arn(principal: str) -> str | None:
    """The ARN SimulatePrincipalPolicy accepts for a caller: an assumed-role session becomes its
    role; users and roles stay; the account root and federated users cannot be simulated."""
    match = _ASSUMED_ROLE.match(principal)
    if match:
        partition, account, role = match.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    if re.match(r"^arn:aws[\w-]*:iam::\d{12}:(user|role)/", principal):
        return principal
    return None


def answers_from_simulation(
    results: Sequence[Mapping[str, Any]], bucket: str, prefix: str
) -> dict[str, PermissionAnswer]:
    """One answer per simulated action: object actions judged on the object ARN, the others on the
    bucket ARN. ``results`` is SimulatePrincipalPolicy's ``EvaluationResults``."""
    answers: dict[str, PermissionAnswer] = {}
    for result in results:
        action = str(result.get("EvalActionName", ""))
        wanted = object_arn(bucket, prefix) if action in S3_OBJECT_PERMISSIONS else bucket_arn(bucket)
        resource = str(result.get("EvalResourceName", "*"))
        if resource not in (wanted, "*"):
            continue
        decision = str(result.get("EvalDecision", ""))
        for specific in result.get("ResourceSpecificResults") or ():
            if specific.get("EvalResourceName") == wanted:
                decision = str(specific.get("EvalResourceDecision", decision))
        answers[action] = PermissionAnswer(
            action,
            Answer.ALLOWED if decision == _ALLOWED else Answer.DENIED,
            EvidenceSource.SIMULATION,
            f"SimulatePrincipalPolicy on {wanted}: {decision}",
        )
    return answers


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _principal_matches(principal: Any, account: str, arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for value in _as_list(principal.get("AWS")):
        if value in ("*", account, arn) or value == f"arn:aws:iam::{account}:root":
            return True
    return False


def _action_matches(statement: Mapping[str, Any], permission: str) -> bool:
    if "NotAction" in statement:
        # Conservative: anything not excluded is granted.
        return not any(
            fnmatch.fnmatchcase(permission.lower(), pattern.lower())
            for pattern in _as_list(statement["NotAction"])
        )
    return any(
        fnmatch.fnmatchcase(permission.lower(), pattern.lower())
        for pattern in _as_list(statement.get("Action"))
    )


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return True  # conservative
    return any(fnmatch.fnmatchcase(resource, pattern) for pattern in _as_list(statement.get("Resource", "*")))


def _statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not policy:
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def resource_policy_answers(
    policy: Mapping[str, Any] | None,
    acl_grants: Iterable[Mapping[str, Any]],
    owner_id: str | None,
    *,
    permissions: Iterable[str],
    agent_account: str,
    agent_arn: str,
    bucket: str,
    prefix: str,
    cross_account: bool,
) -> dict[str, PermissionAnswer]:
    """What the bucket policy and ACL settle on their own.

    An unconditional explicit Deny for the agent denies, in any account. For an agent in another
    account, the bucket must grant it the action (identity policies alone never reach across
    accounts): no matching Allow statement and no write grant in the ACL denies. A grant does not
    prove access (the agent's own policies must allow it too), so it settles nothing.
    """
    answers: dict[str, PermissionAnswer] = {}
    statements = _statements(policy)
    writers = [
        grant
        for grant in acl_grants
        if grant.get("Permission") in _WRITE_GRANTS and (grant.get("Grantee") or {}).get("ID") != owner_id
    ]
    for permission in permissions:
        resource = object_arn(bucket, prefix) if permission in S3_OBJECT_PERMISSIONS else bucket_arn(bucket)
        relevant = [
            statement
            for statement in statements
            if _principal_matches(statement.get("Principal"), agent_account, agent_arn)
            and _action_matches(statement, permission)
            and _resource_matches(statement, resource)
        ]
        denied = [s for s in relevant if s.get("Effect") == "Deny" and not s.get("Condition")]
        granted = [s for s in relevant if s.get("Effect") == "Allow"]
        acl_write = permission in ("s3:DeleteObject", "s3:PutObject", "s3:DeleteObjectVersion") and writers
        if denied:
            answers[permission] = PermissionAnswer(
                permission,
                Answer.DENIED,
                EvidenceSource.RESOURCE_POLICY,
                "an explicit Deny in the bucket policy",
            )
        elif cross_account and not granted and not acl_write:
            answers[permission] = PermissionAnswer(
                permission,
                Answer.DENIED,
                EvidenceSource.RESOURCE_POLICY,
                f"account {agent_account} is not the bucket's, and neither the bucket policy nor its ACL grants it {permission}",
            )
    return answers
