"""Kubeconfigs found by content when their users carry a token or a client key; not otherwise."""

from __future__ import annotations

import base64
from pathlib import Path

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VydmljZWFjY291bnQ.c2lnbmVkLWJ5LXRoZS1jbHVzdGVy"
CLIENT_KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nnot a real one\n").decode()
CLUSTER = """apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://k8s.internal:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
contexts:
- name: prod
  context: {cluster: prod, user: backup-operator}
current-context: prod
"""


def test_a_kubeconfig_with_a_token_and_a_client_key_is_found_by_content(
    workspace: Path, known: KnownCredentials
) -> None:
    users = f"""users:
- name: backup-operator
  user:
    token: {TOKEN}
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: {CLIENT_KEY}
"""
    (workspace / "settings.yaml").write_text(CLUSTER + users)

    exposure = scan(agent(workspace), known)

    assert [(sighting.kind, sighting.line, sighting.what) for sighting in exposure.sightings] == [
        (SightingKind.CREDENTIAL_FILE, 15, "Kubernetes bearer token (kubeconfig)"),
        (SightingKind.CREDENTIAL_FILE, 19, "Kubernetes client private key (kubeconfig)"),
    ]
    assert exposure.sightings[0].masked == f"•••• ({len(TOKEN)} characters)"
    assert TOKEN not in repr(exposure) and CLIENT_KEY not in repr(exposure)
    assert_no_secret(exposure)


def test_a_kubeconfig_without_credentials_is_not_flagged(workspace: Path, known: KnownCredentials) -> None:
    # An exec plugin fetches a token at each call; files named by path are scanned on their own.
    users = """users:
- name: backup-operator
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
- name: admin
  user:
    client-certificate: /etc/k8s/admin.crt
    client-key: /etc/k8s/admin.key
- name: templated
  user:
    token: ${K8S_TOKEN}
"""
    (workspace / "config").write_text(CLUSTER + users)
    # A manifest that is not a kubeconfig may name a token field: a Secret's key, for one.
    (workspace / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\ndata:\n  token: c2VjcmV0\n")

    exposure = scan(agent(workspace), known)

    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 2
