"""pgBackRest's own config, read as pgBackRest reads it: the file, its sections, the environment.

What drill needs from it is what ``pgbackrest info`` does not say: where each repository is (its
type, path, bucket, endpoint), its cipher type and its retention settings. Sections are searched
as pgBackRest searches them (``[stanza:command]``, ``[stanza]``, ``[global:command]``, ``[global]``),
``PGBACKREST_*`` variables outrank the file, and options named the pre-2.33 way (``repo-path``,
``retention-full``) count as repository 1's.

The options pgBackRest itself marks secure (the cipher passphrase, S3 and Azure keys, the GCS key
file) are kept apart in ``Secrets``, whose values never appear in a ``repr``; nothing else in this
module holds one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drill.facts.pgbackrest import RepoSettings, Retention

DEFAULT_CONFIG = Path("/etc/pgbackrest/pgbackrest.conf")
ORIGINAL_DEFAULT_CONFIG = Path("/etc/pgbackrest.conf")  # pgBackRest still reads it when the first is absent
DEFAULT_INCLUDE_PATH = Path("/etc/pgbackrest/conf.d")
MAX_CONFIG_BYTES = 1 << 20
MAX_REPOS = 256
_ENV_PREFIX = "PGBACKREST_"
_REPO_OPTION = re.compile(r"^repo(\d+)-(.+)$")
# The repository options pgBackRest marks "secure" (src/build/config/config.yaml): never shown.
SECRET_OPTIONS = frozenset(
    {"cipher-pass", "s3-key", "s3-key-secret", "s3-token", "azure-account", "azure-key", "gcs-key"}
)
# Names older releases used, as pgBackRest 2.45 still accepts them.
_DEPRECATED = {
    "retention-full": "repo1-retention-full",
    "retention-diff": "repo1-retention-diff",
    "retention-archive": "repo1-retention-archive",
    "retention-archive-type": "repo1-retention-archive-type",
}
_RENAMED_REPO_OPTIONS = {
    "s3-verify-ssl": "storage-verify-tls",
    "s3-verify-tls": "storage-verify-tls",
    "azure-verify-tls": "storage-verify-tls",
    "s3-host": "storage-host",
    "azure-host": "storage-host",
    "s3-port": "storage-port",
    "azure-port": "storage-port",
    "s3-ca-file": "storage-ca-file",
    "azure-ca-file": "storage-ca-file",
    "s3-ca-path": "storage-ca-path",
    "azure-ca-path": "storage-ca-path",
}
_BUCKET_OPTION = {"s3": "s3-bucket", "gcs": "gcs-bucket", "azure": "azure-container"}
_ENDPOINT_DEFAULT = {"s3": None, "gcs": "storage.googleapis.com", "azure": "blob.core.windows.net"}


class ConfigUnreadable(Exception):
    """The pgBackRest config cannot be read or parsed; the message says which file and why."""


@dataclass(frozen=True)
class Secrets:
    """The secure options of each repository; the values stay out of ``repr`` and every output."""

    values: Mapping[tuple[int, str], str] = field(default_factory=dict, repr=False)

    def of(self, key: int) -> dict[str, str]:
        return {option: value for (repo, option), value in self.values.items() if repo == key}

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        for (repo, option), value in self.values.items():
            yield repo, option, value


@dataclass(frozen=True)
class StanzaConfig:
    """What one stanza's config says about its repositories, and the file it was read from."""

    stanza: str
    files: tuple[str, ...]
    repos: tuple[RepoSettings, ...]
    repo_options: Mapping[int, Mapping[str, str]]  # every non-secret repoN option, for drill's own config
    secrets: Secrets

    def repo(self, key: int) -> RepoSettings | None:
        return next((repo for repo in self.repos if repo.key == key), None)


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """Sections and their ``key=value`` lines; a key repeated in a section keeps its last value."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        key, equals, value = line.partition("=")
        if not equals or current is None:
            raise ValueError(f"line {number} is neither a [section] nor a key=value inside one")
        current[key.strip()] = value.strip()
    return sections


def config_files(config: str | None) -> list[Path]:
    """The files pgBackRest reads: ``--config`` alone when given, else the default and conf.d."""
    if config is not None:
        return [Path(config)]
    main = DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else ORIGINAL_DEFAULT_CONFIG
    files = [main] if main.is_file() else []
    if DEFAULT_INCLUDE_PATH.is_dir():
        files.extend(sorted(path for path in DEFAULT_INCLUDE_PATH.glob("*.conf") if path.is_file()))
    return files


def read_stanza_config(
    stanza: str, config: str | None, environ: Mapping[str, str], command: str = "restore"
) -> StanzaConfig:
    """The stanza's repositories as pgBackRest running ``command`` would see them."""
    sections: dict[str, dict[str, str]] = {}
    files = config_files(config)
    for path in files:
        try:
            with path.open("rb") as stream:
                raw = stream.read(MAX_CONFIG_BYTES + 1)
        except OSError as error:
            raise ConfigUnreadable(
                f"pgBackRest config {path} cannot be read: {error.strerror or error}."
            ) from None
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigUnreadable(f"pgBackRest config {path} is larger than {MAX_CONFIG_BYTES} bytes.")
        try:
            parsed = parse_ini(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ConfigUnreadable(f"pgBackRest config {path} is not a valid config file: {error}.") from None
        for name, options in parsed.items():
            sections.setdefault(name, {}).update(options)
    options = _effective(sections, stanza, command)
    options.update(_from_environment(environ))
    return _stanza_config(stanza, tuple(str(path) for path in files), options)


def _effective(sections: Mapping[str, Mapping[str, str]], stanza: str, command: str) -> dict[str, str]:
    """The options in force, the most specific section winning."""
    options: dict[str, str] = {}
    for section in ("global", f"global:{command}", stanza, f"{stanza}:{command}"):
        for key, value in sections.get(section, {}).items():
            options[_canonical(key)] = value
    return options


def _from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        _canonical(name[len(_ENV_PREFIX) :].lower().replace("_", "-")): value
        for name, value in environ.items()
        if name.startswith(_ENV_PREFIX)
    }


