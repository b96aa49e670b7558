"""Read one pgbackrest target: its stanza's config, ``info``, and each repository's WAL listing.

Each repository of the stanza (or the one the target names) becomes one copy: a target of the
kind its storage is (an s3 or gcs bucket, a local directory) so that the bucket's protection,
lifecycle and trust are judged as any such target's are, and the stanza's facts about it. What
could not be read is ``Unavailable`` with the reason, per repository where the reason is one's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from drill.config import Target, TargetType
from drill.facts.pgbackrest import RepoSettings, StanzaBackup, StanzaRepo, WalArchive
from drill.model import Unavailable
from drill.storage.pgbackrest.command import PgBackRest, PgBackRestFailed, find_program, passed_on
from drill.storage.pgbackrest.conf import SECRET_OPTIONS, ConfigUnreadable, StanzaConfig, read_stanza_config
from drill.storage.pgbackrest.info import InfoRepo, InfoUnreadable, StanzaInfo, parse_info
from drill.storage.pgbackrest.wal import (
    Segment,
    holds_between,
    is_segment_name,
    log_directory,
    missing_between,
    parse_segment,
    segment_size_of,
)

_AWS_ENDPOINT = ("s3.amazonaws.com", ".amazonaws.com")
_GCS_ENDPOINT = "storage.googleapis.com"
_MAX_DIRECTORIES = 64  # archive directories listed per repository (each holds a log: 4 GiB of WAL)


@dataclass(frozen=True)
class RepoCopy:
    """One repository as a copy: the target it is judged as, and what the stanza says about it.

    ``storage`` says why drill cannot read the repository's storage itself (an Azure container,
    a repository on another host), or None when it can.
    """

    target: Target
    repo: StanzaRepo | Unavailable
    storage: Unavailable | None = None


def stanza_secrets(config: StanzaConfig, environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every secret value of the stanza: its config's secure options and pgBackRest's variables for them."""
    values = [value for _, _, value in config.secrets]
    for name, value in passed_on(environ).items():
        option = name.removeprefix("PGBACKREST_").lower().replace("_", "-")
        if any(option.endswith(f"-{secret}") or option == secret for secret in SECRET_OPTIONS):
            values.append(value)
    return tuple(value for value in values if value)


def runner_for(target: Target, config: StanzaConfig, environ: Mapping[str, str]) -> PgBackRest:
    assert target.stanza is not None  # validated with the config
    return PgBackRest(
        program=find_program(environ),
        stanza=target.stanza,
        config=target.config,
        variables=passed_on(environ),
        secrets=stanza_secrets(config, environ),
    )


def read_stanza(target: Target, environ: Mapping[str, str], *, timeout: float) -> tuple[RepoCopy, ...]:
    """One copy per repository of the target's stanza; a stanza that cannot be read at all is one
    copy named after the target, Unavailable with the reason."""
    assert target.stanza is not None
    try:
        config = read_stanza_config(target.stanza, target.config, environ)
        pgbackrest = runner_for(target, config, environ)
        info = parse_info(pgbackrest.run("info", "--output=json", timeout=timeout), target.stanza)
    except (ConfigUnreadable, PgBackRestFailed, InfoUnreadable) as error:
        return (RepoCopy(target, Unavailable(str(error)), Unavailable(str(error))),)
    keys = [repo.key for repo in info.repos if target.repo in (None, repo.key)]
    if not keys:
        found = ", ".join(f"repo{repo.key}" for repo in info.repos) or "none"
        reason = f"Stanza {target.stanza} has no repo{target.repo} (its repositories: {found})."
        return (RepoCopy(target, Unavailable(reason), Unavailable(reason)),)
    return tuple(
        _copy(target, config, info, key, pgbackrest, several=target.repo is None, timeout=timeout)
        for key in keys
    )


