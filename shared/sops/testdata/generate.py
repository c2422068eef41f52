#!/usr/bin/env python3
"""Writes the SOPS fixtures of weir-sops and of the kustomize-controller's end-to-end test.

An implementation of SOPS's encryption independent of weir-sops (and of Go's sops, which this
machine does not have): values encrypted with AES-256-GCM under their path, the MAC over the values
in document order, the data key encrypted to age recipients with pyrage and to OpenPGP keys with
the gpg CLI. The throwaway test keys are created on the first run and reused after.

Needs: python3 with `cryptography`, `pyyaml`, `pyrage`; `gpg`; `ssh-keygen`.
Run from anywhere: python3 shared/sops/testdata/generate.py
"""

import base64
import hashlib
import json
import os
import subprocess
import tempfile

import pyrage
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
E2E = os.path.join(HERE, "e2e")
LAST_MODIFIED = "2026-11-22T07:30:00Z"
MAC_ONLY_INIT = hashlib.sha256(b"sops").digest()


# ---- keys -------------------------------------------------------------------------------------

def age_identity(name):
    path = os.path.join(KEYS, name)
    if not os.path.exists(path):
        identity = pyrage.x25519.Identity.generate()
        with open(path, "w") as f:
            f.write(f"# public key: {identity.to_public()}\n{identity}\n")
    with open(path) as f:
        secret = [l for l in f.read().splitlines() if l.startswith("AGE-SECRET-KEY-")][0]
    return pyrage.x25519.Identity.from_str(secret)


def ssh_key():
    path = os.path.join(KEYS, "id_ed25519")
    if not os.path.exists(path):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "weir-test", "-f", path], check=True)
    with open(path + ".pub") as f:
        public = " ".join(f.read().split()[:2])
    return public


def pgp_key(gnupghome):
    path = os.path.join(KEYS, "pgp.asc")
    env = dict(os.environ, GNUPGHOME=gnupghome)
    if not os.path.exists(path):
        subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Weir Test <test@weir.invalid>",
                        "default", "default", "never"], check=True, env=env, capture_output=True)
        armored = subprocess.run(["gpg", "--batch", "--armor", "--export-secret-keys"], check=True, env=env,
                                 capture_output=True).stdout
        with open(path, "wb") as f:
            f.write(armored)
    else:
        subprocess.run(["gpg", "--batch", "--import", path], check=True, env=env, capture_output=True)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], check=True, env=env,
                             capture_output=True, text=True).stdout
    return [l.split(":")[9] for l in listing.splitlines() if l.startswith("fpr:")][0]


# ---- sops -------------------------------------------------------------------------------------

def armor_age(data):
    body = base64.b64encode(data).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN AGE ENCRYPTED FILE-----\n" + "\n".join(lines) + "\n-----END AGE ENCRYPTED FILE-----\n"


def value_bytes(value):
    if isinstance(value, bool):
        return ("True" if value else "False").encode(), "bool"
    if isinstance(value, int):
        return str(value).encode(), "int"
    if isinstance(value, float):
        return repr(value).encode(), "float"
    return value.encode(), "str"


def encrypt_value(value, key, aad):
    if value == "":
        return ""
    plain, kind = value_bytes(value)
    iv = os.urandom(32)
    sealed = AESGCM(key).encrypt(iv, plain, aad.encode())
    data, tag = sealed[:-16], sealed[-16:]
    b64 = lambda b: base64.b64encode(b).decode()
    return f"ENC[AES256_GCM,data:{b64(data)},iv:{b64(iv)},tag:{b64(tag)},type:{kind}]"


def encrypted(path, rules):
    import re
    kind, arg = rules
    if kind == "unencrypted_suffix":
        return not any(p.endswith(arg) for p in path)
    if kind == "encrypted_suffix":
        return any(p.endswith(arg) for p in path)
    if kind == "unencrypted_regex":
        return not any(re.search(arg, p) for p in path)
    if kind == "encrypted_regex":
        return any(re.search(arg, p) for p in path)
    raise ValueError(kind)


