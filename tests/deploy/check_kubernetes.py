#!/usr/bin/env python3
"""Checks the Kubernetes examples (no cluster runs here): every manifest in
examples/kubernetes/ parses, and every container whose command is secretrun uses only flags
`secretrun --help` lists, source kinds and options and environment names the README documents,
paths that a volume of the pod mounts, and Secrets and ConfigMaps the examples define; every
name it --require's is one the mounted Secret's keys give. Prints one line per check.

usage: check_kubernetes.py SECRETRUN_BINARY
"""
import glob
import re
import subprocess
import sys

import yaml

failures = []


def check(condition, message):
    print(("ok     " if condition else "FAILED ") + message)
    if not condition:
        failures.append(message)


def mounted(path, mounts):
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


def main():
    binary = sys.argv[1]
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"--[a-z][a-z0-9-]*", help_text))
    readme = open("README.md", encoding="utf-8").read()
    files = sorted(glob.glob("examples/kubernetes/*.yaml"))
    check(len(files) >= 2, f"{len(files)} manifests in examples/kubernetes")
    documents = []
    for path in files:
        with open(path, encoding="utf-8") as stream:
            loaded = [d for d in yaml.safe_load_all(stream) if d]
        check(all("apiVersion" in d and "kind" in d for d in loaded), f"{path}: parses, every object has apiVersion and kind")
        documents += [(path, d) for d in loaded]
    defined = {(d["kind"], d["metadata"]["name"]): d for _, d in documents}
    uses = 0
    for path, document in documents:
        if document["kind"] != "Deployment":
            continue
        pod = document["spec"]["template"]["spec"]
        check(document["spec"]["selector"]["matchLabels"].items() <= document["spec"]["template"]["metadata"]["labels"].items(),
              f"{path}: the selector matches the pod's labels")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            command = container.get("command", []) + container.get("args", [])
            if not command or not command[0].endswith("/secretrun"):
                continue
            uses += 1
            where = f"{path}: {document['metadata']['name']}/{container['name']}"
            check(command[0] == "/usr/local/bin/secretrun", f"{where}: runs the binary where the image puts it")
            mounts = {}
            for mount in container.get("volumeMounts", []):
                check(mount["name"] in volumes, f"{where}: volume {mount['name']} is defined")
                mounts[mount["mountPath"]] = volumes.get(mount["name"], {})
            options = command[1:command.index("--")] if "--" in command else command[1:]
            check("--" in command, f"{where}: the app's command follows `--`")
            required, paths, produced = [], [], set()
            i = 0
            while i < len(options):
                flag = options[i].split("=", 1)[0]
                check(flag in flags, f"{where}: {flag} is a flag of `secretrun --help`")
                value = options[i].split("=", 1)[1] if "=" in options[i] else options[i + 1]
                i += 1 if "=" in options[i] else 2
                if flag == "--require":
                    required.append(value)
                elif flag in ("--secrets-dir", "--env-file"):
                    paths.append(value)
                    volume = mounts.get(value, {})
                    if "secret" in volume:
                        secret = defined.get(("Secret", volume["secret"]["secretName"]))
                        check(secret is not None, f"{where}: Secret {volume['secret']['secretName']} is defined")
                        keys = list((secret or {}).get("stringData", {})) + list((secret or {}).get("data", {}))
                        # --secrets-dir names each variable as its file, i.e. the key.
                        produced |= set(keys)
                elif flag == "--source":
                    kind, _, rest = value.partition(":")
                    check(f"`{kind}:" in readme, f"{where}: source kind {kind}: is in the README")
                    query = rest.split("#", 1)[0].partition("?")[2]
                    for option in filter(None, query.split("&")):
                        name, _, setting = option.partition("=")
                        check(f"`{name}=" in readme or f"`{name}`" in readme,
                              f"{where}: source option {name} is in the README")
                        if setting.startswith("/"):
                            paths.append(setting)
                    produced.add("*")  # a secret manager's names are not known here
            for name in required:
                check("*" in produced or name in produced, f"{where}: --require {name} is set by a mounted Secret's key")
            for variable in container.get("env", []):
                check(variable["name"] in readme, f"{where}: environment variable {variable['name']} is in the README")
                if variable.get("value", "").startswith("/"):
                    paths.append(variable["value"])
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secret = defined.get(("Secret", ref["name"]), {})
                    check(ref["key"] in secret.get("stringData", {}) or ref["key"] in secret.get("data", {}),
                          f"{where}: Secret {ref['name']} has key {ref['key']}")
            for mounted_path in paths:
                check(mounted(mounted_path, mounts), f"{where}: {mounted_path} is under a volume mount")
            for volume in volumes.values():
                if "configMap" in volume:
                    check(("ConfigMap", volume["configMap"]["name"]) in defined, f"{where}: ConfigMap {volume['configMap']['name']} is defined")
            if pod.get("serviceAccountName"):
                check(("ServiceAccount", pod["serviceAccountName"]) in defined, f"{where}: ServiceAccount {pod['serviceAccountName']} is defined")
    check(uses >= 2, f"{uses} containers run secretrun")
    print(f"kubernetes: {len(failures)} failed")
    sys.exit(1 if failures else 0)


main()
