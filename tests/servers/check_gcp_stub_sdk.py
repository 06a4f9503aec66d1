#!/usr/bin/env python3
"""Proves tests/servers/gcp_stub.py with Google's own client library, then
compares with secretrun: google-cloud-secret-manager (pinned in
scripts/setup-test-deps) over its REST transport, with the stand-in as the
endpoint and a service-account key whose token_uri is the stand-in's OAuth
endpoint (google-auth signs the JWT grant; the stand-in verifies it). It
accesses every secret (checking each CRC32C itself), reads versions and
aliases, lists with paging and filters, creates a secret and adds versions
(with a checksum, and with a wrong one), and checks the error kinds. Then the
built secretrun (SECRETRUN_BIN, default target/debug/secretrun) reads the same
data with the same key file: every value and every listing must equal what
the SDK read.

Run with the test venv's Python: .venv/bin/python tests/servers/check_gcp_stub_sdk.py
Prints one closing "N passed, N failed" line; exits non-zero on any failure.
"""

import json
import os
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions
from google.cloud import secretmanager_v1
from google.cloud.secretmanager_v1.services.secret_manager_service.transports.rest import (
    SecretManagerServiceRestTransport,
)
from google.oauth2 import service_account

from sdk_check import Check, Stub, env_name, secretrun_env, write_json

PROJECT = "proj-a"
NUMBER = "123456789"
EMAIL = "sdk-check@proj-a.iam.gserviceaccount.com"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]

# Values chosen to trip up quoting and encodings.
SECRETS = {
    "plain": {"versions": {"1": {"data": "old"}, "2": {"data": "hello"}},
              "labels": {"env": "prod", "team": "a"}, "aliases": {"stable": 1}},
    "multiline": {"versions": {"1": {"data": "line1\nline2\n\t\"quoted\" päss ✓ $HOME `x`"}},
                  "labels": {"env": "prod"}},
    "app-db": {"versions": {"1": {"data": "db=1;x"}}, "labels": {"env": "dev"}},
    "app-api": {"versions": {"1": {"data": "api key with spaces "}}},
    "app-json": {"versions": {"1": {"data": '{"db-user":"u","db_pass":"p w","port":5432}'}}},
    "disabled": {"versions": {"1": {"data": "x"}, "2": {"data": "y", "state": "DISABLED"}}},
    "zz-last": {"versions": {"1": {"data": "last"}}, "labels": {"env": "prod"}},
}


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: independent of the stand-in's table-driven one."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main():
    check = Check("check_gcp_stub_sdk")
    check.equal(crc32c(b"123456789"), 0xE3069283, "CRC-32C check value")
    with tempfile.TemporaryDirectory() as tmp:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        data_path = os.path.join(tmp, "data.json")
        write_json(data_path, {
            "projects": {PROJECT: {"number": NUMBER, "secrets": SECRETS}},
            "tokens": {"tok-sdk": {"projects": [PROJECT]}},
            "service_accounts": {EMAIL: {"public_key": public_pem, "key_id": "kid-sdk",
                                         "token": "tok-sdk"}},
            "max_page_size": 2,
        })
        with Stub("gcp_stub.py", data_path) as stub:
            base = "http://127.0.0.1:%d" % stub.port
            key_info = {"type": "service_account", "project_id": PROJECT,
                        "private_key_id": "kid-sdk", "private_key": private_pem,
                        "client_email": EMAIL, "client_id": "1000",
                        "token_uri": base + "/token"}
            key_path = os.path.join(tmp, "key.json")
            write_json(key_path, key_info)
            credentials = service_account.Credentials.from_service_account_info(
                key_info, scopes=SCOPES)
            # The transport built here keeps the OAuth token grant (the client would switch a
            # service account to self-signed JWTs, which the stand-in does not take).
            client = secretmanager_v1.SecretManagerServiceClient(
                transport=SecretManagerServiceRestTransport(host=base, credentials=credentials))
            env = {"GOOGLE_APPLICATION_CREDENTIALS": key_path,
                   "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER": base + "/"}
            sdk_values = check_sdk(check, client)
            compare_with_secretrun(check, client, env, sdk_values)
            check_writes(check, client, env)
            check_errors(check, client, env)
    check.finish()