def encrypt_tree(node, key, rules, mac, mac_only, path=()):
    if isinstance(node, dict):
        return {k: encrypt_tree(v, key, rules, mac, mac_only, path + (k,)) for k, v in node.items()}
    if isinstance(node, list):
        return [encrypt_tree(v, key, rules, mac, mac_only, path) for v in node]
    if node is None:
        return None
    enc = encrypted(path, rules)
    if enc or not mac_only:
        mac.update(value_bytes(node)[0])
    return encrypt_value(node, key, ":".join(path) + ":") if enc else node


def metadata(data_key, mac, rules, mac_only, age=(), pgp=(), gnupghome=None, extra=None):
    meta = {}
    if extra:
        meta.update(extra)
    if age:
        meta["age"] = [{"recipient": str(r), "enc": armor_age(pyrage.encrypt(data_key, [r]))} for r in age]
    if pgp:
        env = dict(os.environ, GNUPGHOME=gnupghome)
        meta["pgp"] = []
        for fp in pgp:
            enc = subprocess.run(["gpg", "--batch", "--armor", "--trust-model", "always", "--encrypt", "-r", fp],
                                 input=data_key, check=True, env=env, capture_output=True).stdout.decode()
            meta["pgp"].append({"created_at": LAST_MODIFIED, "enc": enc, "fp": fp})
    meta["lastmodified"] = LAST_MODIFIED
    meta["mac"] = encrypt_value(mac.hexdigest().upper(), data_key, LAST_MODIFIED)
    meta[rules[0]] = rules[1]
    if mac_only:
        meta["mac_only_encrypted"] = True
    meta["version"] = "3.9.0"
    return meta


def encrypt_documents(documents, rules=("unencrypted_suffix", "_unencrypted"), mac_only=False, **keys):
    data_key = os.urandom(32)
    mac = hashlib.sha512()
    if mac_only:
        mac.update(MAC_ONLY_INIT)
    out = [encrypt_tree(d, data_key, rules, mac, mac_only) for d in documents]
    meta = metadata(data_key, mac, rules, mac_only, **keys)
    return [dict(d, sops=meta) for d in out]


def write_yaml(path, documents):
    with open(path, "w") as f:
        yaml.safe_dump_all(documents, f, sort_keys=False, default_flow_style=False)


def write_json(path, document):
    with open(path, "w") as f:
        json.dump(document, f, indent=4)
        f.write("\n")


def encrypt_dotenv(pairs, **keys):
    [document] = encrypt_documents([dict(pairs)], **keys)
    meta = document.pop("sops")
    flat = {}

    def flatten(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                flatten(f"{prefix}__map_{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                flatten(f"{prefix}__list_{i}", v)
        else:
            flat[prefix] = ("true" if value else "false") if isinstance(value, bool) else str(value)

    for k, v in meta.items():
        flatten(k, v)
    lines = [f"{k}={v}" for k, v in document.items()]
    lines += [f"sops_{k}={flat[k]}".replace("\n", "\\n") for k in sorted(flat)]
    return "\n".join(lines) + "\n"


# ---- fixtures ---------------------------------------------------------------------------------

VALUES = {
    "name": "weir",
    "replicas": 3,
    "ratio": 0.25,
    "enabled": True,
    "empty": "",
    "nothing": None,
    "nested": {"password": "hunter2", "port": 5432, "list": ["a", 2, False]},
    "note_unencrypted": "stays readable",
}

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "labels": {"app": "weir"}},
    "type": "Opaque",
    "stringData": {"password": "s3cr3t-from-sops", "user": "admin", "url": "postgres://${DB_HOST}/app"},
    "data": {"token": base64.b64encode(b"token-bytes").decode()},
}

K8S_RULE = ("encrypted_regex", "^(data|stringData)$")


