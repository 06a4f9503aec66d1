#!/usr/bin/env python3
"""Proves tests/servers/azure_stub.py with Microsoft's own client libraries,
then compares with secretrun: azure-identity's ClientSecretCredential gets its
token from the stand-in's Entra ID endpoints (OpenID configuration, then the
client-credentials grant), and azure-keyvault-secrets' SecretClient goes
through Key Vault's 401 challenge, gets every secret, lists with paging, lists
and reads versions, and sets secrets. The SDKs speak https only, so a second
stand-in on the same data file serves https with a CA made here. Then the
built secretrun (SECRETRUN_BIN, default target/debug/secretrun) reads the same
vault over http with the same client credentials: every value and every
listing must equal what the SDK read.

Run with the test venv's Python: .venv/bin/python tests/servers/check_azure_stub_sdk.py
Prints one closing "N passed, N failed" line; exits non-zero on any failure.
"""

import datetime
import ipaddress
import json
import logging
import os
import ssl
import tempfile
import urllib.request

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sdk_check import Check, Stub, env_name, secretrun_env, write_json

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0d6c4c34-8bd6-4e5b-a77d-1f3f6a3e6c01"
CLIENT_SECRET = "sdk-check-client-secret"
VAULT = "kv-sdk"
V1, V2 = "1" * 32, "2" * 32

# Values chosen to trip up quoting and encodings.
SECRETS = {
    "db-pass": {"value": "current-v2", "version": V2, "versions": {V1: {"value": "older-v1"}}},
    "api-key": {"value": "k with spaces ", "content_type": "text/plain"},
    "multi-line": {"value": "line1\nline2\n\t\"quoted\" päss ✓ $HOME `x`"},
    "app-json": {"value": '{"db-user":"u","db_pass":"p w","port":5432}',
                 "content_type": "application/json"},
    "turned-off": {"value": "x", "enabled": False},
    "zz-last": {"value": "last"},
}