def access(client, secret, version="latest"):
    return client.access_secret_version(
        name="projects/%s/secrets/%s/versions/%s" % (PROJECT, secret, version))


def check_sdk(check, client):
    """What the SDK reads, checked against the data; returns {secret id: latest bytes}."""
    values = {}
    for secret_id, secret in SECRETS.items():
        latest = secret["versions"][max(secret["versions"], key=int)]
        if latest.get("state", "ENABLED") != "ENABLED":
            continue
        answer = access(client, secret_id)
        payload = answer.payload.data
        check.equal(payload, latest["data"].encode("utf-8"), "SDK access %s" % secret_id)
        check.equal(answer.payload.data_crc32c, crc32c(payload), "SDK checksum %s" % secret_id)
        check.equal(answer.name, "projects/%s/secrets/%s/versions/%s"
                    % (NUMBER, secret_id, max(secret["versions"], key=int)),
                    "SDK version name %s" % secret_id)
        values[secret_id] = payload
    check.equal(access(client, "plain", "1").payload.data, b"old", "SDK access version 1")
    check.equal(access(client, "plain", "stable").payload.data, b"old", "SDK access alias")
    versions = [v.name.rsplit("/", 1)[1] for v in client.list_secret_versions(
        parent="projects/%s/secrets/plain" % PROJECT)]
    check.equal(versions, ["2", "1"], "SDK list versions")
    states = {v.name.rsplit("/", 1)[1]: v.state for v in client.list_secret_versions(
        parent="projects/%s/secrets/disabled" % PROJECT)}
    check.equal(states, {"1": secretmanager_v1.SecretVersion.State.ENABLED,
                         "2": secretmanager_v1.SecretVersion.State.DISABLED},
                "SDK version states")

    # Paging: pages of 2 (the stand-in's limit), and of 1 asked by the client.
    pager = client.list_secrets(parent="projects/%s" % PROJECT)
    pages = [[s.name.rsplit("/", 1)[1] for s in page.secrets] for page in pager.pages]
    check.equal(sum(pages, []), sorted(SECRETS), "SDK list, every page")
    check.equal(len(pages), (len(SECRETS) + 1) // 2, "SDK list page count")
    pager = client.list_secrets(request={"parent": "projects/%s" % PROJECT, "page_size": 1})
    check.equal(len(list(pager.pages)), len(SECRETS), "SDK list page_size=1 page count")
    labels = {s.name.rsplit("/", 1)[1]: dict(s.labels)
              for s in client.list_secrets(parent="projects/%s" % PROJECT)}
    check.equal(labels, {k: v.get("labels", {}) for k, v in SECRETS.items()}, "SDK labels")
    return values


def listed(client, filter_text):
    return sorted(s.name.rsplit("/", 1)[1] for s in client.list_secrets(
        request={"parent": "projects/%s" % PROJECT, "filter": filter_text}))


def compare_with_secretrun(check, client, env, sdk_values):
    # Every secret by its full name, each under a name of our choosing.
    chosen = {"V_%d" % i: secret_id for i, secret_id in enumerate(sorted(sdk_values))}
    status, seen, _ = secretrun_env(
        ["gcp-sm:projects/%s/secrets/%s#%s" % (PROJECT, secret_id, name)
         for name, secret_id in chosen.items()], env)
    check.equal(status, 0, "secretrun reads every secret")
    for name, secret_id in chosen.items():
        check.equal(seen.get(name), sdk_values[secret_id], "secretrun == SDK: %s" % secret_id)

    # A version and an alias.
    status, seen, _ = secretrun_env(
        ["gcp-sm:projects/%s/secrets/plain/versions/1#OLD" % PROJECT,
         "gcp-sm:projects/%s/secrets/plain/versions/stable#STABLE" % PROJECT], env)
    check.equal(status, 0, "secretrun reads a version and an alias")
    want = access(client, "plain", "1").payload.data
    check.equal((seen.get("OLD"), seen.get("STABLE")), (want, want),
                "secretrun == SDK: plain version 1 and alias")

    # Listings: a prefix (filter name:) and a label, over several pages.
    for spec, filter_text in (("gcp-sm:app-*?project=%s" % PROJECT, "name:app-"),
                              ("gcp-sm:*?label=env:prod&project=%s" % PROJECT,
                               "labels.env=prod")):
        ids = listed(client, filter_text)
        check.ok(len(ids) > 2, "SDK filter %s spans pages" % filter_text)
        status, seen, _ = secretrun_env([spec], env)
        check.equal(status, 0, "secretrun reads %s" % spec)
        check.equal(seen, {env_name(i): sdk_values[i] for i in ids},
                    "secretrun %s == SDK filter %s" % (spec, filter_text))
    check.equal(listed(client, "labels.team:*"), ["plain"], "SDK filter labels.team:*")
    check.equal(listed(client, "name:app- AND labels.env=dev"), ["app-db"],
                "SDK filter with AND")

    # json expands an object, as the SDK's bytes parse.
    status, seen, _ = secretrun_env(["gcp-sm:projects/%s/secrets/app-json?json" % PROJECT], env)
    check.equal(status, 0, "secretrun reads app-json?json")
    check.equal(seen, {env_name(k): str(v).encode("utf-8")
                 for k, v in json.loads(sdk_values["app-json"]).items()},
                "secretrun json == SDK payload parsed")


def check_writes(check, client, env):
    parent = "projects/%s" % PROJECT
    created = client.create_secret(request={
        "parent": parent, "secret_id": "written",
        "secret": {"replication": {"automatic": {}}, "labels": {"env": "written"}}})
    check.equal(created.name, "projects/%s/secrets/written" % NUMBER, "SDK create secret")
    try:
        client.create_secret(request={"parent": parent, "secret_id": "written",
                                      "secret": {"replication": {"automatic": {}}}})
        check.ok(False, "SDK create of an existing secret is refused")
    except exceptions.Conflict:  # 409 ALREADY_EXISTS over REST
        check.ok(True, "")
    for text in ("first", "second\nwith a line break ✓"):
        payload = text.encode("utf-8")
        version = client.add_secret_version(request={
            "parent": "%s/secrets/written" % parent,
            "payload": {"data": payload, "data_crc32c": crc32c(payload)}})
        check.ok(version.client_specified_payload_checksum, "SDK add version, checksum sent")
        check.equal(access(client, "written").payload.data, payload, "SDK reads what it added")
        status, seen, _ = secretrun_env(["gcp-sm:projects/%s/secrets/written#W" % PROJECT], env)
        check.equal((status, seen.get("W")), (0, payload), "secretrun reads what the SDK added")
    check.equal(version.name, "projects/%s/secrets/written/versions/2" % NUMBER,
                "SDK add version numbers versions")
    try:
        client.add_secret_version(request={
            "parent": "%s/secrets/written" % parent,
            "payload": {"data": b"torn", "data_crc32c": crc32c(b"torn") ^ 1}})
        check.ok(False, "SDK add version with a wrong checksum is refused")
    except exceptions.BadRequest:  # 400 INVALID_ARGUMENT over REST
        check.ok(True, "")
    check.equal(access(client, "written").payload.data, payload,
                "a refused version is not stored")


def check_errors(check, client, env):
    # Over REST the SDK raises by HTTP status: 400 FAILED_PRECONDITION is a BadRequest.
    cases = [("disabled", exceptions.BadRequest), ("no-such-secret", exceptions.NotFound)]
    for secret_id, kind in cases:
        try:
            access(client, secret_id)
            check.ok(False, "SDK access %s fails" % secret_id)
        except kind:
            check.ok(True, "")
        status, _, stderr = secretrun_env(
            ["gcp-sm:projects/%s/secrets/%s#X" % (PROJECT, secret_id)], env)
        check.equal(status, 125, "secretrun refuses %s as the SDK does" % secret_id)
        check.ok(secret_id in stderr, "secretrun's error names %s" % secret_id)
    try:
        client.access_secret_version(name="projects/not-readable/secrets/x/versions/1")
        check.ok(False, "SDK access to another project fails")
    except exceptions.Forbidden:  # 403 PERMISSION_DENIED over REST
        check.ok(True, "")


if __name__ == "__main__":
    main()
