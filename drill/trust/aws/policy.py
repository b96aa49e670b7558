"""What a bucket policy and a bucket ACL settle, on their own, about one principal: pure functions.

IAM grants a principal of the bucket's own account an action when its identity policies *or* the
bucket's policy allow it, and a principal of another account only when both do. So the bucket
alone proves a denial in two cases: an unconditional explicit Deny that certainly applies, and
another account that neither the policy nor the ACL grants anything. Everything uncertain leans
towards "may be allowed" (a Condition may hold, a NotAction or NotResource may reach it, an unknown
principal form may be the agent), because a wrong DENIED would claim a safety the backups lack.

Not read here: access points and their policies, S3 Access Grants, Block Public Access (it only
takes grants away), service control policies. Bucket-owner-enforced Object Ownership disables
ACLs; S3 then reports only the owner's grant, which is never counted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from drill.facts import Answer, EvidenceSource, PermissionAnswer
from drill.permissions import S3_DESTRUCTIVE, S3_OBJECT_PERMISSIONS

_ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):(?P<service>[\w-]+):[^:]*:(?P<account>\d{12})?:(?P<rest>.+)$"
)
_ACCOUNT_ID = re.compile(r"\d{12}")
_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROLE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")
# IAM policy variables such as ${aws:username} take a value per request: any text may stand there.
_VARIABLE = re.compile(r"\$\{[^}]*\}")
# ACL permissions that let a grantee write or delete objects, or grant itself that (WRITE_ACP).
_WRITE_GRANTS = frozenset({"WRITE", "FULL_CONTROL", "WRITE_ACP"})
# S3 server access logging writes through this group's grant; it is not a principal an agent holds.
_LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def partition_of(arn: str) -> str:
    """The ARN's partition ("aws", "aws-cn", "aws-us-gov"); "aws" for anything that is not an ARN."""
    match = _ARN.match(arn)
    return match["partition"] if match else "aws"


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


