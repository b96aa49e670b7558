"""AWS trust evidence against moto in server mode with IAM enforced: identity, the account's IAM read
one call or one principal at a time, the bucket's documents, and how the sources combine.

moto does not implement SimulatePrincipalPolicy (tests/drill/trust/aws/test_simulation.py reads
documented responses instead): here its absence must be a gap, never an answer. moto asks for
sts:GetCallerIdentity under enforcement, though AWS needs no permission for it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.config import Credentials
from drill.facts import Access, Answer, EvidenceSource, Identity, PermissionAnswer
from drill.model import Unavailable
from drill.permissions import S3_DESTRUCTIVE
from drill.trust.aws.access import s3_access, strongest, verifier_access
from drill.trust.aws.identity import caller_identity
from tests.trust_estate import IAM_READ, KEYS, OTHER, OWNER, Estate

AGENT = Credentials(access_key_id_env="AGENT_KEY", secret_access_key_env="AGENT_SECRET")
EVERYTHING = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


@pytest.fixture
def estate(s3_endpoint: str, enforce_iam: Callable[[], None]) -> Estate:
    built = Estate(s3_endpoint)
    built.user("drill", IAM_READ)
    built.user("writer", EVERYTHING)
    built.user("reader")
    built.user("blind")  # drill's keys without IAM reads
    built.user("auditor", account=OTHER)
    built.user(
        "nogaad",
        IAM_READ,
        {"Effect": "Deny", "Action": "iam:GetAccountAuthorizationDetails", "Resource": "*"},
    )
    built.user(
        "grouped",
        groups={
            "deployers": [{"Sid": "Deploy", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]
        },
        managed={
            "ci-agent-managed": [
                {"Effect": "Allow", "Action": "s3:PutLifecycleConfiguration", "Resource": "*"}
            ]
        },
    )
    enforce_iam()
    return built


def as_agent(estate: Estate, who: str) -> dict[str, str]:
    name = who.upper()
    return {
        **estate.environ,
        "AGENT_KEY": estate.environ[f"{name}_KEY"],
        "AGENT_SECRET": estate.environ[f"{name}_SECRET"],
    }


def answer(access: Access, permission: str) -> PermissionAnswer:
    found = access.answer(permission)
    assert found is not None, permission
    return found


def judge(estate: Estate, who: str, *, drill: str = "drill", **target: object) -> Access:
    return s3_access(
        estate.target(drill=drill, **target),
        AGENT,
        as_agent(estate, who),
        verifier_credentials=estate.keys(drill),
        snapshot_keys=KEYS,
    )


def test_caller_identity_names_the_user_and_its_account(estate: Estate) -> None:
    identity = caller_identity(AGENT, estate.target(), as_agent(estate, "reader"))
    assert identity == Identity("aws", OWNER, f"arn:aws:iam::{OWNER}:user/reader", "sts:GetCallerIdentity")
    assert caller_identity(AGENT, estate.target(), as_agent(estate, "auditor")).account == OTHER


def test_refused_keys_are_an_identity_error_that_never_shows_the_secret(estate: Estate) -> None:
    forged = {"AGENT_KEY": estate.environ["READER_KEY"], "AGENT_SECRET": "not-the-secret-value"}
    with pytest.raises(StorageError, match="sts:GetCallerIdentity refused the keys in AGENT_KEY") as raised:
        caller_identity(AGENT, estate.target(), forged)
    assert raised.value.kind is StorageErrorKind.ACCESS_DENIED
    assert "not-the-secret-value" not in str(raised.value)
    with pytest.raises(StorageError, match="AGENT_SECRET"):
        s3_access(estate.target(), AGENT, {"AGENT_KEY": "x"}, verifier_credentials=estate.keys("drill"))


def test_a_store_that_is_not_aws_without_identity_endpoints_is_asked_neither_sts_nor_iam(
    estate: Estate,
) -> None:
    access = judge(estate, "writer", sts_endpoint_url=None, iam_endpoint_url=None)
    assert isinstance(access.identity, Unavailable) and "no identity API" in access.identity.reason
    assert any("no IAM API" in gap for gap in access.gaps)
    # Only the probes of the real keys speak: the writer's request was authorized.
    assert answer(access, "s3:DeleteObjectVersion").answer is Answer.ALLOWED
    assert answer(access, "s3:DeleteObjectVersion").source is EvidenceSource.PROBE
    assert answer(access, "s3:PutBucketPolicy").answer is Answer.UNKNOWN


def test_policies_read_in_one_call_settle_every_permission_and_name_the_statement(estate: Estate) -> None:
    access = judge(estate, "grouped")
    put = answer(access, "s3:PutObject")
    assert (put.answer, put.source) == (Answer.ALLOWED, EvidenceSource.POLICIES)
    assert put.grant == "group deployers, inline policy 'deployers', Sid 'Deploy'"
    lifecycle = answer(access, "s3:PutLifecycleConfiguration")
    assert lifecycle.grant == "managed policy ci-agent-managed (attached to user grouped), statement 1"
    delete = answer(access, "s3:DeleteObjectVersion")
    assert delete.answer is Answer.DENIED and "nothing grants it" in delete.detail
    assert any("SimulatePrincipalPolicy" in gap for gap in access.gaps)
    assert access.owner == OWNER and "configured account" in access.owner_evidence


def test_without_the_one_call_drill_reads_iam_one_principal_at_a_time_and_agrees(estate: Estate) -> None:
    one_call = judge(estate, "grouped")
    step_by_step = judge(estate, "grouped", drill="nogaad")
    assert any("GetAccountAuthorizationDetails failed" in gap for gap in step_by_step.gaps)
    assert [(a.permission, a.answer, a.grant) for a in step_by_step.permissions] == [
        (a.permission, a.answer, a.grant) for a in one_call.permissions
    ]


def test_unreadable_identity_policies_leave_answers_to_the_probes_of_the_real_keys(estate: Estate) -> None:
    access = judge(estate, "reader", drill="blind")
    assert any("GetAccountAuthorizationDetails failed" in gap for gap in access.gaps)
    version = answer(access, "s3:DeleteObjectVersion")
    assert (version.answer, version.source) == (Answer.DENIED, EvidenceSource.PROBE)
    assert all(key in version.detail for key in KEYS)
    # Nothing safe answers the rest, and what it could do to IAM is unknown: never a pass.
    assert answer(access, "s3:DeleteObject").answer is Answer.UNKNOWN
    assert [item.permission for item in access.escalation] == ["iam:*", "sts:AssumeRole"]
    assert all(item.answer is Answer.UNKNOWN for item in access.escalation)
    assert "roles could not be listed" in access.escalation[1].detail


def test_another_account_that_the_bucket_grants_nothing_is_denied_by_the_bucket(
    estate: Estate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")  # as AWS decides it
    access = judge(estate, "auditor")
    for item in access.permissions:
        assert item.answer is Answer.DENIED, item
    assert "another account" in answer(access, "s3:PutBucketPolicy").detail
    assert access.escalation == ()  # its power in its own account cannot reach this bucket


def test_verifier_access_asks_the_same_of_drills_own_credentials(estate: Estate) -> None:
    access = verifier_access(estate.target(), estate.environ, snapshot_keys=KEYS)
    assert isinstance(access.identity, Identity) and access.identity.principal.endswith(":user/drill")
    assert all(item.answer is Answer.DENIED for item in access.permissions)
    assert access.escalation == ()


def test_any_allowed_answer_wins_and_a_doubtful_policy_stops_weaker_denials() -> None:
    def one(
        permission: str, result: Answer, source: EvidenceSource, detail: str, *, blocks: bool = False
    ) -> dict[str, PermissionAnswer]:
        return {permission: PermissionAnswer(permission, result, source, detail, blocks_weaker=blocks)}

    simulation = one("s3:DeleteObject", Answer.UNKNOWN, EvidenceSource.SIMULATION, "not simulated")
    simulation |= one("s3:DeleteBucket", Answer.UNKNOWN, EvidenceSource.SIMULATION, "not simulated")
    policies = one("s3:DeleteObject", Answer.DENIED, EvidenceSource.POLICIES, "nothing grants it")
    policies |= one(
        "s3:DeleteObjectVersion", Answer.UNKNOWN, EvidenceSource.POLICIES, "aws:SourceIp", blocks=True
    )
    probe = one("s3:DeleteObject", Answer.ALLOWED, EvidenceSource.PROBE, "204")
    probe |= one("s3:DeleteObjectVersion", Answer.DENIED, EvidenceSource.PROBE, "403")
    probe |= one("s3:DeleteBucket", Answer.UNKNOWN, EvidenceSource.PROBE, "never probed")
    combined = {item.permission: item for item in strongest([simulation, policies, probe])}
    assert list(combined) == list(S3_DESTRUCTIVE)
    # A request that was authorized is a fact, whatever a reading of the policies concluded.
    assert (combined["s3:DeleteObject"].answer, combined["s3:DeleteObject"].source) == (
        Answer.ALLOWED,
        EvidenceSource.PROBE,
    )
    # A condition drill cannot decide may let the agent's own requests through: the probe's 403 does not settle it.
    doubtful = combined["s3:DeleteObjectVersion"]
    assert doubtful.answer is Answer.UNKNOWN and doubtful.blocks_weaker and "aws:SourceIp" in doubtful.detail
    assert combined["s3:DeleteBucket"].detail == "not simulated; never probed"
    assert combined["s3:PutObject"].detail == "no source answered"
