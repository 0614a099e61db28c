"""The version matrix: the tests in this directory run once per supported nats-server version.

Here ``nats_server`` is that version's server (so ``js_account`` and every fixture built on it
follow the matrix), ``nats_server_version`` its version string, and ``nats_server_of(version)``
gives the server of any version. Each version's server starts once per session (binaries come
from the cache of servers_matrix.py) and stops at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from servers_matrix import matrix_versions, server_binary

from reconciler.dev.servers import NatsServer


@pytest.fixture(scope="session")
def nats_server_of(tmp_path_factory) -> Iterator[Callable[[str], NatsServer]]:
    started: dict[str, NatsServer] = {}

    def server_of(version: str) -> NatsServer:
        if version not in started:
            started[version] = NatsServer(tmp_path_factory.mktemp(f"nats-{version}"),
                                          binary=str(server_binary(version)), server_name=f"matrix-{version}").start()
        return started[version]

    yield server_of
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session", params=matrix_versions())
def nats_server_version(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def nats_server(nats_server_of, nats_server_version) -> NatsServer:
    return nats_server_of(nats_server_version)
