"""Ask IAM to simulate a principal's policies against a backup bucket (``iam:SimulatePrincipalPolicy``).

The call, made with drill's own credentials, and its two documented retries; the request and the
reading of the answer are pure functions in ``drill.trust.aws.simulation``. Whatever keeps the
simulation from answering becomes a gap and an UNKNOWN answer per permission, never a verdict.
moto (5.2.5) answers the call with an HTML 500 page: not implemented, recorded as a gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from drill.clouds.aws import client, identity_endpoints
from drill.config import Target
from drill.facts import Answer, EvidenceSource, Identity, PermissionAnswer
from drill.model import Unavailable
from drill.permissions import S3_DESTRUCTIVE
from drill.trust.aws.arns import partition_of, role_of
from drill.trust.aws.bucket import Documents
from drill.trust.aws.codes import DENIED_CODES, NOT_IMPLEMENTED_CODES, code_of, status_of
from drill.trust.aws.evaluate import Verdict
from drill.trust.aws.simulation import (
    Simulated,
    answers_from_simulation,
    compact_policy,
    is_user,
    simulable_arn,
    simulation_request,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient


def _unanswered(reason: str) -> dict[str, PermissionAnswer]:
    return {
        permission: PermissionAnswer(permission, Answer.UNKNOWN, EvidenceSource.SIMULATION, reason)
        for permission in S3_DESTRUCTIVE
    }


def simulate(
    session: boto3.Session,
    target: Target,
    identity: Identity,
    verifier: Identity | Unavailable,
    *,
    owner: str | None,
    documents: Documents,
    verdicts: Mapping[str, Verdict],
    snapshot_keys: Sequence[str],
    gaps: list[str],
) -> dict[str, PermissionAnswer]:
    """One answer per destructive permission from the simulation of ``identity``, UNKNOWN with the
    reason where it could not be simulated; what drill lacked for it is added to ``gaps``."""
    assert target.bucket is not None  # checked by s3_access in drill.trust.aws.access
    endpoints = identity_endpoints(target)
    if not endpoints.iam_available:
        return _unanswered("not simulated: the store has no IAM API (no iam_endpoint_url)")
    arn = simulable_arn(identity.principal)
    if arn is None:
        reason = "not simulated: an account root or federated user has no policies to simulate"
        gaps.append(f"iam:SimulatePrincipalPolicy cannot simulate {identity.principal}.")
        return _unanswered(reason)
    if isinstance(verifier, Identity) and verifier.account != identity.account:
        gaps.append(
            f"iam:SimulatePrincipalPolicy sees only principals of drill's own account ({verifier.account}); "
            f"{identity.principal} is in {identity.account}."
        )
        return _unanswered(
            f"not simulated: the principal is in another account ({identity.account}) than drill's"
        )
    cross_account = owner is not None and owner != identity.account
    # AWS simulates a resource policy for IAM users only; without one, an absent bucket policy
    # still leaves nothing out, except across accounts, where the bucket must grant too.
    include_policy = bool(documents.policy) and is_user(arn)
    included = include_policy or (documents.policy == {} and not cross_account)
    partition = partition_of(identity.principal)
    request = simulation_request(
        arn,
        target.bucket,
        target.prefix,
        partition=partition,
        snapshot_keys=snapshot_keys,
        bucket_policy=compact_policy(documents.policy) if include_policy and documents.policy else None,
        resource_owner=owner if cross_account else None,
    )
    iam: IAMClient = client(session, "iam", endpoints.iam, target.region, max_attempts=2)
    try:
        response = simulate_principal(iam, request)
    except ClientError as error:
        code = code_of(error)
        if code in DENIED_CODES:
            hint = "; grant drill iam:SimulatePrincipalPolicy on the agent's principal"
        elif code in NOT_IMPLEMENTED_CODES:
            hint = " (not implemented by this endpoint)"
        else:
            hint = ""
        gaps.append(
            f"iam:SimulatePrincipalPolicy unavailable to drill's credentials: {status_of(error)}{hint}."
        )
        return _unanswered(f"not simulated (SimulatePrincipalPolicy answered {status_of(error)})")
    except (BotoCoreError, ResponseParserError) as error:
        # moto answers this action with an HTML 500 page, which botocore cannot parse.
        gaps.append(
            f"iam:SimulatePrincipalPolicy unavailable: {type(error).__name__} (not implemented by this endpoint)."
        )
        return _unanswered(f"not simulated (SimulatePrincipalPolicy failed: {type(error).__name__})")
    finally:
        iam.close()
    return answers_from_simulation(
        response,
        target.bucket,
        target.prefix,
        partition=partition,
        snapshot_keys=snapshot_keys,
        simulated=Simulated(resource_policy_included=included, cross_account=cross_account),
        verdicts=verdicts,
    )


def simulate_principal(iam: IAMClient, request: Mapping[str, Any]) -> dict[str, Any]:
    """Every page of SimulatePrincipalPolicy's answer, its ``EvaluationResults`` joined.

    Two documented ambiguities are retried once each: a role with a path (an assumed-role ARN drops
    it) is looked up by name on NoSuchEntity, and a ResourceOwner refused as an ARN is sent as the
    bare account id.
    """
    current = dict(request)
    retried: set[str] = set()
    while True:
        try:
            results: list[Any] = []
            for page in iam.get_paginator("simulate_principal_policy").paginate(**current):
                results.extend(page.get("EvaluationResults", []))
        except ClientError as error:
            code = code_of(error)
            role = role_of(current["PolicySourceArn"])
            if code == "NoSuchEntity" and role is not None and "role" not in retried:
                retried.add("role")
                current["PolicySourceArn"] = iam.get_role(RoleName=role[1])["Role"]["Arn"]
                continue
            owner = str(current.get("ResourceOwner", ""))
            if code == "InvalidInput" and owner.endswith(":root") and "owner" not in retried:
                retried.add("owner")
                current["ResourceOwner"] = owner.split(":")[4]
                continue
            raise
        return {"EvaluationResults": results}
