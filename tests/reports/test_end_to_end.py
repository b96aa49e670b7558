"""Reports from real runs: `drill run` as a user runs it, over moto (S3, IAM, STS), the GCS
emulator and a filesystem copy, with real restores into a scratch PostgreSQL; then the pages
opened in headless Chromium, the evidence pack built and verified, and every byte drill wrote
searched for the secrets its config named.

One estate is drilled three times (the last one from a shrunken dump, so the history shows a
fall) and shared by the tests of this module: a drill costs a few seconds, the assertions none.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import boto3
import pytest
import requests
import xmlschema

from tests.browser import colour_share, is_blank, print_to_pdf, render, require_chromium
from tests.conftest import ADMIN_KEYS
from tests.drill.restore.conftest import postmasters_under
from tests.helpers import iam_user_keys
from tests.pg_dumps import dumps_for
from tests.reports.end_to_end_estate import (
    CONFIG,
    EVERYTHING,
    GREEN,
    HERE,
    HOSTILE_KEY,
    HOSTILE_QUERY,
    RED,
    Estate,
    run_drill,
    shrunk_dump,
    upload,
)


@pytest.fixture(scope="module")
def estate(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, gcs_emulator_endpoint: str
) -> Iterator[Estate]:
    dumps = dumps_for(tmp_path_factory)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    requests.get(f"{gcs_emulator_endpoint}/wipe", timeout=10).raise_for_status()
    root = tmp_path_factory.mktemp("estate")
    work_dir = Path(tempfile.mkdtemp(prefix="drill-reports-e2e-"))
    work_dir.chmod(0o755)
    session = boto3.Session(region_name="us-east-1", **ADMIN_KEYS)
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    iam = session.client("iam", endpoint_url=moto_endpoint)
    from google.auth.credentials import AnonymousCredentials  # noqa: PLC0415 - slow import, GCS tests only
    from google.cloud import storage  # noqa: PLC0415

    gcs = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_emulator_endpoint},
    )
    s3.create_bucket(Bucket="vault")
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket="locked",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    archive = gcs.create_bucket("archive")
    nas = root / "nas"
    drill_key, drill_secret = iam_user_keys(iam, "drill", EVERYTHING)
    deployer_key, deployer_secret = iam_user_keys(iam, "deployer", EVERYTHING)
    # Once moto enforces IAM only its users' keys work: the backup job uploads as its own user.
    writer_key, writer_secret = iam_user_keys(iam, "backup-writer", EVERYTHING)
    writer = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=writer_key,
        aws_secret_access_key=writer_secret,
    )
    environ = {
        "DRILL_KEY": drill_key,
        "DRILL_SECRET": drill_secret,
        "DEPLOYER_KEY": deployer_key,
        "DEPLOYER_SECRET": deployer_secret,
    }
    config = root / "drill.toml"
    config.write_text(
        CONFIG.format(work_dir=work_dir, s3=moto_endpoint, gcs=gcs_emulator_endpoint, query=HOSTILE_QUERY)
    )
    billing = nas / "billing" / "billing-1.sql.gz"
    billing.parent.mkdir(parents=True)
    billing.write_bytes(dumps.plain_gz.read_bytes())
    shrunk = shrunk_dump(dumps, root / "shrunk.dump")
    requests.post(
        f"{moto_endpoint}/moto-api/reset-auth", data="0", headers={"Content-Type": "text/plain"}, timeout=10
    ).raise_for_status()
    results = []
    try:
        for number, body in enumerate(
            (dumps.custom.read_bytes(), dumps.custom.read_bytes(), shrunk.read_bytes()), start=1
        ):
            upload(writer, archive, nas, HOSTILE_KEY.format(n=number), body)
            extra = (
                ("--junit", str(root / "junit.xml"), "--json", str(root / "run.json")) if number == 3 else ()
            )
            results.append(run_drill(root, config, environ, *extra))
            time.sleep(1.1)  # the next snapshot must be strictly newer (S3 keeps whole seconds)
        yield Estate(root, config, root / "reports", environ, tuple(results))
    finally:
        requests.post(
            f"{moto_endpoint}/moto-api/reset-auth",
            data="inf",
            headers={"Content-Type": "text/plain"},
            timeout=10,
        ).raise_for_status()
        for pid in postmasters_under(work_dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work_dir, ignore_errors=True)


class _Text(HTMLParser):
    """The text inside the element with a given id, and every tag the page holds."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def parsed(page: Path, element_id: str = "verdict") -> _Text:
    parser = _Text(element_id)
    parser.feed(page.read_text())
    return parser


