"""The walk's bounds: what it reads, counts, skips and refuses to follow."""

from __future__ import annotations

import os
from pathlib import Path

from drill.config import Agent
from drill.facts import Exposure
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import _pseudo_filesystem, scan
from tests.exposure import SECRET, agent, as_unprivileged


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


def test_unreadable_file_is_listed_and_the_rest_still_scanned(
    shared_dir: Path, known: KnownCredentials
) -> None:
    (shared_dir / "locked.env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (shared_dir / "locked.env").chmod(0o000)
    (shared_dir / "open.env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (shared_dir / "open.env").chmod(0o644)
    exposure: Exposure = as_unprivileged(lambda: scan(agent(shared_dir), known))
    assert exposure.stats.unreadable == (str(shared_dir / "locked.env"),)
    assert [Path(sighting.path).name for sighting in exposure.sightings] == ["open.env"]


def test_a_walk_from_the_filesystem_root_never_enters_proc(tmp_path: Path, known: KnownCredentials) -> None:
    # /proc/self/environ holds this process's environment: entering it would "find" drill's own secrets.
    link = tmp_path / "proc"
    link.symlink_to("/proc")
    assert _pseudo_filesystem("/proc") and _pseudo_filesystem(str(link))
    assert not _pseudo_filesystem(str(tmp_path))
    exposure = scan(Agent(name="root-agent", paths=("/",)), known, max_files=50)
    assert all(not sighting.path.startswith(("/proc", "/sys", "/dev")) for sighting in exposure.sightings)
