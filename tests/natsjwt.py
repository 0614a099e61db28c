"""Test helper: NATS operator/account/user JWTs and .creds files, made with the ``nkeys`` library.

A NATS JWT is ``base64url(header).base64url(claims).base64url(ed25519 signature)`` with header
``{"typ":"JWT","alg":"ed25519-nkey"}``, signed by the issuer's nkey (nats-io/jwt v2 claim layout).
Only what the tests need: one operator, one account with JetStream, one user.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nkeys

from reconciler.jetstream.credentials import nkey_prefix

_HEADER = {"typ": "JWT", "alg": "ed25519-nkey"}
NO_LIMIT = -1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_keypair(role: str) -> nkeys.KeyPair:
    return nkeys.from_seed(nkeys.encode_seed(os.urandom(32), nkey_prefix(role)))


def encode_jwt(issuer: nkeys.KeyPair, subject: str, name: str, nats: dict) -> str:
    claims = {"iat": int(time.time()), "iss": issuer.public_key.decode(), "name": name, "sub": subject,
              "nats": {**nats, "version": 2}}
    # jti: a hash of the claims without it, as nats-io/jwt computes it
    claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest()) \
        .decode().rstrip("=")
    signing_input = f"{_b64(json.dumps(_HEADER).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(issuer.sign(signing_input.encode()))}"


@dataclass
class Operator:
    """An operator, a system account, one account with JetStream and one user of it."""

    operator: nkeys.KeyPair
    system: nkeys.KeyPair
    account: nkeys.KeyPair
    user: nkeys.KeyPair
    operator_jwt: str
    system_jwt: str
    account_jwt: str
    user_jwt: str

    @classmethod
    def create(cls) -> Operator:
        operator, system, account = new_keypair("operator"), new_keypair("account"), new_keypair("account")
        user = new_keypair("user")
        op_pub, sys_pub, acc_pub = (k.public_key.decode() for k in (operator, system, account))
        limits = {"subs": NO_LIMIT, "data": NO_LIMIT, "payload": NO_LIMIT, "imports": NO_LIMIT,
                  "exports": NO_LIMIT, "wildcards": True, "conn": NO_LIMIT, "leaf": NO_LIMIT,
                  "mem_storage": NO_LIMIT, "disk_storage": NO_LIMIT, "streams": NO_LIMIT, "consumer": NO_LIMIT}
        return cls(
            operator, system, account, user,
            operator_jwt=encode_jwt(operator, op_pub, "test-operator",
                                    {"type": "operator", "system_account": sys_pub}),
            system_jwt=encode_jwt(operator, sys_pub, "SYS", {"type": "account"}),
            account_jwt=encode_jwt(operator, acc_pub, "APP", {"type": "account", "limits": limits}),
            user_jwt=encode_jwt(account, user.public_key.decode(), "app-user",
                                {"type": "user", "pub": {}, "sub": {}, "subs": NO_LIMIT, "data": NO_LIMIT,
                                 "payload": NO_LIMIT}),
        )

    def server_config(self) -> str:
        """nats-server configuration text: operator mode with an in-memory resolver."""
        system, account = self.system.public_key.decode(), self.account.public_key.decode()
        return (f'operator: "{self.operator_jwt}"\n'
                f"system_account: {system}\n"
                "resolver: MEMORY\n"
                f'resolver_preload: {{ {system}: "{self.system_jwt}", {account}: "{self.account_jwt}" }}\n')

    def write_creds(self, path: Path) -> Path:
        """A .creds file in the layout `nsc generate creds` writes."""
        path.write_text(
            "-----BEGIN NATS USER JWT-----\n"
            f"{self.user_jwt}\n"
            "------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            "-----BEGIN USER NKEY SEED-----\n"
            f"{self.user.seed.decode()}\n"
            "------END USER NKEY SEED------\n\n"
            "*************************************************************\n")
        path.chmod(0o600)
        return path
