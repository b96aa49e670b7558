"""The credential scan on real files: what it finds, where, masked, and what it refuses to follow."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drill.config import Agent, Config, Credentials, Target, TargetType
from drill.model import Unavailable
from drill.trust.exposure import (
    KnownCredentials,
    _pseudo_filesystem,
    collect_agents,
    known_credentials,
    mask_identifier,
    mask_secret,
    scan,
)
from drill.trust_facts import Exposure, SightingKind
from tests.factories import NOW

KEY_ID = "AKIAZ7Q2BACKUPWR1TER"
SECRET = "q8Vd2Lr/T0pXk4NwZ7sB1mYcH3jE6uGf9aKx5RtW"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "Ab1Cd2Ef3Gh4" * 12
OTHER_KEY_ID = "AKIAQQQQOTHERUSER001"
OTHER_SECRET = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp/Oo+Nn1M"
SERVICE_ACCOUNT = "backup-writer@vault-project.iam.gserviceaccount.com"
ENVIRON = {"BACKUP_KEY_ID": KEY_ID, "BACKUP_SECRET": SECRET, "BACKUP_TOKEN": SESSION_TOKEN, "SHORT": "abc"}

assert len(SECRET) == 40 and len(OTHER_SECRET) == 40 and len(KEY_ID) == 20


def private_key(seed: int) -> str:
    # Distinct lines, as in a real key: a periodic body would repeat the probed line.
    raw = b"".join(hashlib.sha256(f"{seed}:{block}".encode()).digest() for block in range(38))
    body = base64.b64encode(raw).decode()
    lines = [body[start : start + 64] for start in range(0, len(body), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def service_account(key_id: str, key: str, email: str = SERVICE_ACCOUNT) -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": "vault-project",
        "private_key_id": key_id,
        "private_key": key,
        "client_email": email,
        "token_uri": "https://oauth2.googleapis.com/token",
    }


BACKUP_KEY = private_key(1)
BACKUP_KEY_ID = "3f1c0e9a7b2d4c6e8f0a1b2c3d4e5f6a7b8c9d0e"


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    """Where drill's config keeps the targets' credential files: outside every agent's paths."""
    directory = tmp_path / "drill-secrets"
    directory.mkdir()
    (directory / "aws-credentials").write_text(
        f"[backup]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n\n"
        f"[unrelated]\naws_access_key_id = {OTHER_KEY_ID}\naws_secret_access_key = {OTHER_SECRET}\n"
    )
    (directory / "sa.json").write_text(json.dumps(service_account(BACKUP_KEY_ID, BACKUP_KEY)))
    return directory


@pytest.fixture
def config(secrets_dir: Path) -> Config:
    return Config(
        targets=(
            Target(
                name="vault",
                type=TargetType.S3,
                bucket="vault-bucket",
                site="aws:1",
                credentials=Credentials(
                    access_key_id_env="BACKUP_KEY_ID",
                    secret_access_key_env="BACKUP_SECRET",
                    session_token_env="BACKUP_TOKEN",
                ),
            ),
            Target(
                name="offsite",
                type=TargetType.S3,
                bucket="offsite-bucket",
                site="aws:2",
                credentials=Credentials(
                    credentials_file=str(secrets_dir / "aws-credentials"), profile="backup"
                ),
            ),
            Target(
                name="gvault",
                type=TargetType.GCS,
                bucket="gvault-bucket",
                site="gcp:1",
                credentials=Credentials(service_account_file=str(secrets_dir / "sa.json")),
            ),
        )
    )


@pytest.fixture
def known(config: Config) -> KnownCredentials:
    return known_credentials(config, ENVIRON)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "workspace"
    directory.mkdir()
    return directory


def agent(*paths: Path, env_file: Path | None = None) -> Agent:
    return Agent(
        name="coder", paths=tuple(str(path) for path in paths), env_file=str(env_file) if env_file else None
    )


def assert_no_secret(exposure: Exposure | Unavailable) -> None:
    shown = repr(exposure) + str(exposure)
    for secret in (
        SECRET,
        OTHER_SECRET,
        SESSION_TOKEN,
        "BEGIN PRIVATE KEY",
        BACKUP_KEY.splitlines()[2],
        "hunter2pg",
    ):
        assert secret not in shown


# ---------------------------------------------------------------------------------------------
# What drill knows


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


def test_known_credentials_never_show_a_secret(known: KnownCredentials) -> None:
    shown = repr(known) + str(known)
    assert SECRET not in shown and SESSION_TOKEN not in shown and BACKUP_KEY.splitlines()[2] not in shown
    assert KEY_ID not in shown


