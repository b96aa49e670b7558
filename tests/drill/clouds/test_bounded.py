"""Every cloud call is bounded: an endpoint that let one call time out is asked nothing more in the
run, and after SIGTERM or Ctrl-C no call is sent at all. Against an endpoint that accepts connections
and never answers (a socket server in the test), and moto and gcp-storage-emulator for the calls that
must still go through.

The clients here read with a 1 s timeout instead of drill's 20 s, to keep the test short; the hooks
are the ones every drill client carries.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from drill.clouds.aws import client_config
from drill.clouds.bounded import CONNECT_TIMEOUT, READ_TIMEOUT, CallRefused, watch_botocore
from drill.clouds.gcp import bounded_timeout, gcs_client
from drill.config import Credentials
from drill.stopping import SWITCH
from tests.silent import never_answering


@pytest.fixture(autouse=True)
def clear_switch() -> Iterator[None]:
    SWITCH.reset()
    yield
    SWITCH.reset()


def s3(endpoint: str) -> object:
    built = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(read_timeout=1, connect_timeout=1, retries={"mode": "standard", "max_attempts": 5}),
    )
    watch_botocore(built)
    return built


def test_drill_clients_have_timeouts_and_counted_retries() -> None:
    config = client_config()

    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert config.retries == {"mode": "standard", "max_attempts": 5}
    assert bounded_timeout(None) == (CONNECT_TIMEOUT, READ_TIMEOUT)  # the library's None waits forever
    assert bounded_timeout(60) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert bounded_timeout((2, 3)) == (2, 3)


def test_an_endpoint_that_never_answers_is_asked_once_then_refused_at_once(s3_endpoint: str) -> None:
    with never_answering() as silent:
        hung = s3(silent.url)
        with pytest.raises(CallRefused) as first:
            hung.list_objects_v2(Bucket="vault")  # type: ignore[attr-defined]
        with pytest.raises(CallRefused) as second:
            hung.head_bucket(Bucket="vault")  # type: ignore[attr-defined]
        asked = silent.accepted

    # One read timed out; its retries and every later call were refused before they were sent.
    assert asked == 1
    assert f"{silent.url} did not answer within {READ_TIMEOUT} s" in str(first.value)
    assert "asked it nothing more in this run" in str(second.value)
    # Another endpoint is still asked.
    assert s3(s3_endpoint).list_buckets()["Buckets"] == []  # type: ignore[attr-defined]


def test_after_a_signal_no_call_is_sent(s3_endpoint: str, gcs_endpoint: str) -> None:
    SWITCH.stop(signal.SIGTERM)

    with pytest.raises(CallRefused) as aws:
        s3(s3_endpoint).list_buckets()  # type: ignore[attr-defined]
    with pytest.raises(CallRefused) as gcp:
        list(gcs_client(Credentials(anonymous=True), gcs_endpoint, {}).list_buckets())

    assert "interrupted by SIGTERM" in str(aws.value) and "interrupted by SIGTERM" in str(gcp.value)


def test_a_gcs_endpoint_that_stopped_answering_is_refused(gcs_endpoint: str) -> None:
    client = gcs_client(Credentials(anonymous=True), gcs_endpoint, {})
    assert list(client.list_buckets()) == []
    SWITCH.unanswered(gcs_endpoint, "did not answer within 20 s")

    with pytest.raises(CallRefused) as refused:
        list(client.list_buckets())

    assert f"{gcs_endpoint} did not answer" in str(refused.value)
