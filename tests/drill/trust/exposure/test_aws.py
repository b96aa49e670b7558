"""AWS credentials in an agent's files: a backup key id in a credentials file, any key id anywhere."""

from __future__ import annotations

from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import KEY_ID, OTHER_SECRET, agent, assert_no_secret


def test_aws_credentials_file_with_the_known_key_id(workspace: Path, known: KnownCredentials) -> None:
    aws = workspace / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {OTHER_SECRET}\n"
    )
    exposure = scan(agent(workspace), known)
    by_line = {sighting.line: sighting for sighting in exposure.sightings}
    assert by_line[2].kind is SightingKind.KNOWN_KEY_ID
    assert by_line[2].masked == "AKIA…1TER"
    assert by_line[2].targets == ("vault", "offsite")
    # The secret beside it is not a backup credential, but it is a credential all the same.
    assert by_line[3].kind is SightingKind.CREDENTIAL_FILE
    assert by_line[3].what == "AWS secret access key"
    assert len(exposure.sightings) == 2
    assert_no_secret(exposure)


def test_unknown_aws_key_id_anywhere_but_not_the_documentation_example(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / "deploy.py").write_text(
        'client = make(key="AKIAQQQQOTHERUSER001")\n'
        'example = "AKIAIOSFODNN7EXAMPLE"\n'
        "    aws_secret_access_key=secret,\n"
    )
    [sighting] = scan(agent(workspace), known).sightings
    assert (sighting.kind, sighting.line, sighting.what) == (
        SightingKind.CREDENTIAL_FILE,
        1,
        "an AWS access key id",
    )
    assert sighting.masked == "AKIA…R001"
