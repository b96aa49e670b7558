"""What the policies drill read say about one principal and one bucket: the destructive permissions
it holds on the real backup keys, and what it could become one step away (pure but for the
directory, which may read IAM on demand).

One step away: an identity that can change IAM (``escalation``) can grant itself anything, and a
role it may assume (its ``sts:AssumeRole`` grants matched against the roles' trust policies)
lends it that role's power, judged the same way to ``MAX_DEPTH`` roles deep. A role of another
account, whose trust and permissions drill cannot read, leaves the answer UNKNOWN with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drill.facts import Answer, EvidenceSource, PermissionAnswer
from drill.model import Unavailable
from drill.permissions import S3_DESTRUCTIVE
from drill.trust.aws.arns import account_of, glob_matches, role_of
from drill.trust.aws.conditions import condition_applies
from drill.trust.aws.directory import Directory, Entity
from drill.trust.aws.escalation import ESCALATION, SELF_SERVICE, only_itself
from drill.trust.aws.evaluate import Decision, Ownership, PolicySet, decide, decide_all, resources_for
from drill.trust.aws.statements import Caller, Match, Resource, Statement, as_list, matching, principal_names

MAX_DEPTH = 3
_ANY_ARN = Resource("arn:", region=True)


@dataclass(frozen=True)
class Bucket:
    """The bucket as drill read it, and what it is judged on."""

    name: str
    statements: tuple[Statement, ...] | None  # the bucket policy; None when unread
    unread: str
    acl: tuple[Mapping[str, Any], ...] | None
    acl_owner: str | None
    acl_unread: str
    owner: str | None  # the owner's account, when drill established it
    resource: Resource  # the bucket's ARN
    keys: tuple[Resource, ...]  # the real backup keys (or the prefix, when none was listed)


@dataclass(frozen=True)
class Power:
    own: dict[str, PermissionAnswer]  # from its own policies, per destructive permission
    through: dict[str, PermissionAnswer]  # the strongest claim any role it may assume adds (``via``)
    escalation: list[PermissionAnswer]


class Judge:
    def __init__(self, bucket: Bucket, directory: Directory | Unavailable) -> None:
        self.bucket = bucket
        self.directory = directory

    def ownership(self, caller: Caller) -> Ownership:
        if self.bucket.owner is None or caller.account is None:
            return Ownership.UNKNOWN
        return Ownership.SAME if caller.account == self.bucket.owner else Ownership.OTHER

    def policies(self, entity: Entity | Unavailable) -> PolicySet:
        bucket = self.bucket
        if isinstance(entity, Unavailable):
            identity, unread, read = None, entity.reason, "its identity policies"
        else:
            identity, unread, read = entity.statements, "; ".join(entity.unread), entity.described()
        return PolicySet(
            identity=identity,
            identity_unread=unread,
            identity_read=read,
            bucket=bucket.statements,
            bucket_unread=bucket.unread,
            acl=bucket.acl,
            acl_owner=bucket.acl_owner,
            acl_unread=bucket.acl_unread,
        )

    def entity(self, arn: str | None) -> Entity | Unavailable:
        if arn is None:
            return Unavailable("who the credentials are is unknown")
        if isinstance(self.directory, Unavailable):
            return self.directory
        return self.directory.entity(arn)

    def direct(self, caller: Caller, entity: Entity | Unavailable) -> dict[str, PermissionAnswer]:
        """One answer per destructive permission from the policies alone, on the real keys."""
        policies = self.policies(entity)
        ownership = self.ownership(caller)
        source = EvidenceSource.POLICIES if isinstance(entity, Entity) else EvidenceSource.RESOURCE_POLICY
        answers = {}
        for permission in S3_DESTRUCTIVE:
            resources = resources_for(permission, self.bucket.resource, self.bucket.keys)
            decision = decide_all(permission, resources, caller, policies, ownership)
            answers[permission] = _answer(permission, decision, source)
        return answers

    def reaches_bucket(self, caller: Caller) -> bool:
        """Whether principals of the caller's account can be granted anything here at all: if not,
        what the caller can become inside its own account does not matter to this bucket."""
        if self.ownership(caller) is not Ownership.OTHER:
            return True
        if self.bucket.statements is None or self.bucket.acl is None:
            return True
        if any(
            (grant.get("Grantee") or {}).get("ID") not in (None, self.bucket.acl_owner)
            or str((grant.get("Grantee") or {}).get("URI", "")).endswith(("AllUsers", "AuthenticatedUsers"))
            for grant in self.bucket.acl
        ):
            return True
        anyone_of_account = Caller(f"arn:{caller.partition}:iam::{caller.account}:root", caller.account)
        return any(
            statement.effect == "Allow"
            and principal_names(statement, anyone_of_account).applies.match is not Match.NO
            for statement in self.bucket.statements
        )

    def escalation(self, caller: Caller, entity: Entity | Unavailable) -> list[PermissionAnswer]:
        """IAM changes and code run as other roles that the identity policies allow (never DENIED
        ones); one UNKNOWN line when some of its policies could not be read."""
        unread = entity.reason if isinstance(entity, Unavailable) else "; ".join(entity.unread)
        found = []
        if unread:
            found.append(
                PermissionAnswer(
                    "iam:*",
                    Answer.UNKNOWN,
                    EvidenceSource.POLICIES,
                    f"whether it may change IAM or act as another role is unknown: {unread}",
                    blocks_weaker=True,
                )
            )
        if isinstance(entity, Unavailable):
            return found
        policies = PolicySet(identity=entity.statements)
        for action, meaning in ESCALATION.items():
            decision = decide(action, _ANY_ARN, caller, policies, Ownership.SAME)
            if decision.answer is Answer.DENIED:
                continue
            if (
                action in SELF_SERVICE
                and decision.answer is Answer.ALLOWED
                and only_itself(entity, action, caller)
            ):
                continue
            found.append(_answer(action, decision, EvidenceSource.POLICIES, f" ({meaning})"))
        return found

    def power(
        self, caller: Caller, entity: Entity | Unavailable, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> Power:
        """Its own answers, and what the roles it may assume add: allowed through any role is allowed."""
        own = self.direct(caller, entity)
        relevant = self.reaches_bucket(caller)
        escalation = self.escalation(caller, entity) if relevant else []
        through: dict[str, PermissionAnswer] = {}
        if depth >= MAX_DEPTH:
            return Power(own, through, escalation)
        for role, assumable in self.assumable(caller, entity, seen):
            if isinstance(role, str):
                # A role drill cannot read may act on the bucket whatever the caller's own account can.
                escalation.append(
                    PermissionAnswer(
                        "sts:AssumeRole", Answer.UNKNOWN, EvidenceSource.POLICIES, role, blocks_weaker=True
                    )
                )
                continue
            inner = self.power(Caller(role.arn, account_of(role.arn)), role, depth + 1, seen | {role.arn})
            for permission, answer in inner.own.items():
                total = _merge(answer, inner.through[permission]) if permission in inner.through else answer
                candidate = _through(total, role.name, assumable)
                through[permission] = (
                    _merge(through[permission], candidate) if permission in through else candidate
                )
            escalation.extend(_through(answer, role.name, assumable) for answer in inner.escalation)
        return Power(own, through, escalation)

    def assumable(
        self, caller: Caller, entity: Entity | Unavailable, seen: frozenset[str]
    ) -> list[tuple[Entity | str, Decision]]:
        """Roles the caller may assume with how sure that is; a str explains roles drill cannot read."""
        if isinstance(self.directory, Unavailable):
            return [
                (
                    f"the roles it may assume are unknown: {self.directory.reason}",
                    Decision(Answer.UNKNOWN, ""),
                )
            ]
        found: list[tuple[Entity | str, Decision]] = []
        statements = entity.statements if isinstance(entity, Entity) else ()
        for statement in matching(statements, "sts:AssumeRole", "Allow"):
            patterns = as_list(statement.body.get("Resource", "*"))
            if any(not _inside(pattern, self.directory.account) for pattern in patterns):
                found.append(
                    (
                        f"{statement.name} lets it assume roles of other accounts ({', '.join(patterns)}), "
                        "whose trust and permissions drill cannot read",
                        Decision(Answer.UNKNOWN, ""),
                    )
                )
        unseen = self._unseen_roles(caller, entity)
        if unseen:
            found.append((unseen, Decision(Answer.UNKNOWN, "")))
        roles = self.directory.roles()
        if isinstance(roles, Unavailable):
            return [
                *found,
                (f"the account's roles could not be listed: {roles.reason}", Decision(Answer.UNKNOWN, "")),
            ]
        own_role = caller.role
        policies = self.policies(entity)
        for role in roles:
            if role.arn in seen or (own_role is not None and role_of(role.arn) == own_role):
                continue
            decision = self._assume(caller, role, policies)
            if decision.answer is Answer.DENIED:
                continue
            full = self.entity(role.arn) if not role.statements and not role.unread else role
            found.append((full if isinstance(full, Entity) else role, decision))
        return found

    def _unseen_roles(self, caller: Caller, entity: Entity | Unavailable) -> str:
        """Why roles drill cannot read may still lend the caller power over the bucket, or "".

        A caller whose own policies drill read can assume a role of another account only where
        those policies allow it (checked above). One whose policies are unread may, wherever a
        role trusts it: what matters is a role of the bucket's own account, or of an account the
        bucket policy grants something, when drill cannot read that account's roles."""
        if isinstance(entity, Entity) or isinstance(self.directory, Unavailable):
            return ""
        readable = self.directory.account
        owner = self.bucket.owner
        if owner is None or owner != readable:
            where = f"the bucket's account ({owner})" if owner else "the bucket's account, which is unknown"
            return f"roles of {where} may trust it, and drill reads only the roles of {readable}"
        granted = sorted(
            {
                account
                for statement in self.bucket.statements or ()
                if statement.effect == "Allow"
                for value in _aws_principals(statement)
                for account in [value if value == "*" else account_of(value) or value[:12]]
                if account not in (owner, caller.account)
            }
        )
        if granted:
            return (
                f"the bucket policy grants accounts {', '.join(granted)}, whose roles may trust it and "
                "which drill cannot read"
            )
        return ""

    def _assume(self, caller: Caller, role: Entity, policies: PolicySet) -> Decision:
        trust_resource = Resource(role.arn)
        for statement in matching(role.trust, "sts:AssumeRole", "Deny"):
            refused = principal_names(statement, caller).applies & condition_applies(statement, caller)
            if refused.match is Match.YES:
                return Decision(Answer.DENIED, f"{statement.name} denies it")
        best: tuple[Match, bool, str] = (Match.NO, False, "")
        for statement in matching(role.trust, "sts:AssumeRole", "Allow"):
            named = principal_names(statement, caller)
            found = named.applies & condition_applies(statement, caller)
            best = max(best, (found.match, not named.account_only, found.why or statement.name))
        match, direct, why = best
        if match is Match.NO:
            return Decision(Answer.DENIED, "its trust policy does not admit the caller")
        identity = decide("sts:AssumeRole", trust_resource, caller, policies, Ownership.SAME)
        same = caller.account is not None and caller.account == account_of(role.arn)
        if match is Match.YES and direct and same:
            return Decision(Answer.ALLOWED, f"{why} names it", why)
        if match is Match.MAYBE:
            return Decision(Answer.UNKNOWN, why, blocks_weaker=True)
        if identity.answer is Answer.ALLOWED:
            return Decision(
                Answer.ALLOWED, f"{why} admits its account and {identity.grant} allows it", identity.grant
            )
        if identity.answer is Answer.UNKNOWN:
            return Decision(
                Answer.UNKNOWN, f"{why} admits its account; {identity.detail}", blocks_weaker=True
            )
        return Decision(Answer.DENIED, identity.detail)