def make_tls(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns (ca, cert, key)
    paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))

    def certificate(subject, issuer, public_key, signer, extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(validity[0]).not_valid_after(validity[1]))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sdk check CA")])
    ca = certificate(ca_name, ca_name, ca_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)])
    key = ec.generate_private_key(ec.SECP256R1())
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
        key.public_key(), ca_key, [
            (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                          x509.DNSName("localhost")]), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)])
    paths = [os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(server.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def stub_stats(url, ca):
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(url + "/__stub/stats", context=context, timeout=10) as answer:
        return json.load(answer)


def main():
    check = Check("check_azure_stub_sdk")
    # azure-identity logs each refused token request (the wrong-secret case below) at WARNING.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = make_tls(tmp)
        # The SDKs' transport (requests) trusts this CA, and only for this process.
        os.environ["REQUESTS_CA_BUNDLE"] = ca
        data_path = os.path.join(tmp, "data.json")
        write_json(data_path, {
            "page_size": 2,
            "root_vault": VAULT,
            "tenants": {TENANT: {"clients": {CLIENT_ID: {"secret": CLIENT_SECRET,
                                                         "access_token": "tok-sdk"}}}},
            "access_tokens": {"tok-sdk": {"vaults": [VAULT]}},
            "vaults": {VAULT: {"tenant": TENANT, "secrets": SECRETS}},
        })
        with Stub("azure_stub.py", data_path, "--tls-cert", cert, "--tls-key", key) as tls, \
                Stub("azure_stub.py", data_path) as plain:
            https = "https://127.0.0.1:%d" % tls.port
            http = "http://127.0.0.1:%d" % plain.port
            credential = ClientSecretCredential(TENANT, CLIENT_ID, CLIENT_SECRET,
                                                authority=https,
                                                disable_instance_discovery=True)
            # The challenge names https://vault.azure.net, which a vault at 127.0.0.1 cannot
            # match: the SDK's domain check is off, the rest of the flow is the SDK's own.
            client = SecretClient(https, credential, verify_challenge_resource=False)
            env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID,
                   "AZURE_CLIENT_SECRET": CLIENT_SECRET, "AZURE_AUTHORITY_HOST": http,
                   "AZURE_KEYVAULT_URL": "%s/%s" % (http, VAULT)}
            sdk_values = check_sdk(check, client, https, ca)
            compare_with_secretrun(check, client, env, sdk_values)
            check_writes(check, client, env)
            check_errors(check, client, env)
    check.finish()


def check_sdk(check, client, https, ca):
    """What the SDK reads, checked against the data; returns {name: value} of the enabled
    secrets."""
    values = {}
    for name, entry in SECRETS.items():
        if not entry.get("enabled", True):
            continue
        secret = client.get_secret(name)
        check.equal(secret.value, entry["value"], "SDK get %s" % name)
        check.equal(secret.properties.content_type, entry.get("content_type"),
                    "SDK content type %s" % name)
        check.equal(secret.name, name, "SDK name from the id of %s" % name)
        if "version" in entry:
            check.equal(secret.properties.version, entry["version"], "SDK version %s" % name)
        values[name] = secret.value
    stats = stub_stats(https, ca)
    requests = stats["vault_requests"][VAULT]
    check.equal([(r["bearer"], r["status"]) for r in requests[:2]], [(False, 401), (True, 200)],
                "SDK answers the 401 challenge, then sends its token")
    check.ok(all(r["bearer"] for r in requests[1:]), "SDK keeps the token after the challenge")
    check.equal(stats["token_requests"], {CLIENT_ID: 1},
                "ClientSecretCredential asked the token endpoint once")

    pages = [[p.name for p in page] for page in client.list_properties_of_secrets().by_page()]
    check.equal(sum(pages, []), sorted(SECRETS), "SDK list, every page")
    check.equal(len(pages), (len(SECRETS) + 1) // 2, "SDK list page count")
    enabled = {p.name: p.enabled for p in client.list_properties_of_secrets()}
    check.equal(enabled, {k: v.get("enabled", True) for k, v in SECRETS.items()},
                "SDK list: enabled attributes")

    versions = sorted(p.version for p in client.list_properties_of_secret_versions("db-pass"))
    check.equal(versions, [V1, V2], "SDK list versions")
    check.equal(client.get_secret("db-pass", V1).value, "older-v1", "SDK get an older version")
    return values


def compare_with_secretrun(check, client, env, sdk_values):
    # Every secret by name, each under a name of our choosing.
    chosen = {"V_%d" % i: name for i, name in enumerate(sorted(sdk_values))}
    status, seen, _ = secretrun_env(["azure-kv:%s#%s" % (name, var)
                                     for var, name in chosen.items()], env)
    check.equal(status, 0, "secretrun reads every secret")
    for var, name in chosen.items():
        check.equal(seen.get(var), sdk_values[name].encode("utf-8"),
                    "secretrun == SDK: %s" % name)

    # The whole vault: the enabled secrets the SDK lists, over every page.
    listed = [p.name for p in client.list_properties_of_secrets() if p.enabled]
    status, seen, _ = secretrun_env(["azure-kv:*"], env)
    check.equal(status, 0, "secretrun reads azure-kv:*")
    check.equal(seen, {env_name(n): client.get_secret(n).value.encode("utf-8") for n in listed},
                "secretrun azure-kv:* == SDK listing")
    status, seen, _ = secretrun_env(["azure-kv:app-*"], env)
    check.equal((status, sorted(seen)), (0, ["APP_JSON"]), "secretrun azure-kv:app-*")

    # Versions, by the ids the SDK lists.
    for properties in client.list_properties_of_secret_versions("db-pass"):
        status, seen, _ = secretrun_env(["azure-kv:db-pass/%s" % properties.version], env)
        check.equal((status, seen.get("DB_PASS")),
                    (0, client.get_secret("db-pass", properties.version).value.encode("utf-8")),
                    "secretrun == SDK: db-pass version %s" % properties.version)

    # json expands the object the SDK's value parses to.
    status, seen, _ = secretrun_env(["azure-kv:app-json?json"], env)
    check.equal((status, seen), (0, {env_name(k): str(v).encode("utf-8")
                                     for k, v in json.loads(sdk_values["app-json"]).items()}),
                "secretrun json == SDK value parsed")


def check_writes(check, client, env):
    for value in ("written first", "written second\nwith a line break ✓"):
        written = client.set_secret("written", value, content_type="text/plain")
        check.equal(written.value, value, "SDK set_secret answers the value")
        check.equal(client.get_secret("written").value, value, "SDK reads what it set")
        status, seen, _ = secretrun_env(["azure-kv:written"], env)
        check.equal((status, seen.get("WRITTEN")), (0, value.encode("utf-8")),
                    "secretrun reads what the SDK set")
    versions = list(client.list_properties_of_secret_versions("written"))
    check.equal(len(versions), 2, "SDK set_secret twice makes two versions")
    check.ok(written.properties.version in [v.version for v in versions],
             "the set version is listed")
    older = [v.version for v in versions if v.version != written.properties.version]
    check.equal(client.get_secret("written", older[0]).value, "written first",
                "SDK reads the replaced version")
    status, seen, _ = secretrun_env(["azure-kv:written/%s" % older[0]], env)
    check.equal((status, seen.get("WRITTEN")), (0, b"written first"),
                "secretrun reads the replaced version")
    updated = client.set_secret("db-pass", "current-v3")
    check.ok(updated.properties.version not in (V1, V2), "set_secret makes a new version")
    check.equal(sorted(p.version for p in client.list_properties_of_secret_versions("db-pass")),
                sorted([V1, V2, updated.properties.version]), "older versions are kept")


def check_errors(check, client, env):
    try:
        client.get_secret("turned-off")
        check.ok(False, "SDK get of a disabled secret fails")
    except HttpResponseError as error:
        check.equal(error.status_code, 403, "SDK: a disabled secret is 403")
    status, _, stderr = secretrun_env(["azure-kv:turned-off"], env)
    check.equal(status, 125, "secretrun refuses a disabled secret, as the SDK")
    check.ok("turned-off" in stderr, "secretrun's error names turned-off")
    try:
        client.get_secret("no-such-secret")
        check.ok(False, "SDK get of a missing secret fails")
    except ResourceNotFoundError:
        check.ok(True, "")
    status, _, stderr = secretrun_env(["azure-kv:no-such-secret"], env)
    check.equal(status, 125, "secretrun refuses a missing secret, as the SDK")
    check.ok("no-such-secret" in stderr, "secretrun's error names no-such-secret")
    wrong = ClientSecretCredential(TENANT, CLIENT_ID, "wrong", authority=client.vault_url,
                                   disable_instance_discovery=True)
    try:
        SecretClient(client.vault_url, wrong, verify_challenge_resource=False).get_secret("zz-last")
        check.ok(False, "SDK with a wrong client secret fails")
    except Exception as error:  # azure.identity raises ClientAuthenticationError
        check.equal(type(error).__name__, "ClientAuthenticationError",
                    "SDK: a wrong client secret is an authentication error")
    status, _, _ = secretrun_env(["azure-kv:zz-last"], dict(env, AZURE_CLIENT_SECRET="wrong"))
    check.equal(status, 125, "secretrun refuses a wrong client secret, as the SDK")


if __name__ == "__main__":
    main()