def test_every_drill_run_wrote_its_report_and_said_where(estate: Estate) -> None:
    assert len(estate.runs) == 3
    for result, run_dir in zip(estate.results, estate.runs, strict=True):
        assert result.returncode == 3, result.stdout + result.stderr  # the deployer can destroy vault
        assert f"Report: {estate.reports / 'runs' / run_dir.name / 'report.html'}" in result.stdout
        assert (run_dir / "report.html").is_file() and (run_dir / "run.json").is_file()
    history = (estate.reports / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in history] == [run.name for run in estate.runs]


def test_the_console_table_is_compact_and_lists_what_failed(estate: Estate) -> None:
    output = estate.results[-1].stdout
    assert "FAIL" in output and "trust_separation" in output
    # Passes are summarised per check rather than one row per subject.
    pass_rows = [line for line in output.splitlines() if "PASS" in line]
    checks = {line.split("│")[2].strip() for line in pass_rows if line.count("│") >= 3}
    assert len(pass_rows) == len(checks), output


def test_the_run_report_explains_every_failure_on_its_own(estate: Estate) -> None:
    page = estate.runs[-1] / "report.html"
    html = page.read_text()
    run = json.loads((estate.runs[-1] / "run.json").read_text())
    assert "".join(parsed(page).text).strip() == "FAIL"
    assert run["config"]["sha256"] in html and run["drill_version"] in html
    # Per database: the scorecard lists each copy, the drill its timings and queries, trust its agents.
    for target in ("vault", "locked", "archive", "nas"):
        assert f"<code>{target}</code>" in html
    assert "3-2-1-1-0 scorecard" in html and "total (measured RTO)" in html and "10m" in html
    assert "Database orders" in html and "Database billing" in html
    assert "<code>deployer</code>" in html
    # Every failing finding is linked from the top, and carries its message and a remediation.
    failing = [finding for finding in run["findings"] if finding["status"] in ("fail", "error")]
    assert failing
    assert html.count('<li><span class="badge s-') == len(failing)
    for finding in failing:
        assert html_escaped(finding["message"]) in html
        assert html_escaped(finding["remediation"]) in html
    # The shrunken dump: the row counts fell against the previous drill, and the page says so.
    assert "fell from 3000 to 300 rows" in html


def html_escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def test_hostile_names_are_shown_as_text_never_as_markup(estate: Estate) -> None:
    for page in (estate.runs[-1] / "report.html", estate.reports / "index.html"):
        html = page.read_text()
        assert "<img" not in html and "<script" not in html, page
        assert parsed(page).tags.count("script") == 0
    html = (estate.runs[-1] / "report.html").read_text()
    assert html_escaped(HOSTILE_QUERY) in html
    assert html_escaped("orders-<img src=x onerror=alert(1)>-3.dump") in html


def test_the_index_lists_runs_newest_first_with_charts_that_show_the_fall(estate: Estate) -> None:
    html = (estate.reports / "index.html").read_text()
    ids = [run.name for run in estate.runs]
    positions = [html.index(f'href="runs/{run_id}/report.html"') for run_id in ids]
    assert positions == sorted(positions, reverse=True)
    orders = html[html.index("Database orders") :]
    assert orders.count("<polyline") >= 3  # recovery time, snapshot size, rows restored
    rows = orders[orders.index("Rows restored") :]
    assert "fell 77%" in rows  # 3,500 rows (500 customers, 3,000 orders) to 800
    assert 'class="point-drop"' in orders


