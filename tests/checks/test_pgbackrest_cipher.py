from drill.checks.pgbackrest_cipher import pgbackrest_cipher
from drill.engine import evaluate
from drill.model import Status
from tests import postures
from tests import stanza_facts as stanza

SPEC = pgbackrest_cipher.__drill_check__  # type: ignore[attr-defined]


def test_an_encrypted_bucket_repository_passes() -> None:
    encrypted = stanza.repo(settings=stanza.s3_settings(cipher_type="aes-256-cbc"), cipher="aes-256-cbc")
    [finding] = evaluate(SPEC, stanza.facts(encrypted, posture=postures.s3()))
    assert finding.status is Status.PASS and "aes-256-cbc" in finding.message


def test_an_unencrypted_bucket_repository_warns() -> None:
    [finding] = evaluate(
        SPEC, stanza.facts(stanza.repo(settings=stanza.s3_settings()), posture=postures.s3())
    )
    assert finding.status is Status.WARN
    assert "s3 bucket repo-main" in finding.message and "not encrypted" in finding.message


def test_an_unencrypted_local_directory_passes_inside_the_trust_domain() -> None:
    [finding] = evaluate(SPEC, stanza.facts())
    assert finding.status is Status.PASS and finding.evidence.local