# ---------------------------------------------------------------------------------------------
# Known credentials in the agent's paths


def test_env_file_holding_the_backup_secret_on_line_3_is_a_known_secret_masked(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / ".env").write_text(f"# app settings\nDEBUG=1\nAWS_SECRET_ACCESS_KEY={SECRET}\n")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.path == str(workspace / ".env")
    assert sighting.line == 3
    assert sighting.kind is SightingKind.KNOWN_SECRET
    assert sighting.masked == "•••• (40 characters)"
    assert sighting.targets == ("vault", "offsite")
    assert "BACKUP_SECRET" in sighting.what
    assert_no_secret(exposure)


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


def test_a_copy_of_a_targets_credentials_file_is_one_known_key_file(
    workspace: Path, secrets_dir: Path, known: KnownCredentials
) -> None:
    shutil.copy(secrets_dir / "aws-credentials", workspace / "creds.bak")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE
    assert sighting.line is None
    assert sighting.targets == ("offsite",)
    assert_no_secret(exposure)


def test_copied_service_account_json_of_a_target(
    workspace: Path, secrets_dir: Path, known: KnownCredentials
) -> None:
    shutil.copy(secrets_dir / "sa.json", workspace / "key.json")
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE and sighting.targets == ("gvault",)


def test_reformatted_service_account_json_is_found_by_its_key_id_and_private_key(
    workspace: Path, known: KnownCredentials
) -> None:
    document = service_account(BACKUP_KEY_ID, BACKUP_KEY)
    (workspace / "pretty.json").write_text(json.dumps(document, indent=2))
    exposure = scan(agent(workspace), known)
    kinds = {sighting.line: sighting.kind for sighting in exposure.sightings}
    assert kinds == {4: SightingKind.KNOWN_KEY_ID, 5: SightingKind.KNOWN_SECRET}
    [key] = [sighting for sighting in exposure.sightings if sighting.kind is SightingKind.KNOWN_SECRET]
    assert key.masked == f"•••• ({len(BACKUP_KEY)} characters)" and key.targets == ("gvault",)
    assert_no_secret(exposure)


def test_private_key_extracted_to_a_pem_file_is_found(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "key.pem").write_text(BACKUP_KEY)
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_SECRET and sighting.line == 3


def test_another_key_of_the_backup_service_account_reaches_the_backups(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / "new-key.json").write_text(json.dumps(service_account("9" * 40, private_key(2))))
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_KEY_FILE
    assert sighting.targets == ("gvault",)
    assert SERVICE_ACCOUNT in sighting.what


def test_session_token_in_a_shell_history_is_known(workspace: Path, known: KnownCredentials) -> None:
    (workspace / ".bash_history").write_text(f"ls\ncd /srv\nexport AWS_SESSION_TOKEN={SESSION_TOKEN}\n")
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.kind is SightingKind.KNOWN_SECRET and sighting.line == 3
    assert "session token" in sighting.what


# ---------------------------------------------------------------------------------------------
# Credential shapes drill cannot tie to a backup


def test_unrelated_service_account_json_is_a_credential_file(
    workspace: Path, known: KnownCredentials
) -> None:
    document = service_account("8" * 40, private_key(3), email="ci@other.iam.gserviceaccount.com")
    (workspace / "ci.json").write_text(json.dumps(document, indent=2))
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE and sighting.line == 5
    assert "ci@other" in sighting.what
    assert "PRIVATE KEY" not in repr(exposure)


def test_pgpass_lines_are_credentials_masked(workspace: Path, known: KnownCredentials) -> None:
    (workspace / ".pgpass").write_text("# prod\ndb.internal:5432:orders:app:hunter2pg\n*:*:*:readonly:\n")
    exposure = scan(agent(workspace), known)
    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE
    assert sighting.line == 2
    assert sighting.what == "PostgreSQL password of app@db.internal:5432/orders (pgpass)"
    assert sighting.masked == "•••• (9 characters)"
    assert_no_secret(exposure)