def test_junit_is_valid_and_has_one_case_per_finding(estate: Estate) -> None:
    junit = estate.root / "junit.xml"
    run = json.loads((estate.root / "run.json").read_text())
    xmlschema.XMLSchema(HERE / "junit.xsd").validate(junit)
    document = junit.read_text()
    assert document.count("<testcase ") == len(run["findings"])
    failing = sum(finding["status"] in ("fail", "error") for finding in run["findings"])
    assert document.count("<failure ") == failing > 0


@pytest.mark.slow
def test_both_pages_render_in_a_real_browser_with_no_network_request(estate: Estate, tmp_path: Path) -> None:
    require_chromium()
    for name, page in (("report", estate.runs[-1] / "report.html"), ("index", estate.reports / "index.html")):
        shot = render(page, tmp_path / f"{name}.png", height=1400)
        assert shot.requests == (), f"{name} made network requests: {shot.requests}"
        assert 'id="verdict">FAIL<' in shot.dom, name
        assert "<img" not in shot.dom and "onerror" not in shot.dom.replace("onerror=alert(1)&gt;", "")
        assert not is_blank(shot.screenshot)
        assert colour_share(shot.screenshot, RED, box=(0, 0, 1280, 60)) > 0.5, name
        assert colour_share(shot.screenshot, GREEN, box=(0, 0, 1280, 60)) < 0.01, name
    index = render(estate.reports / "index.html", tmp_path / "index-charts.png", height=1400)
    assert index.dom.count("<svg") >= 1 + 3 * 2  # the pass/fail strip and three charts per database


@pytest.mark.slow
def test_the_report_prints_to_a_pdf_of_several_pages(estate: Estate, tmp_path: Path) -> None:
    require_chromium()
    pdf = print_to_pdf(estate.runs[-1] / "report.html", tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2  # A4 pages, not one endless sheet


def test_drill_report_builds_a_pack_whose_manifest_verifies(estate: Estate, tmp_path: Path) -> None:
    pack = tmp_path / "evidence.zip"
    today = time.strftime("%Y-%m-%d", time.gmtime())
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "drill",
            "report",
            "-c",
            str(estate.config),
            "--since",
            today,
            "--out",
            str(pack),
        ],
        cwd=estate.root,
        env={"PATH": os.environ["PATH"], **estate.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 3, built.stdout + built.stderr  # failures stayed open: not proven
    assert "3 runs" in built.stdout and "MANIFEST.sha256 SHA-256:" in built.stdout
    verified = subprocess.run(
        [sys.executable, "-m", "drill", "verify-pack", str(pack)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
        summary = archive.read(next(name for name in names if name.endswith("/summary.html"))).decode()
    assert sum(name.endswith("/report.html") for name in names) == 3
    for run in estate.runs:
        assert run.name in summary
    assert "ISO 27001 A.8.13" in summary and "SOC 2 CC6.1" in summary


def _every_output_byte(estate: Estate, tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(estate.reports.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()
    for name in ("junit.xml", "run.json"):
        yield name, (estate.root / name).read_bytes()
    for number, result in enumerate(estate.results):
        yield f"run {number} output", (result.stdout + result.stderr).encode()
    pack = tmp_path / "pack.zip"
    today = time.strftime("%Y-%m-%d", time.gmtime())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "drill",
            "report",
            "--report-dir",
            str(estate.reports),
            "--since",
            today,
            "--out",
            str(pack),
        ],
        capture_output=True,
        check=False,
    )
    with zipfile.ZipFile(io.BytesIO(pack.read_bytes())) as archive:
        for name in archive.namelist():
            yield f"pack:{name}", archive.read(name)


def test_no_output_holds_a_secret_or_a_full_access_key(estate: Estate, tmp_path: Path) -> None:
    secrets = estate.secrets
    assert len(secrets) == 4 and all(len(value) >= 16 for value in secrets.values())
    searched = 0
    for where, data in _every_output_byte(estate, tmp_path):
        searched += 1
        for name, value in secrets.items():
            assert value.encode() not in data, f"{name} appears in {where}"
    assert searched > 10
