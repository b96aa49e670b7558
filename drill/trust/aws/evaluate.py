"""IAM's decision for one caller, one action and the real backup keys, from the policies drill read (pure).

As AWS evaluates a request (the policy evaluation logic of the IAM User Guide), reduced to what
can grant: an explicit Deny in any policy wins; otherwise a principal of the bucket owner's account
is allowed when its identity policies *or* the bucket policy (naming it, not only its account) or
the bucket ACL allow it, and a principal of another account only when its identity policies *and*
the bucket policy or ACL do. Permissions boundaries, session policies, service control and
resource control policies only take permissions away: drill does not read them, so a permission
they would remove is still reported as allowed (a verdict that errs towards ``fail``).

A permission that no statement grants is denied ("nothing grants it"). Where a statement may or
may not apply (a condition drill cannot decide, a policy variable, a principal it cannot resolve)
the answer is UNKNOWN, names the statement, and blocks weaker evidence: a probe's 403 from drill's
host says nothing about a request the condition would let through. Where a policy could not be
read, the answer is UNKNOWN too, but a weaker source (a probe of the real key) may settle it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drill.facts import Answer
from drill.permissions import S3_OBJECT_PERMISSIONS
from drill.trust.aws.conditions import condition_applies
from drill.trust.aws.statements import (
    Applies,
    Caller,
    Match,
    Resource,
    Statement,
    matching,
    on_resource,
    principal_names,
)

# ACL permissions that let a grantee write or delete objects, or grant itself that (WRITE_ACP).
_WRITE_GRANTS = frozenset({"WRITE", "FULL_CONTROL", "WRITE_ACP"})
_EVERYONE = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "every AWS account",
}
# The ACL grants write on objects (PutObject, DeleteObject); WRITE_ACP lets the grantee add that.
_ACL_ACTIONS = frozenset({"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"})


class Ownership(enum.Enum):
    SAME = "the bucket owner's account"
    OTHER = "another account than the bucket owner's"
    UNKNOWN = "an account drill cannot place"


@dataclass(frozen=True)
class PolicySet:
    """The policies that can grant one caller something on the bucket; None where unread, with why."""

    identity: tuple[Statement, ...] | None  # None: none read; see identity_unread
    identity_unread: str = ""  # why some (or all) identity policies are unread; "" when all were read
    identity_read: str = "its identity policies"  # what was read, for the "nothing grants it" detail
    bucket: tuple[Statement, ...] | None = ()
    bucket_unread: str = ""
    acl: tuple[Mapping[str, Any], ...] | None = ()
    acl_owner: str | None = None
    acl_unread: str = ""


class _Grant(enum.IntEnum):
    NO = 0
    UNREAD = 1
    MAYBE = 2
    YES = 3


@dataclass(frozen=True)
class _Side:
    grant: _Grant
    where: str = ""  # the granting statement, or why it is unread or uncertain


_NONE = _Side(_Grant.NO)


def _either(*sides: _Side) -> _Side:
    return max(sides, key=lambda side: side.grant, default=_NONE)


def _both(first: _Side, second: _Side) -> _Side:
    if _Grant.NO in (first.grant, second.grant):
        return _NONE
    for level in (_Grant.MAYBE, _Grant.UNREAD):
        for side in (first, second):
            if side.grant is level:
                return side
    return first


@dataclass(frozen=True)
class Decision:
    answer: Answer
    detail: str
    grant: str = ""  # the statement that grants it, or the one whose explicit Deny refuses it
    blocks_weaker: bool = False  # UNKNOWN because a statement drill read may apply


def _applies(
    statement: Statement, resource: Resource, caller: Caller, *, in_resource_policy: bool
) -> tuple[Applies, bool]:
    """Whether the statement applies, and whether it names the caller only through its account."""
    found = on_resource(statement, resource, caller) & condition_applies(statement, caller)
    if not in_resource_policy:
        return found, False
    named = principal_names(statement, caller)
    return found & named.applies, named.account_only


def _side(found: Applies, where: str) -> _Side:
    if found.match is Match.YES:
        return _Side(_Grant.YES, where)
    if found.match is Match.MAYBE:
        return _Side(_Grant.MAYBE, found.why)
    return _NONE


def _acl(action: str, policies: PolicySet, ownership: Ownership) -> tuple[_Side, _Side]:
    """(grants to anyone, grants to some account) from the bucket ACL, for object writes only."""
    if action not in _ACL_ACTIONS:
        return _NONE, _NONE
    if policies.acl is None:
        unread = _Side(_Grant.UNREAD, policies.acl_unread or "the bucket ACL could not be read")
        return unread, unread
    direct, delegated = _NONE, _NONE
    for grant in policies.acl:
        permission = str(grant.get("Permission", ""))
        grantee = grant.get("Grantee") or {}
        if permission not in _WRITE_GRANTS:
            continue
        if grantee.get("URI") in _EVERYONE:
            direct = _Side(_Grant.YES, f"bucket ACL, {permission} granted to {_EVERYONE[grantee['URI']]}")
        elif (
            grantee.get("ID") and grantee.get("ID") != policies.acl_owner and ownership is not Ownership.SAME
        ):
            delegated = _either(
                delegated,
                _Side(
                    _Grant.MAYBE,
                    f"the bucket ACL grants {permission} to a canonical user that may be the caller's account",
                ),
            )
    return direct, _either(direct, delegated)


def decide(
    action: str, resource: Resource, caller: Caller, policies: PolicySet, ownership: Ownership
) -> Decision:
    """IAM's answer for one action on one resource (see the module docstring)."""
    identity = policies.identity or ()
    bucket = policies.bucket or ()
    denies: list[tuple[Statement, Applies]] = [
        (statement, _applies(statement, resource, caller, in_resource_policy=False)[0])
        for statement in matching(identity, action, "Deny")
    ] + [
        (statement, _applies(statement, resource, caller, in_resource_policy=True)[0])
        for statement in matching(bucket, action, "Deny")
    ]
    for statement, found in denies:
        if found.match is Match.YES:
            return Decision(Answer.DENIED, f"explicit Deny in {statement.name}", statement.name)
    doubtful_deny = next((found for _, found in denies if found.match is Match.MAYBE), None)

    # A policy that could not be read may grant anything; those read may still grant it for certain.
    unread_identity = (
        _Side(_Grant.UNREAD, policies.identity_unread or "its identity policies could not be read")
        if policies.identity is None or policies.identity_unread
        else _NONE
    )
    own = _either(
        unread_identity,
        *(
            _side(_applies(statement, resource, caller, in_resource_policy=False)[0], statement.name)
            for statement in matching(identity, action, "Allow")
        ),
    )
    if policies.bucket is None:
        unread = _Side(_Grant.UNREAD, policies.bucket_unread or "the bucket policy could not be read")
        direct = delegated = unread
    else:
        direct, delegated = _NONE, _NONE
        for statement in matching(bucket, action, "Allow"):
            found, account_only = _applies(statement, resource, caller, in_resource_policy=True)
            side = _side(found, statement.name)
            delegated = _either(delegated, side)
            if not account_only:
                direct = _either(direct, side)
    acl_direct, acl_any = _acl(action, policies, ownership)
    if ownership is Ownership.OTHER:
        granted = _both(own, _either(delegated, acl_any))
    else:
        # Unknown ownership: whichever account the bucket is in, this bounds what is granted.
        granted = _either(own, direct, acl_direct)
    return _decision(granted, doubtful_deny, caller, policies, ownership)


