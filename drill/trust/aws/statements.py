"""IAM policy statements read three ways: certainly applies, certainly not, or cannot tell (pure).

A statement applies to a request when its action, resource, principal (in a resource or trust
policy) and condition all do. Each part is judged YES, NO or MAYBE with the reason drill could not
decide it; the parts combine as a logical AND. Where AWS's own rules are subtle, MAYBE is chosen:
the caller then reports UNKNOWN rather than a verdict it cannot stand behind.

Each statement keeps where it came from (``policy``) and its label (Sid, or its position counted
from 1), so that every answer can name the statement that grants or denies it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drill.names import escape_name
from drill.trust.aws.arns import (
    ACCOUNT_ID,
    ARN,
    glob_covers,
    glob_matches,
    glob_reaches,
    is_root,
    partition_of,
    role_of,
    root_arn,
    user_of,
)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Match(enum.IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


@dataclass(frozen=True)
class Applies:
    match: Match
    why: str = ""  # for MAYBE: what drill could not decide

    def __and__(self, other: Applies) -> Applies:
        if self.match is Match.NO or other.match is Match.NO:
            return NO
        reasons = "; ".join(reason for reason in (self.why, other.why) if reason)
        return Applies(min(self.match, other.match), reasons)


YES = Applies(Match.YES)
NO = Applies(Match.NO)


def maybe(why: str) -> Applies:
    return Applies(Match.MAYBE, why)


@dataclass(frozen=True)
class Statement:
    policy: str  # where it lives: "bucket policy of backups", "group deployers, inline policy 'ci'"
    label: str  # "Sid 'Pruner'" or "statement 2"
    body: Mapping[str, Any]

    @property
    def effect(self) -> str:
        return str(self.body.get("Effect", ""))

    @property
    def name(self) -> str:
        return f"{self.policy}, {self.label}"


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def statements_of(policy: str, document: Mapping[str, Any]) -> tuple[Statement, ...]:
    """The document's statements, each labelled; anything that is not a statement object is skipped."""
    raw = document.get("Statement", [])
    items = [raw] if isinstance(raw, Mapping) else list(raw) if isinstance(raw, list) else []
    found = []
    for index, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            sid = item.get("Sid")
            label = f"Sid {sid!r}" if isinstance(sid, str) and sid else f"statement {index}"
            found.append(Statement(policy, label, item))
    return tuple(found)


@dataclass(frozen=True)
class Caller:
    """The principal a request comes from, as far as drill knows it."""

    arn: str | None  # None: drill could not learn who the credentials are
    account: str | None

    @property
    def role(self) -> tuple[str, str] | None:
        return role_of(self.arn) if self.arn else None

    @property
    def user_name(self) -> str | None:
        user = user_of(self.arn) if self.arn else None
        return user[1] if user else None

    @property
    def partition(self) -> str:
        return partition_of(self.arn) if self.arn else "aws"

    def describe(self) -> str:
        return self.arn or "the unknown principal"


@dataclass(frozen=True)
class Named:
    """Whether a Principal element names the caller, and whether only through its account."""

    applies: Applies
    account_only: bool = False  # named as its account: the account must also allow it (delegation)


def _value_names(value: str, caller: Caller) -> Named:
    if value == "*":
        return Named(YES)
    if caller.arn is None or caller.account is None:
        return Named(maybe(f"the principal {value} may be the caller, whose identity is unknown"))
    if value in (caller.account, root_arn(caller.account, caller.partition)):
        return Named(YES, account_only=True)
    if value == caller.arn:
        return Named(YES)
    named_role = role_of(value)
    if named_role is not None and ":role/" in value:
        # Role names are unique within an account whatever their path; a session drops the path.
        return Named(YES if named_role == caller.role else NO)
    if ARN.match(value) or ACCOUNT_ID.fullmatch(value) or is_root(value):
        return Named(NO)
    return Named(maybe(f"the principal {value!r} is a form drill cannot resolve (a unique id?)"))


