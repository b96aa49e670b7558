"""The browser harness itself: it must be able to fail, or its passes in the report tests mean nothing.

Each browser case has a positive control: a page that does reach for the network is caught by the
proxy, a green banner does not count as red, and a page that never finishes is killed on time.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import (
    ChromiumError,
    RecordingProxy,
    chromium_path,
    colour_share,
    is_blank,
    print_to_pdf,
    render,
    require_chromium,
)

RED = (0xB9, 0x1C, 0x1C)
GREEN = (0x15, 0x80, 0x3D)
WHITE = (255, 255, 255)
TOP = (0, 0, 1280, 200)


def _page(title: str, banner: str, head: str = "", body: str = "") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
  body {{ margin: 0; font-family: sans-serif; background: #fff; color: #111; }}
  .banner {{ background: {banner}; color: #fff; margin: 0; padding: 48px 32px; }}
  main {{ padding: 32px; }}
</style>{head}</head>
<body><header class="banner"><h1>VERDICT: FAIL</h1></header>
<main><p>3 of 7 checks failed on target vault.</p></main>{body}
<script>document.querySelector("main").dataset.rendered = "by-script";</script></body></html>
"""


SELF_CONTAINED = _page("Drill report", "#b91c1c")
GREEN_BANNER = _page("Drill report", "#15803d")


# --- browser-free parts: the proxy and the pixel arithmetic ---------------------------------------