def test_env_file_credentials_and_the_configured_env_file_whatever_its_name(
    workspace: Path, tmp_path: Path, known: KnownCredentials
) -> None:
    (workspace / ".env.production").write_text(
        "PORT=8080\nSTRIPE_API_KEY=sk_live_abcdef123456\nTOKEN_TTL=3600\nDB_PASSWORD=${VAULT_DB}\n"
    )
    env_file = tmp_path / "agent-settings.conf"
    env_file.write_text("GOOGLE_APPLICATION_CREDENTIALS=/etc/keys/ci.json\nPGPASSWORD='hunter2pg'\n")
    exposure = scan(agent(workspace, env_file=env_file), known)
    found = {(Path(sighting.path).name, sighting.line): sighting for sighting in exposure.sightings}
    assert set(found) == {(".env.production", 2), ("agent-settings.conf", 1), ("agent-settings.conf", 2)}
    assert found["agent-settings.conf", 1].masked == "/etc…json"
    assert found["agent-settings.conf", 2].masked == "•••• (9 characters)"
    assert all(sighting.kind is SightingKind.CREDENTIAL_FILE for sighting in exposure.sightings)
    assert exposure.scanned == (str(workspace), str(env_file))
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


def test_clean_tree_has_no_sightings_and_counts_what_it_read(
    workspace: Path, known: KnownCredentials
) -> None:
    (workspace / "README.md").write_text("hello\n")
    (workspace / "src").mkdir()
    (workspace / "src" / "main.py").write_text("print('hi')\n")
    exposure = scan(agent(workspace), known)
    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 2
    assert exposure.stats.bytes_scanned == len("hello\n") + len("print('hi')\n")
    assert exposure.stats.unreadable == () and not exposure.stats.truncated


# ---------------------------------------------------------------------------------------------
# Bounds


