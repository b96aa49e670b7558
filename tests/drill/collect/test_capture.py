"""Today's records captured from facts: every part read or unread on its own, holders never
taken for powerless when their trust evidence is missing. Pure: facts built by hand."""

from __future__ import annotations

from dataclasses import replace

from drill.collect.capture import FILESYSTEM_WRITE, target_record
from drill.config import TargetType
from drill.facts import Unavailable, VerifierTargetFacts
from drill.facts.posture import DocumentDigest
from tests import factories, postures


def _settings(record: object) -> dict[str, object]:
    return {setting.name: setting for setting in record.settings}  # type: ignore[attr-defined]


def test_an_s3_posture_records_each_setting_with_its_strength() -> None:
    posture = postures.s3(days=30)
    facts = factories.target_posture_facts(posture)
    verifier = VerifierTargetFacts(facts.target, factories.NOW, None, facts)
    record = target_record(facts, [], verifier)
    settings = _settings(record)
    lock = settings["default lock days"]
    assert (lock.value, lock.strength) == (30, 30)  # type: ignore[attr-defined]
    assert settings["default lock mode"].strength > 0  # type: ignore[attr-defined]
    # The postures here carry no policy or ACL digests: unread, never "none".
    assert settings["bucket ACL"].unread is not None  # type: ignore[attr-defined]


def test_a_policy_digest_is_recorded_by_its_hash_and_described() -> None:
    digest = DocumentDigest("ab" * 32, 3, "statement")
    facts = factories.target_posture_facts(replace(postures.s3(), policy=digest, acl=digest))
    record = target_record(facts, [], VerifierTargetFacts(facts.target, factories.NOW, None, facts))
    policy = _settings(record)["bucket policy"]
    assert policy.value == "ab" * 32 and policy.text() == "3 statements, sha256 abababababab"  # type: ignore[attr-defined]
    assert policy.strength is None  # type: ignore[attr-defined]  # a digest cannot be ordered


def test_an_unreadable_posture_names_every_setting_as_unread() -> None:
    facts = factories.target_posture_facts(Unavailable("s3:GetBucketVersioning denied"))
    record = target_record(facts, [], None, ("ci",))
    assert all(setting.unread for setting in record.settings if setting.name != "location")
    assert record.lifecycle_unread == "s3:GetBucketVersioning denied"
    # No trust evidence (the run was stopped first): every holder is unread, none powerless.
    assert [(holder.agent, bool(holder.unread)) for holder in record.holders] == [(None, True), ("ci", True)]


def test_drill_writing_a_filesystem_target_is_a_power() -> None:
    model = factories.target("nas", type=TargetType.FILESYSTEM)
    facts = factories.target_posture_facts(postures.filesystem(), target_model=model)
    writable = VerifierTargetFacts(model, factories.NOW, None, facts, writable_path=True)
    [drill] = target_record(facts, [], writable).holders
    assert [power.permission for power in drill.powers] == [FILESYSTEM_WRITE]
    read_only = VerifierTargetFacts(model, factories.NOW, None, facts, writable_path=False)
    [drill] = target_record(facts, [], read_only).holders
    assert drill.powers == ()
