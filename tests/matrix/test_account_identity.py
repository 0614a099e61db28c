"""What the reports' ``account`` label relies on, on every supported nats-server: ``$SYS.REQ.USER.INFO``
names the caller's account, and a user not allowed to publish there is told apart by the server's refusal
at once, not after a request timeout (a read-only CI user would otherwise wait on every plan)."""

from __future__ import annotations

import asyncio

from servers_matrix import server_binary

from reconciler.dev.servers import NatsServer
from reconciler.jetstream.client import JetStreamApi
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.settings import NatsSettings

ACCOUNTS = """
accounts {
  APP {
    jetstream: enabled
    users: [
      {user: app, password: app-pw}
      {user: ro, password: ro-pw, permissions: {publish: ["$JS.API.INFO"], subscribe: ["_INBOX.>"]}}
    ]
  }
}
"""
NEVER = 600.0  # a request timeout no test waits out: the refusal must end the wait


async def account_of(url: str, user: str | None = None, password: str | None = None) -> str | None:
    nc = await connect_nats(NatsSettings(url=url, user=user, password=password))
    try:
        return await asyncio.wait_for(JetStreamApi(nc, timeout=NEVER).account(), 60)
    finally:
        await nc.close()


def test_the_account_is_named_or_refused_at_once(nats_server_version, tmp_path):
    server = NatsServer(tmp_path / "accounts", config=ACCOUNTS, binary=str(server_binary(nats_server_version))).start()
    try:
        assert asyncio.run(account_of(server.url, "app", "app-pw")) == "APP"
        assert asyncio.run(account_of(server.url, "ro", "ro-pw")) is None
    finally:
        server.stop()


def test_without_accounts_it_is_the_global_one(js_account):
    assert asyncio.run(account_of(js_account)) == "$G"