def main():
    os.makedirs(KEYS, exist_ok=True)
    os.makedirs(E2E, exist_ok=True)
    age_a = age_identity("age.agekey").to_public()
    age_b = age_identity("wrong.agekey").to_public()
    ssh_public = ssh_key()
    ssh_recipient = pyrage.ssh.Recipient.from_str(ssh_public)
    with tempfile.TemporaryDirectory() as gnupghome:
        os.chmod(gnupghome, 0o700)
        fp = pgp_key(gnupghome)
        write_json(os.path.join(HERE, "values.plain.json"), VALUES)
        write_yaml(os.path.join(HERE, "values.age.yaml"), encrypt_documents([VALUES], age=[age_a]))
        write_json(os.path.join(HERE, "values.age.json"), encrypt_documents([VALUES], age=[age_a])[0])
        write_yaml(os.path.join(HERE, "values.pgp.yaml"),
                   encrypt_documents([VALUES], pgp=[fp], gnupghome=gnupghome))
        write_yaml(os.path.join(HERE, "values.ssh.yaml"), encrypt_documents([VALUES], age=[ssh_recipient]))
        # Two recipients: the wrong key's first, so that finding the right one is tested.
        write_yaml(os.path.join(HERE, "values.two-recipients.yaml"),
                   encrypt_documents([VALUES], age=[age_b, age_a]))
        for name, rules in [("encrypted-suffix", ("encrypted_suffix", "word")),
                            ("unencrypted-regex", ("unencrypted_regex", "^(name|port)$")),
                            ("encrypted-regex", ("encrypted_regex", "^nested$"))]:
            write_yaml(os.path.join(HERE, f"values.{name}.yaml"),
                       encrypt_documents([VALUES], rules=rules, age=[age_a]))
        write_yaml(os.path.join(HERE, "values.mac-only-encrypted.yaml"),
                   encrypt_documents([VALUES], rules=("encrypted_regex", "^nested$"), mac_only=True, age=[age_a]))
        write_yaml(os.path.join(HERE, "multi.age.yaml"),
                   encrypt_documents([{"first": "one"}, {"second": "two", "n": 7}], age=[age_a]))
        write_yaml(os.path.join(HERE, "secret.age.yaml"), encrypt_documents([SECRET], rules=K8S_RULE, age=[age_a]))
        write_yaml(os.path.join(HERE, "secret.pgp.yaml"),
                   encrypt_documents([SECRET], rules=K8S_RULE, pgp=[fp], gnupghome=gnupghome))
        with open(os.path.join(HERE, "app.age.env"), "w") as f:
            f.write(encrypt_dotenv([("API_TOKEN", "token-from-dotenv"), ("MULTI", "line1\nline2")], age=[age_a]))
        binary = "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n"
        with open(os.path.join(HERE, "blob.plain"), "w") as f:
            f.write(binary)
        write_json(os.path.join(HERE, "blob.age.bin"), encrypt_documents([{"data": binary}], age=[age_a])[0])
        # KMS only: the metadata of a file Weir cannot open (the enc values are not real).
        kms = encrypt_documents([VALUES], extra={
            "kms": [{"arn": "arn:aws:kms:eu-west-1:000000000000:key/weir-test", "created_at": LAST_MODIFIED,
                     "enc": "AQICAHg=", "aws_profile": ""}],
            "hc_vault": [{"vault_address": "https://vault.invalid", "engine_path": "sops", "key_name": "k",
                          "created_at": LAST_MODIFIED, "enc": "vault:v1:AA=="}]})
        write_yaml(os.path.join(HERE, "values.kms.yaml"), kms)
        # Tampered: an unencrypted value edited by hand after encryption.
        with open(os.path.join(HERE, "values.age.yaml")) as f:
            tampered = f.read().replace("stays readable", "edited by hand")
        with open(os.path.join(HERE, "values.tampered.yaml"), "w") as f:
            f.write(tampered)

        # The kustomize-controller's end-to-end repository content.
        write_yaml(os.path.join(E2E, "secret.yaml"), encrypt_documents([SECRET], rules=K8S_RULE, age=[age_a]))
        with open(os.path.join(E2E, "app.env"), "w") as f:
            f.write(encrypt_dotenv([("API_TOKEN", "token-from-dotenv"), ("MODE", "production")], age=[age_a]))


if __name__ == "__main__":
    main()