def _copy(
    target: Target,
    config: StanzaConfig,
    info: StanzaInfo,
    key: int,
    pgbackrest: PgBackRest,
    *,
    several: bool,
    timeout: float,
) -> RepoCopy:
    settings = config.repo(key) or RepoSettings(key=key, type="posix", path="/var/lib/pgbackrest")
    found = info.repo(key)
    assert found is not None
    repo = StanzaRepo(
        stanza=info.name,
        config=target.config,
        settings=settings,
        status_code=found.status_code,
        status=found.status,
        backups=found.backups,
        archive=_archive(pgbackrest, info.name, found, timeout=timeout),
        pg_versions=found.pg_versions,
        cipher=found.cipher,
    )
    copy, storage = repo_target(target, settings, several=several)
    if isinstance(copy, Unavailable):
        return RepoCopy(_placeholder(target, key, several), copy, copy)
    return RepoCopy(copy, repo, storage)


def repo_target(
    target: Target, settings: RepoSettings, *, several: bool
) -> tuple[Target | Unavailable, Unavailable | None]:
    """The target a repository is judged as, and why drill cannot read its storage (None: it can).

    Its site is the configured target's; without one, an s3 or gcs repository is its bucket's
    location, and any other is Unavailable: drill cannot tell where a directory is."""
    name = f"{target.name}.repo{settings.key}" if several else target.name
    if settings.host is not None or settings.type not in ("s3", "gcs", "posix", "cifs"):
        where = f"on host {settings.host}" if settings.host else f"of type {settings.type}"
        reason = (
            f"repo{settings.key} of stanza {target.stanza} is {where}; drill reads the storage of s3, gcs and "
            "local repositories only"
        )
        if not target.site:
            return Unavailable(f"{reason}, and target {target.name} names no site for it."), None
        return _placeholder(target, settings.key, several), Unavailable(reason + ".")
    if settings.type in ("posix", "cifs"):
        if not target.site:
            return (
                Unavailable(
                    f"Target {target.name} names no site, and repo{settings.key} of stanza {target.stanza} is a "
                    f"{settings.type} directory: drill cannot tell its failure domain. Set site."
                ),
                None,
            )
        return _derived(target, name, TargetType.FILESYSTEM, path=settings.path, site=target.site), None
    kind = TargetType.S3 if settings.type == "s3" else TargetType.GCS
    derived = _derived(
        target,
        name,
        kind,
        bucket=settings.bucket or "",
        prefix=settings.path.strip("/"),
        endpoint_url=target.endpoint_url or _endpoint_url(settings),
        region=target.region or settings.region,
        sts_endpoint_url=target.sts_endpoint_url if kind is TargetType.S3 else None,
        iam_endpoint_url=target.iam_endpoint_url if kind is TargetType.S3 else None,
        site=target.site or "pending",
    )
    if not target.site:
        # No site named: the bucket is its own failure domain, apart from wherever the database runs.
        derived = derived.model_copy(update={"site": derived.location})
    return derived, None


def _derived(target: Target, name: str, kind: TargetType, **location: str | None) -> Target:
    """The target a repository's storage is judged as: the configured target's credentials, owner and
    writer, the repository's own location."""
    return Target.model_validate(
        {
            "name": name,
            "type": kind,
            "media": target.media,
            "credentials": target.credentials,
            "account": target.account,
            "writer": target.writer,
            **{key: value for key, value in location.items() if value is not None},
        }
    )


def _placeholder(target: Target, key: int, several: bool) -> Target:
    name = f"{target.name}.repo{key}" if several else target.name
    return target.model_copy(update={"name": name, "repo": key})


def _endpoint_url(settings: RepoSettings) -> str | None:
    """Where drill's own client reads the repository's bucket: the repository's endpoint, unless it
    is the provider's own (then the SDK's default)."""
    endpoint = settings.endpoint
    if endpoint is None or endpoint == _GCS_ENDPOINT or endpoint.endswith(_AWS_ENDPOINT):
        return None
    port = f":{settings.port}" if settings.port and settings.port != 443 else ""
    return f"https://{endpoint}{port}"