def _via_proxy(proxy: RecordingProxy, method: str, target: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    try:
        connection.request(method, target)
        return connection.getresponse().status
    finally:
        connection.close()


def test_proxy_records_request_lines_and_answers_403() -> None:
    with RecordingProxy() as proxy:
        plain = _via_proxy(proxy, "GET", "http://example.invalid/x.png")
        tunnel = _via_proxy(proxy, "CONNECT", "fonts.googleapis.com:443")

    assert (plain, tunnel) == (403, 403)
    assert proxy.requests == (
        "GET http://example.invalid/x.png HTTP/1.1",
        "CONNECT fonts.googleapis.com:443 HTTP/1.1",
    )


class _Origin(BaseHTTPRequestHandler):
    server: _OriginServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


class _OriginServer(socketserver.TCPServer):
    """A real origin on loopback: if the proxy forwarded anything, it would land here."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Origin)
        self.hits: list[str] = []


def test_proxy_never_forwards_even_to_a_reachable_origin() -> None:
    with _OriginServer() as origin:
        serving = threading.Thread(target=origin.serve_forever, kwargs={"poll_interval": 0.05})
        serving.start()
        try:
            with RecordingProxy() as proxy:
                status = _via_proxy(proxy, "GET", f"http://127.0.0.1:{origin.server_address[1]}/report")
        finally:
            origin.shutdown()
            serving.join()

    assert status == 403
    assert origin.hits == []
    assert len(proxy.requests) == 1


def _png(path: Path, size: tuple[int, int], *bands: tuple[tuple[int, int, int], int]) -> Path:
    """An image of horizontal bands, each (colour, height), from the top; the rest is white."""
    image = Image.new("RGB", size, WHITE)
    top = 0
    for colour, height in bands:
        image.paste(colour, (0, top, size[0], top + height))
        top += height
    image.save(path)
    return path


def test_colour_share_counts_pixels_within_tolerance_only(tmp_path: Path) -> None:
    near_red = (RED[0] + 10, RED[1] - 10, RED[2])
    far_red = (RED[0] + 13, RED[1], RED[2])
    png = _png(tmp_path / "bands.png", (100, 100), (RED, 40), (near_red, 10), (far_red, 10))

    assert colour_share(png, RED) == pytest.approx(0.5)
    assert colour_share(png, RED, tolerance=0) == pytest.approx(0.4)
    assert colour_share(png, RED, box=(0, 0, 100, 40)) == 1.0
    assert colour_share(png, RED, box=(0, 60, 100, 100)) == 0.0


def test_colour_share_rejects_a_box_outside_the_image(tmp_path: Path) -> None:
    png = _png(tmp_path / "small.png", (10, 10))

    with pytest.raises(ValueError, match="outside the 10x10 image"):
        colour_share(png, RED, box=(0, 0, 20, 10))


def test_is_blank_only_for_a_single_colour(tmp_path: Path) -> None:
    assert is_blank(_png(tmp_path / "white.png", (50, 50)))
    assert not is_blank(_png(tmp_path / "banner.png", (50, 50), (RED, 1)))


def test_require_chromium_fails_under_ci_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    assert chromium_path() is None

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        require_chromium()

    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        require_chromium()


# --- real Chromium ---------------------------------------------------------------------------------


def _processes_mentioning(marker: str) -> dict[int, str]:
    """Live processes whose command line mentions ``marker``; zombies have no command line."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it exited while we looked
            continue
        if marker in cmdline:
            found[int(proc.name)] = cmdline[:200]
    return found


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory for pages; Chromium's profile lands inside it, so its processes can be found after."""
    require_chromium()
    # The profile directory comes from tempfile; pointing tempfile here keeps other sessions' Chromium
    # runs out of this test's process check.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    deadline = time.monotonic() + 5
    while (left := _processes_mentioning(str(tmp_path))) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        # Fail, but do not leave a spinning browser behind for the rest of the session.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == {}, "Chromium processes outlived the test"


def _write(site: Path, name: str, html: str) -> Path:
    page = site / name
    page.write_text(html, encoding="utf-8")
    return page


@pytest.mark.slow
def test_self_contained_report_renders_offline_with_a_red_banner(site: Path) -> None:
    rendered = render(_write(site, "report.html", SELF_CONTAINED), site / "report.png")

    assert "VERDICT: FAIL" in rendered.dom
    # The DOM after scripts ran, not the file read back.
    assert 'data-rendered="by-script"' in rendered.dom
    with Image.open(rendered.screenshot) as shot:
        assert shot.size == (1280, 1800)
    assert not is_blank(rendered.screenshot)
    assert colour_share(rendered.screenshot, RED, box=TOP) > 0.5
    assert colour_share(rendered.screenshot, RED, box=(0, 400, 1280, 1800)) == 0.0
    assert rendered.requests == ()


@pytest.mark.slow
def test_green_banner_does_not_count_as_red(site: Path) -> None:
    rendered = render(_write(site, "green.html", GREEN_BANNER), site / "green.png")

    assert colour_share(rendered.screenshot, RED, box=TOP) < 0.001
    assert colour_share(rendered.screenshot, GREEN, box=TOP) > 0.5


@pytest.mark.slow
@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        pytest.param(
            '<link rel="stylesheet" href="https://fonts.example.invalid/x.css">'
            '<script src="http://cdn.example.invalid/app.js"></script>',
            '<img src="http://cdn.example.invalid/logo.png" alt="">',
            {
                "CONNECT fonts.example.invalid:443 HTTP/1.1",
                "GET http://cdn.example.invalid/app.js HTTP/1.1",
                "GET http://cdn.example.invalid/logo.png HTTP/1.1",
            },
            id="stylesheet-script-image",
        ),
        pytest.param(
            "<style>main { background: url(http://cdn.example.invalid/paper.png); }</style>",
            "",
            {"GET http://cdn.example.invalid/paper.png HTTP/1.1"},
            id="css-background",
        ),
        pytest.param(
            "<style>@import url(http://fonts.example.invalid/import.css);</style>",
            "",
            {"GET http://fonts.example.invalid/import.css HTTP/1.1"},
            id="css-import",
        ),
        pytest.param(
            # <-loopback> in the bypass list: without it Chromium would skip the proxy for this one.
            "",
            '<img src="http://127.0.0.1:8123/local.png" alt="">',
            {"GET http://127.0.0.1:8123/local.png HTTP/1.1"},
            id="loopback-image",
        ),
        pytest.param(
            # Made 1.5 s after load; only the virtual-time budget lets the page live that long.
            "",
            "<script>setTimeout(() => { new Image().src = 'http://cdn.example.invalid/late.png'; }, 1500)"
            "</script>",
            {"GET http://cdn.example.invalid/late.png HTTP/1.1"},
            id="late-image",
        ),
    ],
)
def test_external_references_are_recorded_by_the_proxy(
    site: Path, head: str, body: str, expected: set[str]
) -> None:
    page = _write(site, "leaky.html", _page("Leaky report", "#b91c1c", head, body))

    rendered = render(page, site / "leaky.png")

    assert expected <= set(rendered.requests)
    # The page still renders from its inline CSS once the proxy refuses the rest.
    assert colour_share(rendered.screenshot, RED, box=TOP) > 0.5


@pytest.mark.slow
def test_print_to_pdf_writes_a_pdf(site: Path) -> None:
    pdf = print_to_pdf(_write(site, "report.html", SELF_CONTAINED), site / "report.pdf")

    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_a_page_that_never_finishes_is_killed_at_the_timeout(site: Path) -> None:
    page = _write(site, "spin.html", "<!doctype html><h1>spin</h1><script>for (;;) {}</script>")

    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            render(page, site / "spin.png", timeout_s=3)
        except BaseException as error:
            outcome.append(error)

    # In a thread, so that a broken kill fails this test instead of hanging the whole session.
    attempt_thread = threading.Thread(target=attempt, daemon=True)
    attempt_thread.start()
    attempt_thread.join(timeout=15)

    assert not attempt_thread.is_alive(), "render() did not return 12 s after its timeout"
    assert len(outcome) == 1
    assert isinstance(outcome[0], ChromiumError)
    assert "did not finish" in str(outcome[0])
    # The site fixture then checks that the killed process group left nothing behind.


def test_render_refuses_a_missing_page(site: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No page to render"):
        render(site / "absent.html", site / "absent.png")