def _aws_principals(statement: Statement) -> list[str]:
    element = statement.body.get("Principal")
    if element == "*":
        return ["*"]
    return as_list(element.get("AWS")) if isinstance(element, Mapping) else []


def _inside(pattern: str, account: str | None) -> bool:
    """Whether an sts:AssumeRole resource pattern can only name roles of ``account``."""
    if account is None:
        return False
    return glob_matches("arn:*:iam::" + account + ":*", pattern) and "*" not in pattern.split(":")[4]


def _answer(
    permission: str, decision: Decision, source: EvidenceSource, meaning: str = ""
) -> PermissionAnswer:
    return PermissionAnswer(
        permission,
        decision.answer,
        source,
        decision.detail + meaning,
        decision.grant,
        (),
        decision.blocks_weaker,
    )


def _through(answer: PermissionAnswer, role: str, assumable: Decision) -> PermissionAnswer:
    """An answer of a role, as the power of whoever may assume it."""
    via = (role, *answer.via)
    how = f"assumes role {role} ({assumable.detail})"
    if answer.answer is Answer.ALLOWED and assumable.answer is Answer.ALLOWED:
        return PermissionAnswer(
            answer.permission, Answer.ALLOWED, answer.source, f"{how}: {answer.detail}", answer.grant, via
        )
    if answer.answer is Answer.DENIED:
        return PermissionAnswer(
            answer.permission, Answer.DENIED, answer.source, answer.detail, answer.grant, via
        )
    return PermissionAnswer(
        answer.permission,
        Answer.UNKNOWN,
        answer.source,
        f"may {how}: {answer.detail}",
        answer.grant,
        via,
        True,
    )


def _rank(answer: PermissionAnswer) -> int:
    if answer.answer is Answer.ALLOWED:
        return 3
    if answer.answer is Answer.UNKNOWN:
        return 2 if answer.blocks_weaker else 1
    return 0


def _merge(own: PermissionAnswer, other: PermissionAnswer) -> PermissionAnswer:
    """The stronger claim on the backups: allowed over unknown over denied (own first on ties)."""
    return other if _rank(other) > _rank(own) else own


def merge_roles(
    combined: Sequence[PermissionAnswer], through: Mapping[str, PermissionAnswer]
) -> list[PermissionAnswer]:
    """Every source's combined answer, raised by what a role the principal may assume can do."""
    return [
        _merge(answer, through[answer.permission]) if answer.permission in through else answer
        for answer in combined
    ]
