"""Learning the backup credentials from the config: variables, credentials files, key files."""

from __future__ import annotations

import shutil
from pathlib import Path

from drill.config import Config, Credentials, Target, TargetType
from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.learn import known_credentials
from tests.exposure import ENVIRON, KEY_ID, OTHER_KEY_ID, OTHER_SECRET, SECRET, SERVICE_ACCOUNT


def test_knows_variables_and_the_named_profile_each_reaching_its_targets(known: KnownCredentials) -> None:
    by_what = {value.what: value for value in known.values}
    # vault names the secret by its variable, offsite holds it in its credentials file.
    assert by_what["secret access key (variable BACKUP_SECRET)"].targets == ("vault", "offsite")
    assert by_what["session token (variable BACKUP_TOKEN)"].kind is SightingKind.KNOWN_SECRET
    # The same key id is in a variable of vault and in offsite's credentials file: one value, both targets.
    [key_id] = [value for value in known.values if value.value == KEY_ID.encode()]
    assert key_id.kind is SightingKind.KNOWN_KEY_ID and key_id.targets == ("vault", "offsite")
    # Only the named profile of the credentials file is a backup credential.
    assert all(value.value != OTHER_SECRET.encode() for value in known.values)
    assert [account.email for account in known.service_accounts] == [SERVICE_ACCOUNT]
    assert len(known.files) == 2


def test_knows_every_profile_when_none_is_named(secrets_dir: Path) -> None:
    config = Config(
        targets=(
            Target(
                name="vault",
                type=TargetType.S3,
                bucket="b",
                site="aws",
                credentials=Credentials(credentials_file=str(secrets_dir / "aws-credentials")),
            ),
        )
    )
    values = {value.value for value in known_credentials(config, {}).values}
    assert {KEY_ID.encode(), SECRET.encode(), OTHER_KEY_ID.encode(), OTHER_SECRET.encode()} <= values


def test_a_profile_alone_is_read_from_the_sdk_default_file(secrets_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    shutil.copy(secrets_dir / "aws-credentials", home / ".aws" / "credentials")
    config = Config(
        targets=(
            Target(
                name="vault",
                type=TargetType.S3,
                bucket="b",
                site="aws",
                credentials=Credentials(profile="backup"),
            ),
        )
    )
    values = {value.value for value in known_credentials(config, {"HOME": str(home)}).values}
    assert values == {KEY_ID.encode(), SECRET.encode()}


def test_unset_variables_unreadable_files_and_short_values_are_simply_not_known(tmp_path: Path) -> None:
    config = Config(
        targets=(
            Target(
                name="vault",
                type=TargetType.S3,
                bucket="b",
                site="aws",
                credentials=Credentials(access_key_id_env="SHORT", secret_access_key_env="UNSET"),
            ),
            Target(
                name="gvault",
                type=TargetType.GCS,
                bucket="g",
                site="gcp",
                credentials=Credentials(service_account_file=str(tmp_path / "absent.json")),
            ),
        )
    )
    assert known_credentials(config, ENVIRON) == KnownCredentials()