def _archive(
    pgbackrest: PgBackRest, stanza: str, repo: InfoRepo, *, timeout: float
) -> WalArchive | Unavailable:
    """The archive's ends from info, and the holes from the latest backup's first segment on."""
    latest = repo.backups[-1] if repo.backups else None
    size = _segment_size(latest)
    archive = WalArchive(repo.archive_id, repo.archive_min, repo.archive_max, size)
    if (
        latest is None
        or latest.wal is None
        or size is None
        or repo.archive_id is None
        or repo.archive_max is None
    ):
        return archive
    try:
        first = parse_segment(latest.wal.start, size)
        stop = parse_segment(latest.wal.stop, size)
        last = max(parse_segment(repo.archive_max, size), stop)
        listed = _listed(pgbackrest, repo, f"archive/{stanza}/{repo.archive_id}", first, last, size, timeout)
    except (PgBackRestFailed, ValueError) as error:
        return Unavailable(f"The WAL archive of repo{repo.key} could not be listed: {error}")
    missing, count = missing_between(listed, first, last)
    own, _ = missing_between(listed, first, stop)
    return WalArchive(
        repo.archive_id,
        repo.archive_min,
        repo.archive_max,
        size,
        listed_from=latest.wal.start,
        listed_segments=len(
            {segment.number for segment in listed if first.number <= segment.number <= last.number}
        ),
        missing=tuple(segment.name(size) for segment in missing),
        missing_count=count,
        backup_range_missing=tuple(segment.name(size) for segment in own),
    )


def _segment_size(backup: StanzaBackup | None) -> int | None:
    if backup is None or backup.wal is None or backup.lsn_start is None:
        return None
    return segment_size_of(backup.lsn_start, backup.wal.start)


def _listed(  # noqa: PLR0917 (private; every argument is needed and distinct)
    pgbackrest: PgBackRest,
    repo: InfoRepo,
    path: str,
    first: Segment,
    last: Segment,
    size: int,
    timeout: float,
) -> list[Segment]:
    directories = [
        name
        for name in _ls(pgbackrest, repo.key, path, timeout)
        if (where := log_directory(name)) is not None and holds_between(where, first, last, size)
    ]
    if len(directories) > _MAX_DIRECTORIES:
        raise ValueError(
            f"the WAL since the latest backup spans {len(directories)} archive directories, more than drill lists "
            f"({_MAX_DIRECTORIES}, {_MAX_DIRECTORIES * 4} GiB of WAL)"
        )
    segments: list[Segment] = []
    for directory in sorted(directories):
        for name in _ls(pgbackrest, repo.key, f"{path}/{directory}", timeout):
            # "<segment>-<sha1>[.gz|.lz4|...]"; .backup, .history and .partial files are no segment.
            segment = name[:24]
            if len(name) > 24 and name[24] == "-" and is_segment_name(segment):
                segments.append(parse_segment(segment, size))
    return segments


def _ls(pgbackrest: PgBackRest, key: int, path: str, timeout: float) -> list[str]:
    output = pgbackrest.run("repo-ls", f"--repo={key}", "--output=json", timeout=timeout, arguments=(path,))
    try:
        listing = json.loads(output)
    except json.JSONDecodeError as error:
        raise ValueError(f"repo-ls of {path} did not print JSON: {error}") from None
    if not isinstance(listing, dict):
        raise ValueError(f"repo-ls of {path} printed JSON that is not a listing")
    return [name for name in listing if name != "."]


def describe_stanza(target: Target, environ: Mapping[str, str], *, timeout: float) -> list[str]:
    """What ``drill validate`` says of a pgbackrest target: one line per repository found (its storage
    and cipher, never a secret); PgBackRestFailed, ConfigUnreadable or InfoUnreadable when the stanza
    cannot be read or does not exist."""
    assert target.stanza is not None
    config = read_stanza_config(target.stanza, target.config, environ)
    info = parse_info(
        runner_for(target, config, environ).run("info", "--output=json", timeout=timeout), target.stanza
    )
    if info.status_code == 1 or not info.repos:  # 1: "missing stanza path"
        raise InfoUnreadable(f"stanza {target.stanza} does not exist: pgBackRest says {info.status!r}.")
    lines = []
    for repo in info.repos:
        if target.repo not in (None, repo.key):
            continue
        settings = config.repo(repo.key) or RepoSettings(
            key=repo.key, type="posix", path="/var/lib/pgbackrest"
        )
        lines.append(
            f"repo{repo.key}: {settings.describe_storage()}, cipher {repo.cipher}, {len(repo.backups)} backup(s), "
            f"{repo.status}"
        )
    if not lines:
        raise InfoUnreadable(f"stanza {target.stanza} has no repo{target.repo}.")
    return lines
