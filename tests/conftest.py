"""Fixtures: real nats-server and Postgres processes on free loopback ports, in temp dirs.

Servers are started once per test session where tests do not disturb each other (a fresh
database or a fresh JetStream account per test isolates them) and always stopped at the end.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import HACK, delete_all_streams, leftover_servers, run_jsctl

from reconciler.dev.servers import NatsServer, PostgresServer, terminate


def pytest_configure(config) -> None:
    """SIGTERM (a cancelled CI job, `timeout`) ends the run as Ctrl-C does, through every fixture's
    teardown: the servers run in sessions of their own and would outlive a pytest killed outright."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def server_tmp() -> Iterator[Path]:
    """A session directory for Postgres data, outside pytest's temp root: pytest keeps that root at
    mode 0700 and re-tightens it whenever any pytest session starts, while Postgres, run as an
    unprivileged user when the tests run as root, must traverse every parent of its data dir."""
    path = Path(tempfile.mkdtemp(prefix="jsctl-tests-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _no_server_left_behind(tmp_path_factory, server_tmp) -> Iterator[None]:
    """Fail the run if a server this session started (its command line names one of the session's
    temp dirs) outlives the session; kill it so the machine stays clean either way.

    Session-scoped and autouse, so it is torn down after every fixture that starts servers.
    """
    yield
    leftovers = leftover_servers([tmp_path_factory.getbasetemp(), server_tmp])
    for pid in leftovers:
        terminate(pid)
    assert not leftovers, f"servers left running by the tests: {leftovers}"


@pytest.fixture(autouse=True)
def _isolated_nats_context(tmp_path_factory, monkeypatch) -> None:
    """No test sees the developer's natscli contexts, connection variables (including all that
    `eval "$(jsctl dev env)"` exports) or project owner."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    for name in ("NATS_URL", "NATS_NKEY", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN",
                 "NATS_CA", "NATS_CERT", "NATS_KEY", "NATS_CONTEXT", "DATABASE_URL", "JSCTL_DEV_DATABASE_URL",
                 "JSCTL_OWNER", "JSCTL_JS_DOMAIN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory) -> Iterator[NatsServer]:
    """A nats-server with JetStream and no authentication, shared by the session."""
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server_nkeys(tmp_path_factory) -> Iterator[NatsServer]:
    """A nats-server started with the project's own hack/nats-server.conf (nkeys users)."""
    server = NatsServer(tmp_path_factory.mktemp("nats-nkeys"), config_file=HACK / "nats-server.conf").start()
    yield server
    server.stop()


@pytest.fixture
def nats_server_factory(tmp_path_factory) -> Iterator:
    """Start extra nats-servers with a given configuration; all are stopped after the test."""
    started: list[NatsServer] = []

    def start(config: str = "", **kwargs) -> NatsServer:
        server = NatsServer(tmp_path_factory.mktemp("nats-x"), config=config, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def js_account(nats_server) -> Iterator[str]:
    """The URL of the shared server with every stream deleted after the test (a clean account)."""
    yield nats_server.url
    delete_all_streams(nats_server.url)


@pytest.fixture(scope="session")
def postgres(server_tmp) -> Iterator[PostgresServer]:
    """One Postgres for the session; tests take a fresh database each (``database_url``)."""
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="pg-", dir=server_tmp)) / "data",
                            password=uuid.uuid4().hex).start()
    yield server
    server.stop("immediate")


@pytest.fixture
def database_url(postgres) -> str:
    """A new, empty database on the shared Postgres."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def jsctl():
    return run_jsctl