def principal_names(statement: Statement, caller: Caller) -> Named:
    """Whether the statement's Principal (or NotPrincipal) names the caller: resource and trust policies."""
    body = statement.body
    if "NotPrincipal" in body:
        # Whom AWS excepts depends on which of the principal, its session and its account are all
        # listed: drill does not guess. Only a list that cannot concern the caller applies for sure.
        listed = _principal_values(body["NotPrincipal"], caller)
        if any(named.applies.match is not Match.NO for named in listed):
            return Named(
                maybe(f"{statement.name} names everyone except principals that may include the caller")
            )
        return Named(YES)
    if "Principal" not in body:
        return Named(NO)
    values = _principal_values(body["Principal"], caller)
    return max(values, key=lambda named: (named.applies.match, not named.account_only), default=Named(NO))


def _principal_values(element: Any, caller: Caller) -> list[Named]:
    if element == "*":
        return [Named(YES)]
    if not isinstance(element, Mapping):
        return []
    named = [_value_names(value, caller) for value in as_list(element.get("AWS"))]
    named += [
        Named(maybe(f"canonical user {value[:12]}… may be the caller's account"))
        for value in as_list(element.get("CanonicalUser"))
    ]
    return named  # Service and Federated principals are never an agent's keys


def acts_on(statement: Statement, action: str) -> bool:
    """Action and NotAction read exactly: actions are case-insensitive, with IAM's wildcards."""
    wanted = action.lower()
    if "NotAction" in statement.body:
        return not any(glob_matches(p.lower(), wanted) for p in as_list(statement.body["NotAction"]))
    return any(glob_matches(p.lower(), wanted) for p in as_list(statement.body.get("Action")))


@dataclass(frozen=True)
class Resource:
    """What a request acts on: one ARN, or (``region``) any object whose ARN starts with it."""

    arn: str
    region: bool = False

    def describe(self) -> str:
        # A key may hold control characters or bytes that are not UTF-8: shown escaped, as every name is.
        shown = escape_name(self.arn)
        return f"{shown}*" if self.region else shown


def _substituted(pattern: str, caller: Caller) -> tuple[str, str | None]:
    """The pattern with the policy variables drill knows filled in; the first it does not, named."""
    unknown: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        if name == "$":
            return "$"
        if name.lower() == "aws:username" and caller.user_name:
            return caller.user_name
        if name.lower() == "aws:principalaccount" and caller.account:
            return caller.account
        unknown.append(name)
        return "*"

    filled = _VARIABLE.sub(fill, pattern)
    return filled, (unknown[0] if unknown else None)


def _pattern_match(pattern: str, resource: Resource, *, deny: bool) -> Match:
    if not resource.region:
        return Match.YES if glob_matches(pattern, resource.arn) else Match.NO
    if glob_covers(pattern, resource.arn):
        return Match.YES
    # A pattern that reaches only part of the region grants some of it, but denies only some.
    return (Match.MAYBE if deny else Match.YES) if glob_reaches(pattern, resource.arn) else Match.NO


def on_resource(statement: Statement, resource: Resource, caller: Caller) -> Applies:
    """Whether the statement's Resource (or NotResource) covers the resource."""
    deny = statement.effect == "Deny"
    negated = "NotResource" in statement.body
    patterns = as_list(statement.body["NotResource"] if negated else statement.body.get("Resource", "*"))
    best = Match.NO
    unresolved = None
    for raw in patterns:
        pattern, unknown = _substituted(raw, caller)
        found = _pattern_match(pattern, resource, deny=deny)
        if unknown is not None and found is not Match.NO:
            found, unresolved = Match.MAYBE, unknown
        best = max(best, found)
    if negated:
        best = {Match.YES: Match.NO, Match.NO: Match.YES, Match.MAYBE: Match.MAYBE}[best]
    if best is Match.MAYBE:
        why = (
            f"the resource uses the variable ${{{unresolved}}}, whose value drill does not know"
            if unresolved
            else f"it covers only part of {resource.describe()}"
        )
        return maybe(f"{statement.name}: {why}")
    return YES if best is Match.YES else NO


def matching(statements: Iterable[Statement], action: str, effect: str) -> Sequence[Statement]:
    return [s for s in statements if s.effect == effect and acts_on(s, action)]
