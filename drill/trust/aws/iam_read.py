"""Read an account's IAM with drill's own credentials: ``GetAccountAuthorizationDetails`` when drill
may call it, else ``iam:Get*``/``iam:List*`` one principal at a time. Each read that fails leaves
the policies it concerns unread, with the reason, so that the answers they could change are UNKNOWN.

Measured on moto 5.2.5: both paths are implemented and agree (users, groups, inline and managed
policies, roles with their trust policies).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client
from drill.model import Unavailable
from drill.trust.aws.arns import account_of, is_root, role_of, user_of
from drill.trust.aws.codes import status_of
from drill.trust.aws.directory import (
    AuthorizationDetails,
    Directory,
    Entity,
    entity_from,
    outside,
    root_entity,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

_FAILURES = (ClientError, BotoCoreError, ResponseParserError)


def _failure(operation: str, error: Exception) -> str:
    reason = status_of(error) if isinstance(error, ClientError) else type(error).__name__
    return f"iam:{operation} failed for drill's credentials: {reason}"


def load_directory(
    session: boto3.Session, endpoint: str | None, region: str | None, account: str | None, notes: list[str]
) -> Directory:
    """The account's directory; why the one-call path was not taken is added to ``notes``."""
    iam: IAMClient = client(session, "iam", endpoint, region, max_attempts=2)
    try:
        pages = list(iam.get_paginator("get_account_authorization_details").paginate())
        return AuthorizationDetails(account, pages)
    except _FAILURES as error:
        notes.append(
            f"{_failure('GetAccountAuthorizationDetails', error)}; reading IAM one principal at a time."
        )
        return LiveDirectory(session, endpoint, region, account)
    finally:
        iam.close()


class LiveDirectory:
    """A Directory read with iam:Get*/List* on demand, each principal once."""

    def __init__(
        self, session: boto3.Session, endpoint: str | None, region: str | None, account: str | None
    ) -> None:
        self.account = account
        self._session, self._endpoint, self._region = session, endpoint, region
        self._cache: dict[str, Entity | Unavailable] = {}
        self._roles: tuple[Entity, ...] | Unavailable | None = None
        self._lock = threading.Lock()

    def _client(self) -> IAMClient:
        return client(self._session, "iam", self._endpoint, self._region, max_attempts=2)

    def entity(self, arn: str) -> Entity | Unavailable:
        if account_of(arn) != self.account:
            return outside(arn, self.account)
        if is_root(arn):
            return root_entity(arn)
        key = _canonical(arn)
        with self._lock:
            if key not in self._cache:
                iam = self._client()
                try:
                    self._cache[key] = _read_entity(iam, arn)
                finally:
                    iam.close()
            return self._cache[key]

    def roles(self) -> tuple[Entity, ...] | Unavailable:
        with self._lock:
            if self._roles is None:
                iam = self._client()
                try:
                    listed = [
                        role
                        for page in iam.get_paginator("list_roles").paginate()
                        for role in page.get("Roles", [])
                    ]
                    self._roles = tuple(
                        entity_from(
                            str(r["Arn"]),
                            "role",
                            str(r["RoleName"]),
                            (),
                            trust=r.get("AssumeRolePolicyDocument"),
                        )
                        for r in listed
                    )
                except _FAILURES as error:
                    self._roles = Unavailable(_failure("ListRoles", error))
                finally:
                    iam.close()
            return self._roles


def _canonical(arn: str) -> str:
    role = role_of(arn)
    return f"role:{role[1]}" if role else arn


class _Reader:
    """One principal's policies read call by call; each failure is kept as an unread policy."""

    def __init__(self, iam: IAMClient) -> None:
        self.iam = iam
        self.collected: list[tuple[str, Any]] = []
        self.unread: list[str] = []

    def call(self, operation: str, label: str, method: str, **parameters: Any) -> Any:
        try:
            answer = getattr(self.iam, method)(**parameters)
        except _FAILURES as error:
            self.unread.append(f"{label}: {_failure(operation, error)}")
            return None
        if answer.get("IsTruncated"):
            self.unread.append(f"{label}: the answer was truncated")
        return answer

    def managed(self, kind: str, name: str, owner: str) -> None:
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        listed = self.call(
            f"ListAttached{kind.title()}Policies",
            f"the managed policies of {owner}",
            f"list_attached_{kind}_policies",
            **{key: name},
        )
        for item in (listed or {}).get("AttachedPolicies", []):
            label = f"managed policy {item['PolicyName']} (attached to {owner})"
            policy = self.call("GetPolicy", label, "get_policy", PolicyArn=item["PolicyArn"])
            if policy is None:
                continue
            version = self.call(
                "GetPolicyVersion",
                label,
                "get_policy_version",
                PolicyArn=policy["Policy"]["Arn"],
                VersionId=policy["Policy"]["DefaultVersionId"],
            )
            if version is not None:
                self.collected.append((label, version["PolicyVersion"].get("Document")))

    def inline(self, kind: str, name: str, owner: str) -> None:
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        listed = self.call(
            f"List{kind.title()}Policies",
            f"the inline policies of {owner}",
            f"list_{kind}_policies",
            **{key: name},
        )
        for policy_name in (listed or {}).get("PolicyNames", []):
            label = f"{owner}, inline policy {policy_name!r}"
            answer = self.call(
                f"Get{kind.title()}Policy",
                label,
                f"get_{kind}_policy",
                **{key: name, "PolicyName": policy_name},
            )
            if answer is not None:
                self.collected.append((label, answer.get("PolicyDocument")))


def _read_entity(iam: IAMClient, arn: str) -> Entity | Unavailable:
    reader = _Reader(iam)
    user = user_of(arn)
    if user is not None:
        name, owner = user[1], f"user {user[1]}"
        reader.inline("user", name, owner)
        reader.managed("user", name, owner)
        groups = reader.call(
            "ListGroupsForUser", f"the groups of {owner}", "list_groups_for_user", UserName=name
        )
        for group in (groups or {}).get("Groups", []):
            reader.inline("group", str(group["GroupName"]), f"group {group['GroupName']}")
            reader.managed("group", str(group["GroupName"]), f"group {group['GroupName']}")
        return entity_from(arn, "user", name, reader.collected, unread=reader.unread)
    role = role_of(arn)
    if role is None:
        return Unavailable(f"{arn} is neither a user nor a role: it has no policies drill can read")
    name, owner = role[1], f"role {role[1]}"
    details = reader.call("GetRole", f"{owner} itself", "get_role", RoleName=name)
    if details is None:
        return Unavailable(f"{owner} could not be read: {'; '.join(reader.unread)}")
    reader.inline("role", name, owner)
    reader.managed("role", name, owner)
    return entity_from(
        str(details["Role"]["Arn"]),
        "role",
        name,
        reader.collected,
        unread=reader.unread,
        trust=details["Role"].get("AssumeRolePolicyDocument"),
    )