def _canonical(key: str) -> str:
    """``repo-path`` -> ``repo1-path``; ``repo2-s3-verify-ssl`` -> ``repo2-storage-verify-tls``."""
    key = _DEPRECATED.get(key, key)
    if key.startswith("repo-"):
        key = "repo1-" + key[len("repo-") :]
    match = _REPO_OPTION.match(key)
    if match:
        name = _RENAMED_REPO_OPTIONS.get(match.group(2), match.group(2))
        key = f"repo{int(match.group(1))}-{name}"
    return key


def _stanza_config(stanza: str, files: tuple[str, ...], options: Mapping[str, str]) -> StanzaConfig:
    per_repo: dict[int, dict[str, str]] = {}
    secrets: dict[tuple[int, str], str] = {}
    for key, value in options.items():
        match = _REPO_OPTION.match(key)
        if not match or not 1 <= int(match.group(1)) <= MAX_REPOS:
            continue
        repo, name = int(match.group(1)), match.group(2)
        if name in SECRET_OPTIONS:
            secrets[(repo, name)] = value
        else:
            per_repo.setdefault(repo, {})[name] = value
    for repo, _ in secrets:
        per_repo.setdefault(repo, {})
    per_repo.setdefault(1, {})  # repository 1 exists with its defaults even when nothing names it
    repos = tuple(_repo(key, per_repo[key]) for key in sorted(per_repo))
    return StanzaConfig(stanza, files, repos, per_repo, Secrets(secrets))


def _repo(key: int, options: Mapping[str, str]) -> RepoSettings:
    kind = options.get("type", "posix")
    return RepoSettings(
        key=key,
        type=kind,
        path=options.get("path", "/var/lib/pgbackrest"),
        bucket=options.get(_BUCKET_OPTION.get(kind, "")),
        endpoint=options.get(f"{kind}-endpoint", _ENDPOINT_DEFAULT.get(kind)),
        region=options.get("s3-region"),
        port=_integer(options.get("storage-port")),
        verify_tls=options.get("storage-verify-tls", "y") != "n",
        uri_style=options.get(f"{kind}-uri-style"),
        cipher_type=options.get("cipher-type", "none"),
        retention=Retention(
            full=_integer(options.get("retention-full")),
            full_type=options.get("retention-full-type", "count"),
            diff=_integer(options.get("retention-diff")),
            archive=_integer(options.get("retention-archive")),
            archive_type=options.get("retention-archive-type", "full"),
        ),
        host=options.get("host"),
    )


def _integer(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