def test_symlink_out_of_the_tree_is_never_followed(
    workspace: Path, tmp_path: Path, known: KnownCredentials
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (workspace / "linked-dir").symlink_to(outside)
    (workspace / "linked.env").symlink_to(outside / ".env")
    exposure = scan(agent(workspace), known)
    assert exposure.sightings == ()
    assert exposure.stats.skipped_symlinks == 2
    assert exposure.stats.files_scanned == 0


def test_symlink_loop_ends_and_each_file_is_read_once(workspace: Path, known: KnownCredentials) -> None:
    nested = workspace / "a" / "b"
    nested.mkdir(parents=True)
    (nested / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (nested / "up").symlink_to(workspace)  # a -> b -> up -> a -> ...
    (workspace / "again.env").symlink_to(nested / ".env")
    exposure = scan(agent(workspace), known)
    assert exposure.stats.files_scanned == 1
    assert len(exposure.sightings) == 1
    assert exposure.stats.skipped_symlinks == 0


def test_overlapping_roots_read_each_file_once(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    exposure = scan(agent(workspace, workspace / "sub", workspace / "sub" / ".env"), known)
    assert exposure.stats.files_scanned == 1 and len(exposure.sightings) == 1


def test_binary_file_is_skipped_even_with_the_secret_inside(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "app.bin").write_bytes(b"\x7fELF\x00\x01" + SECRET.encode() + b"\x00" * 100)
    exposure = scan(agent(workspace), known)
    assert exposure.sightings == ()
    assert exposure.stats.skipped_binary == 1 and exposure.stats.files_scanned == 0


def test_file_above_the_size_limit_is_skipped(workspace: Path, known: KnownCredentials) -> None:
    (workspace / "big.log").write_text("x" * 5000 + f"\n{SECRET}\n")
    (workspace / "small.txt").write_text("fine\n")
    exposure = scan(agent(workspace), known, max_file_bytes=4096)
    assert exposure.sightings == ()
    assert exposure.stats.skipped_large == 1 and exposure.stats.files_scanned == 1


def test_file_limit_truncates_the_scan(workspace: Path, known: KnownCredentials) -> None:
    for index in range(10):
        (workspace / f"file-{index:02}.txt").write_text("nothing\n")
    exposure = scan(agent(workspace), known, max_files=4)
    assert exposure.stats.truncated
    assert exposure.stats.files_scanned == 4


def test_version_control_objects_are_skipped_but_git_config_is_read(
    workspace: Path, known: KnownCredentials
) -> None:
    objects = workspace / ".git" / "objects" / "ab"
    objects.mkdir(parents=True)
    (objects / "cdef").write_text(f"{SECRET}\n")
    (workspace / ".git" / "config").write_text(f'[remote "origin"]\n\turl = https://x:{SECRET}@git.example\n')
    [sighting] = scan(agent(workspace), known).sightings
    assert sighting.path == str(workspace / ".git" / "config") and sighting.line == 2


def test_missing_root_is_reported_and_the_others_are_scanned(
    workspace: Path, tmp_path: Path, known: KnownCredentials
) -> None:
    (workspace / "ok.txt").write_text("fine\n")
    exposure = scan(agent(workspace, tmp_path / "gone"), known)
    assert exposure.scanned == (str(workspace),)
    assert exposure.missing == (str(tmp_path / "gone"),)


def test_fifo_and_dangling_link_are_not_read_and_do_not_hang(
    workspace: Path, known: KnownCredentials
) -> None:
    os.mkfifo(workspace / "pipe")
    (workspace / "dangling").symlink_to(workspace / "never-written")
    exposure = scan(agent(workspace), known)
    assert exposure.stats.files_scanned == 0
    # Neither holds content: a FIFO is not a file, a dangling link inside the tree points at nothing.
    assert exposure.stats.unreadable == () and exposure.stats.skipped_symlinks == 0


# ---------------------------------------------------------------------------------------------
# Unreadable files. Root reads everything whatever the mode, so as root these scans run in a
# forked child that drops to ``nobody``, inside a directory nobody can traverse to.


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="drill-exposure-"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def _as_unprivileged(function: Callable[[], Any]) -> Any:
    if os.geteuid() != 0:
        return function()
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def child() -> None:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        results.put(function())

    process = context.Process(target=child)
    process.start()
    result = results.get(timeout=30)
    process.join(timeout=30)
    return result


def test_unreadable_file_is_listed_and_the_rest_still_scanned(
    shared_dir: Path, known: KnownCredentials
) -> None:
    (shared_dir / "locked.env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (shared_dir / "locked.env").chmod(0o000)
    (shared_dir / "open.env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (shared_dir / "open.env").chmod(0o644)
    exposure: Exposure = _as_unprivileged(lambda: scan(agent(shared_dir), known))
    assert exposure.stats.unreadable == (str(shared_dir / "locked.env"),)
    assert [Path(sighting.path).name for sighting in exposure.sightings] == ["open.env"]


def test_unlistable_root_makes_the_agents_exposure_unavailable(shared_dir: Path, config: Config) -> None:
    locked = shared_dir / "locked"
    locked.mkdir(mode=0o000)
    locked.chmod(0o000)
    config = config.model_copy(update={"agents": (agent(locked),)})
    [facts] = _as_unprivileged(lambda: collect_agents(config, NOW, ENVIRON))
    assert isinstance(facts.exposure, Unavailable)
    assert "Permission denied" in facts.exposure.reason and str(locked) in facts.exposure.reason


# ---------------------------------------------------------------------------------------------
# Every agent


def test_collect_agents_scans_every_agent_in_config_order(tmp_path: Path, config: Config) -> None:
    agents = []
    for index in range(5):
        home = tmp_path / f"agent-{index}"
        home.mkdir()
        if index == 3:
            (home / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
        agents.append(Agent(name=f"agent-{index}", paths=(str(home),)))
    agents.append(Agent(name="no-paths"))
    facts = collect_agents(config.model_copy(update={"agents": tuple(agents)}), NOW, ENVIRON)
    assert [item.agent.name for item in facts] == [*(f"agent-{index}" for index in range(5)), "no-paths"]
    exposures = [item.exposure for item in facts]
    assert all(isinstance(exposure, Exposure) for exposure in exposures)
    assert [len(exposure.sightings) for exposure in exposures if isinstance(exposure, Exposure)] == [
        0,
        0,
        0,
        1,
        0,
        0,
    ]
    assert all(item.now == NOW for item in facts)


def test_masks_never_show_most_of_a_value() -> None:
    assert mask_identifier("AKIAZ7Q2BACKUPWR1TER") == "AKIA…1TER"
    assert mask_identifier("ab12cd34ef") == "ab…ef"
    assert mask_identifier("short") == "•••• (5 characters)"
    assert mask_secret(40) == "•••• (40 characters)"


def test_a_walk_from_the_filesystem_root_never_enters_proc(tmp_path: Path, known: KnownCredentials) -> None:
    # /proc/self/environ holds this process's environment: entering it would "find" drill's own secrets.
    link = tmp_path / "proc"
    link.symlink_to("/proc")
    assert _pseudo_filesystem("/proc") and _pseudo_filesystem(str(link))
    assert not _pseudo_filesystem(str(tmp_path))
    exposure = scan(Agent(name="root-agent", paths=("/",)), known, max_files=50)
    assert all(not sighting.path.startswith(("/proc", "/sys", "/dev")) for sighting in exposure.sightings)