def object_arn(bucket: str, key: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


def prefix_arn(bucket: str, prefix: str, partition: str = "aws") -> str:
    """Every object under ``prefix``, as IAM spells it in a policy: ``arn:aws:s3:::bucket/prefix*``."""
    return object_arn(bucket, f"{prefix}*", partition)


def role_of(principal: str) -> tuple[str, str] | None:
    """(account, role name) of a role ARN or of one of its assumed-role sessions, else None."""
    session = _ASSUMED_ROLE.match(principal)
    if session:
        return session[2], session[3]
    role = _ROLE.match(principal)
    return (role[1], role[2]) if role else None


# IAM's wildcards: "*" matches any run of characters, "/" included, and "?" exactly one. No other
# character is special (fnmatch's [...] classes are not IAM syntax), so the matching is done here
# on the pattern's positions: after reading some text, the set of positions still alive.


def _advance(pattern: str, positions: set[int], char: str) -> set[int]:
    moved = set()
    for position in positions:
        if position < len(pattern):
            expected = pattern[position]
            if expected == "*":
                moved.add(position)
            elif expected in ("?", char):
                moved.add(position + 1)
    return _skip_stars(pattern, moved)


def _skip_stars(pattern: str, positions: set[int]) -> set[int]:
    closed = set(positions)
    for start in positions:
        position = start
        while position < len(pattern) and pattern[position] == "*":
            position += 1
            closed.add(position)
    return closed


def _read(pattern: str, text: str) -> set[int]:
    positions = _skip_stars(pattern, {0})
    for char in text:
        positions = _advance(pattern, positions, char)
        if not positions:
            break
    return positions


def glob_matches(pattern: str, value: str) -> bool:
    """Whether an IAM pattern (``*`` and ``?`` wildcards) matches the whole of ``value``."""
    return len(pattern) in _read(pattern, value)


def glob_reaches(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches at least one string that starts with ``prefix``."""
    return bool(_read(pattern, prefix))


def glob_covers(pattern: str, prefix: str) -> bool:
    """Whether the pattern matches every string that starts with ``prefix``."""
    return any(set(pattern[position:]) <= {"*"} for position in _read(pattern, prefix))


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


class Verdict(enum.Enum):
    """What the bucket's own documents say about one principal and one permission."""

    DENIES = "an unconditional explicit Deny applies"
    GRANTS = "the bucket policy may grant it"
    ACL_GRANTS = "only the bucket ACL may grant it"
    SILENT = "neither the bucket policy nor the ACL grants it"
    UNREAD = "the bucket policy or ACL could not be read"


class _Principal:
    """The forms under which a bucket policy may name one caller."""

    def __init__(self, account: str, arn: str) -> None:
        self.account = account
        self.arn = arn
        self.role = role_of(arn)
        partition = partition_of(arn)
        self.root = f"arn:{partition}:iam::{account}:root"

    def named_by(self, value: str) -> bool:
        """Certainly this caller: everyone, its account, its exact ARN, or its role (any path)."""
        if value in ("*", self.account, self.root, self.arn):
            return True
        role = role_of(value)
        # Role names are unique within an account whatever their path, and a session's ARN drops the path.
        return role is not None and self.role is not None and role == self.role and ":role/" in value

    def may_be(self, value: str, owner_id: str | None) -> bool:
        """Possibly this caller: named by it, or a form drill cannot resolve (a unique id "AROA…",
        a canonical user id) that is not the bucket owner's own."""
        if self.named_by(value):
            return True
        if value == owner_id or _ACCOUNT_ID.fullmatch(value):
            return False
        # An ARN of another principal or account is certainly not this caller; anything else may be.
        return _ARN.match(value) is None


def _names(
    statement: Mapping[str, Any], principal: _Principal, owner_id: str | None, *, certain: bool
) -> bool:
    if "NotPrincipal" in statement:
        # "Everyone except ...": drill cannot be sure who is excepted, so it may grant but never denies.
        return not certain
    element = statement.get("Principal")
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        return False
    values = as_list(element.get("AWS"))
    if not certain:
        values += as_list(element.get("CanonicalUser"))
    if certain:
        return any(principal.named_by(value) for value in values)
    return any(principal.may_be(value, owner_id) for value in values)


def _acts_on(statement: Mapping[str, Any], permission: str) -> bool:
    """Action and NotAction read exactly: actions are case-insensitive, with IAM wildcards."""
    if "NotAction" in statement:
        return not any(
            glob_matches(pattern.lower(), permission.lower()) for pattern in as_list(statement["NotAction"])
        )
    return any(
        glob_matches(pattern.lower(), permission.lower()) for pattern in as_list(statement.get("Action"))
    )


def _reaches(statement: Mapping[str, Any], resources: _Resources) -> bool:
    """Whether the statement may concern at least one of the resources (leaning to yes)."""
    if "NotResource" in statement:
        return True
    patterns = [_VARIABLE.sub("*", pattern) for pattern in as_list(statement.get("Resource", "*"))]
    return any(resources.reached_by(pattern) for pattern in patterns)


def _covers(statement: Mapping[str, Any], resources: _Resources) -> bool:
    """Whether the statement certainly concerns every one of the resources."""
    if "NotResource" in statement:
        return False
    patterns = [pattern for pattern in as_list(statement.get("Resource", "*")) if "${" not in pattern]
    return any(resources.covered_by(pattern) for pattern in patterns)


class _Resources:
    """What one permission acts on: the bucket itself, or every object under the prefix."""

    def __init__(self, arn: str, *, objects_under: str | None, keys: Sequence[str]) -> None:
        self.arn = arn
        self.objects_under = objects_under  # "arn:aws:s3:::bucket/prefix" for object permissions
        self.keys = keys

    def reached_by(self, pattern: str) -> bool:
        if self.objects_under is None:
            return glob_matches(pattern, self.arn)
        return glob_reaches(pattern, self.objects_under) or any(
            glob_matches(pattern, key) for key in self.keys
        )

    def covered_by(self, pattern: str) -> bool:
        if self.objects_under is None:
            return glob_matches(pattern, self.arn)
        return glob_covers(pattern, self.objects_under)


def statements_of(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        return [statements]
    return [statement for statement in statements if isinstance(statement, Mapping)]


def acl_may_grant_writes(grants: Iterable[Mapping[str, Any]], owner_id: str | None) -> bool:
    """Whether any ACL grant lets someone other than the owner write, delete or re-grant objects."""
    for grant in grants:
        if grant.get("Permission") not in _WRITE_GRANTS:
            continue
        grantee = grant.get("Grantee") or {}
        if grantee.get("URI") == _LOG_DELIVERY or (owner_id is not None and grantee.get("ID") == owner_id):
            continue
        return True
    return False


def bucket_verdicts(
    policy: Mapping[str, Any] | None,
    acl_grants: Sequence[Mapping[str, Any]] | None,
    owner_id: str | None,
    *,
    principal_account: str,
    principal_arn: str,
    bucket: str,
    prefix: str,
    snapshot_keys: Sequence[str] = (),
    permissions: Iterable[str] = S3_DESTRUCTIVE,
) -> dict[str, Verdict]:
    """One verdict per permission on what the bucket's documents say about the principal.

    ``policy`` is the bucket policy document ({} when the bucket has none, None when it could not
    be read); ``acl_grants`` the ACL's ``Grants`` (None when unreadable) and ``owner_id`` the
    owner's canonical id from the same answer. Object permissions are judged on every object under
    ``prefix`` (and on ``snapshot_keys``), bucket permissions on the bucket ARN.
    """
    principal = _Principal(principal_account, principal_arn)
    partition = partition_of(principal_arn)
    statements = statements_of(policy) if policy is not None else None
    acl_writes = None if acl_grants is None else acl_may_grant_writes(acl_grants, owner_id)
    verdicts: dict[str, Verdict] = {}
    for permission in permissions:
        object_level = permission in S3_OBJECT_PERMISSIONS
        resources = _Resources(
            bucket_arn(bucket, partition),
            objects_under=object_arn(bucket, prefix, partition) if object_level else None,
            keys=[object_arn(bucket, key, partition) for key in snapshot_keys] if object_level else [],
        )
        relevant = [statement for statement in statements or () if _acts_on(statement, permission)]
        if any(
            statement.get("Effect") == "Deny"
            and not statement.get("Condition")
            and _names(statement, principal, owner_id, certain=True)
            and _covers(statement, resources)
            for statement in relevant
        ):
            verdicts[permission] = Verdict.DENIES
        elif statements is None:
            verdicts[permission] = Verdict.UNREAD
        elif any(
            statement.get("Effect") == "Allow"
            and _names(statement, principal, owner_id, certain=False)
            and _reaches(statement, resources)
            for statement in relevant
        ):
            verdicts[permission] = Verdict.GRANTS
        elif object_level and acl_writes is None:
            verdicts[permission] = Verdict.UNREAD
        elif object_level and acl_writes:
            verdicts[permission] = Verdict.ACL_GRANTS
        else:
            verdicts[permission] = Verdict.SILENT
    return verdicts


def resource_policy_answers(
    verdicts: Mapping[str, Verdict],
    *,
    cross_account: bool,
    principal_account: str,
    owner_account: str | None,
) -> dict[str, PermissionAnswer]:
    """The answers the bucket's documents settle: an explicit Deny, in any account; for another
    account, the absence of any grant. A grant proves nothing (the agent's own policies must allow
    it too), so it settles nothing, and a principal of the owner's account may be allowed by its
    identity policies whatever the bucket policy leaves unsaid."""
    answers: dict[str, PermissionAnswer] = {}
    for permission, verdict in verdicts.items():
        if verdict is Verdict.DENIES:
            answers[permission] = PermissionAnswer(
                permission,
                Answer.DENIED,
                EvidenceSource.RESOURCE_POLICY,
                f"an unconditional Deny in the bucket policy covers {permission} for this principal",
            )
        elif cross_account and verdict is Verdict.SILENT:
            owner = f" ({owner_account})" if owner_account else ""
            # ACL grants reach objects only; the bucket's configuration is the owner's alone.
            grants = (
                f"neither the bucket policy nor its ACL grants it {permission}"
                if permission in S3_OBJECT_PERMISSIONS
                else f"the bucket policy does not grant it {permission}"
            )
            answers[permission] = PermissionAnswer(
                permission,
                Answer.DENIED,
                EvidenceSource.RESOURCE_POLICY,
                f"another account ({principal_account}) than the bucket owner's{owner}, and {grants}",
            )
    return answers
