"""Who may do what in one AWS account, as IAM's own documents say: users, their groups, roles, and
every policy attached to them, labelled so that a verdict can name the policy and statement.

Read from ``iam:GetAccountAuthorizationDetails`` (one paginated call that returns every user,
group, role and managed policy with its documents; parsed here, purely) or, where drill may not
call it, from ``iam:Get*``/``iam:List*`` one principal at a time (``drill.trust.aws.iam_read``).
Either way drill sees only the account its own credentials are in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from drill.model import Unavailable
from drill.trust.aws.arns import account_of, is_root, role_of, user_of
from drill.trust.aws.statements import Statement, statements_of

# The account root holds every permission of its account; nothing but a Deny or an SCP limits it.
ROOT_POLICY = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Entity:
    """One user or role and every identity statement that applies to it (its groups' included)."""

    arn: str
    kind: str  # "user", "role" or "root"
    name: str
    statements: tuple[Statement, ...]
    policies: tuple[str, ...]  # the policies read, by label
    unread: tuple[str, ...] = ()  # policies that could not be read, each with the reason
    trust: tuple[Statement, ...] = ()  # a role's trust policy

    def described(self) -> str:
        if not self.policies:
            return f"the policies of {self.kind} {self.name} (it has none)"
        return f"the {len(self.policies)} policies of {self.kind} {self.name} ({'; '.join(self.policies)})"


class Directory(Protocol):
    account: str | None

    def entity(self, arn: str) -> Entity | Unavailable:
        """The user or role behind an ARN (a role session's role), or why it cannot be read."""
        ...

    def roles(self) -> tuple[Entity, ...] | Unavailable:
        """Every role of the account with its trust policy; its permissions may be left for ``entity``."""
        ...


def document(raw: Any) -> Mapping[str, Any] | None:
    """A policy document as IAM returns it: a JSON object, or its URL-encoded text."""
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(unquote(raw))
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def root_entity(arn: str) -> Entity:
    return Entity(
        arn, "root", "root", statements_of("the account root", ROOT_POLICY), ("the account root's own power",)
    )


def outside(arn: str, account: str | None) -> Unavailable:
    return Unavailable(
        f"{arn} is in account {account_of(arn) or 'unknown'}; drill reads IAM only in its own account "
        f"({account or 'unknown'})"
    )


@dataclass
class _Collected:
    statements: list[Statement] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def add(self, label: str, raw: Any) -> None:
        parsed = document(raw)
        if parsed is None:
            self.unread.append(f"{label}: its document could not be parsed")
            return
        self.statements.extend(statements_of(label, parsed))
        self.read.append(label)


class AuthorizationDetails:
    """A Directory from GetAccountAuthorizationDetails' pages (pure)."""

    def __init__(self, account: str | None, pages: Iterable[Mapping[str, Any]]) -> None:
        self.account = account
        # Parsed on first use and kept: every agent and target asks about the same principals.
        # Two threads parsing the same one at once build equal results, so no lock is needed.
        self._entities: dict[str, Entity | Unavailable] = {}
        self._role_list: tuple[Entity, ...] | None = None
        self._users: dict[str, Mapping[str, Any]] = {}
        self._groups: dict[str, Mapping[str, Any]] = {}
        self._roles: dict[str, Mapping[str, Any]] = {}
        self._policies: dict[str, Mapping[str, Any]] = {}
        for page in pages:
            self._users.update({str(u.get("UserName")): u for u in page.get("UserDetailList") or ()})
            self._groups.update({str(g.get("GroupName")): g for g in page.get("GroupDetailList") or ()})
            self._roles.update({str(r.get("RoleName")): r for r in page.get("RoleDetailList") or ()})
            self._policies.update({str(p.get("Arn")): p for p in page.get("Policies") or ()})

    def _managed(self, collected: _Collected, attached: Iterable[Mapping[str, Any]], owner: str) -> None:
        for item in attached:
            arn, name = str(item.get("PolicyArn")), str(item.get("PolicyName") or item.get("PolicyArn"))
            label = f"managed policy {name} (attached to {owner})"
            details = self._policies.get(arn)
            if details is None:
                collected.unread.append(f"{label}: not in the authorization details")
                continue
            default = next(
                (v for v in details.get("PolicyVersionList") or () if v.get("IsDefaultVersion")), None
            )
            if default is None:
                collected.unread.append(f"{label}: its default version is missing")
                continue
            collected.add(label, default.get("Document"))

    def _inline(self, collected: _Collected, items: Iterable[Mapping[str, Any]], owner: str) -> None:
        for item in items:
            collected.add(f"{owner}, inline policy {item.get('PolicyName')!r}", item.get("PolicyDocument"))

    def entity(self, arn: str) -> Entity | Unavailable:
        if arn not in self._entities:
            self._entities[arn] = self._parse(arn)
        return self._entities[arn]

    def _parse(self, arn: str) -> Entity | Unavailable:
        if account_of(arn) != self.account:
            return outside(arn, self.account)
        if is_root(arn):
            return root_entity(arn)
        collected = _Collected()
        user = user_of(arn)
        if user is not None:
            details = self._users.get(user[1])
            if details is None:
                return Unavailable(f"user {user[1]} is not in the authorization details")
            self._inline(collected, details.get("UserPolicyList") or (), f"user {user[1]}")
            self._managed(collected, details.get("AttachedManagedPolicies") or (), f"user {user[1]}")
            for group_name in details.get("GroupList") or ():
                group = self._groups.get(str(group_name))
                if group is None:
                    collected.unread.append(f"group {group_name}: not in the authorization details")
                    continue
                self._inline(collected, group.get("GroupPolicyList") or (), f"group {group_name}")
                self._managed(collected, group.get("AttachedManagedPolicies") or (), f"group {group_name}")
            return _entity(str(details.get("Arn", arn)), "user", user[1], collected)
        role = role_of(arn)
        if role is None:
            return Unavailable(f"{arn} is neither a user nor a role: it has no policies drill can read")
        details = self._roles.get(role[1])
        if details is None:
            return Unavailable(f"role {role[1]} is not in the authorization details")
        self._inline(collected, details.get("RolePolicyList") or (), f"role {role[1]}")
        self._managed(collected, details.get("AttachedManagedPolicies") or (), f"role {role[1]}")
        return _entity(str(details.get("Arn", arn)), "role", role[1], collected, trust=_trust(details))

    def roles(self) -> tuple[Entity, ...] | Unavailable:
        if self._role_list is None:
            self._role_list = self._parse_roles()
        return self._role_list

    def _parse_roles(self) -> tuple[Entity, ...]:
        found = []
        for name, details in sorted(self._roles.items()):
            entity = self.entity(str(details.get("Arn", "")))
            if isinstance(entity, Entity):
                found.append(entity)
            else:
                found.append(
                    Entity(str(details.get("Arn")), "role", name, (), (), (entity.reason,), _trust(details))
                )
        return tuple(found)


def _trust(details: Mapping[str, Any]) -> tuple[Statement, ...]:
    name = details.get("RoleName")
    parsed = document(details.get("AssumeRolePolicyDocument"))
    return statements_of(f"trust policy of role {name}", parsed) if parsed else ()


def _entity(
    arn: str, kind: str, name: str, collected: _Collected, *, trust: tuple[Statement, ...] = ()
) -> Entity:
    return Entity(
        arn, kind, name, tuple(collected.statements), tuple(collected.read), tuple(collected.unread), trust
    )


def entity_from(
    arn: str,
    kind: str,
    name: str,
    collected: Iterable[tuple[str, Any]],
    *,
    unread: Iterable[str] = (),
    trust: Any = None,
) -> Entity:
    """An Entity from (label, document) pairs read one by one (``iam_read``'s live path)."""
    gathered = _Collected(unread=list(unread))
    for label, raw in collected:
        gathered.add(label, raw)
    parsed = document(trust) if trust is not None else None
    statements = statements_of(f"trust policy of role {name}", parsed) if parsed else ()
    return _entity(arn, kind, name, gathered, trust=statements)