def _decision(
    granted: _Side, doubtful_deny: Applies | None, caller: Caller, policies: PolicySet, ownership: Ownership
) -> Decision:
    if granted.grant is _Grant.YES:
        if doubtful_deny is not None:
            return Decision(
                Answer.UNKNOWN,
                f"allowed by {granted.where}, unless a Deny applies: {doubtful_deny.why}",
                granted.where,
                blocks_weaker=True,
            )
        return Decision(Answer.ALLOWED, f"allowed by {granted.where}", granted.where)
    if granted.grant is _Grant.MAYBE:
        return Decision(Answer.UNKNOWN, f"may be allowed: {granted.where}", blocks_weaker=True)
    if granted.grant is _Grant.UNREAD:
        return Decision(Answer.UNKNOWN, f"not settled by policies: {granted.where}")
    if ownership is Ownership.OTHER:
        return Decision(
            Answer.DENIED,
            f"nothing grants it: {caller.describe()} is in {ownership.value}, and neither its policies "
            "nor the bucket's policy and ACL grant it both ways",
        )
    return Decision(
        Answer.DENIED,
        f"nothing grants it: no statement in {policies.identity_read}, the bucket policy or the bucket ACL",
    )


def decide_all(
    action: str, resources: Sequence[Resource], caller: Caller, policies: PolicySet, ownership: Ownership
) -> Decision:
    """The answer over every real key (or the bucket): allowed on any, denied only on all."""
    decisions = [(resource, decide(action, resource, caller, policies, ownership)) for resource in resources]
    for resource, decision in decisions:
        if decision.answer is Answer.ALLOWED:
            return Decision(Answer.ALLOWED, f"{decision.detail} on {resource.describe()}", decision.grant)
    unknown = [(resource, decision) for resource, decision in decisions if decision.answer is Answer.UNKNOWN]
    if unknown:
        blocking = [item for item in unknown if item[1].blocks_weaker]
        resource, decision = (blocking or unknown)[0]
        return Decision(
            Answer.UNKNOWN, f"{decision.detail} (on {resource.describe()})", decision.grant, bool(blocking)
        )
    if not decisions:
        return Decision(Answer.UNKNOWN, "no backup key to judge it on")
    return decisions[0][1]


def resources_for(action: str, bucket_resource: Resource, keys: Sequence[Resource]) -> Sequence[Resource]:
    return keys if action in S3_OBJECT_PERMISSIONS else (bucket_resource,)


class Verdict(enum.Enum):
    """What the bucket's own documents say about one principal and one permission."""

    DENIES = "an unconditional explicit Deny applies"
    GRANTS = "the bucket policy may grant it"
    ACL_GRANTS = "only the bucket ACL may grant it"
    SILENT = "neither the bucket policy nor the ACL grants it"
    UNREAD = "the bucket policy or ACL could not be read"


def bucket_verdict(
    action: str, resources: Sequence[Resource], caller: Caller, policies: PolicySet
) -> Verdict:
    """The bucket policy and ACL alone, as the simulation (which cannot always include them) needs."""
    if policies.bucket is None:
        return Verdict.UNREAD

    def found(statement: Statement, resource: Resource) -> Match:
        return _applies(statement, resource, caller, in_resource_policy=True)[0].match

    denies = matching(policies.bucket, action, "Deny")
    if resources and all(any(found(s, r) is Match.YES for s in denies) for r in resources):
        return Verdict.DENIES
    if any(
        found(s, r) is not Match.NO for s in matching(policies.bucket, action, "Allow") for r in resources
    ):
        return Verdict.GRANTS
    _, any_grant = _acl(action, policies, Ownership.UNKNOWN)
    if any_grant.grant is _Grant.UNREAD:
        return Verdict.UNREAD
    return Verdict.ACL_GRANTS if any_grant.grant is not _Grant.NO else Verdict.SILENT
