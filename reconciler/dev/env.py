"""The local development environment behind `jsctl dev`: one nats-server with the nkeys
configuration of ``hack/nats-server.conf`` and one Postgres, data under ``./.jsctl/dev/``.

State (ports, pids, the Postgres password) lives in ``state.json`` beside the data so that `status`,
`env` and `down` work from any later process. The Postgres password is random, made by the `dev up`
that creates the data and kept beside it (a fixed one equalled the NATS server's name, so every value
that name appeared in looked like a leaked secret).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UserError
from .servers import (
    NatsServer,
    PostgresServer,
    loopback_nats_url,
    loopback_postgres_url,
    pid_alive,
    port_is_free,
    terminate,
)

DEFAULT_DIR = Path(".jsctl/dev")
DEFAULT_NATS_PORT = 4222
DEFAULT_PG_PORT = 5432
DEV_DATABASE = "jsctl"
_OLDER_JSCTL = ("was made by an older jsctl, with a fixed password: `jsctl dev down --purge` then `jsctl dev up` "
                "make a new one (this deletes the dev data)")


@dataclass
class DevState:
    nats_pid: int
    nats_port: int
    pg_port: int
    seed_file: str
    hack_dir: str
    pg_password: str = field(default="", repr=False)  # "" in the state of an older jsctl

    @property
    def nats_url(self) -> str:
        return loopback_nats_url(self.nats_port)

    @property
    def database_url(self) -> str:
        return loopback_postgres_url(self.pg_port, self.pg_password, DEV_DATABASE)

    @property
    def scratch_url(self) -> str:
        """Where `jsctl plan` and `jsctl db revision` make their scratch databases: the same dev server
        (faster than starting a throwaway embedded Postgres every time)."""
        return loopback_postgres_url(self.pg_port, self.pg_password)

    def env(self) -> dict[str, str]:
        if not self.pg_password:
            raise UserError(f"the running dev environment {_OLDER_JSCTL}")
        return {"NATS_URL": self.nats_url, "NATS_NKEY": self.seed_file, "DATABASE_URL": self.database_url,
                "JSCTL_DEV_DATABASE_URL": self.scratch_url}


class DevEnvironment:
    def __init__(self, directory: Path = DEFAULT_DIR, hack_dir: Path = Path("hack")):
        self.directory = directory.resolve()
        self.hack_dir = hack_dir.resolve()

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def password_file(self) -> Path:
        return self.directory / "postgres-password"

    def _postgres(self, port: int = 0) -> PostgresServer:
        return PostgresServer(self.directory / "postgres" / "data", port=port)

    def _postgres_password(self, postgres: PostgresServer) -> str:
        """The password of the dev Postgres: made before initdb, read back on every later start."""
        if self.password_file.is_file():
            return self.password_file.read_text().strip()
        if postgres.initialized():
            raise UserError(f"the dev Postgres in {self.directory} {_OLDER_JSCTL}")
        password = secrets.token_urlsafe(24)
        _write_private(self.password_file, password)
        return password

    def state(self) -> DevState | None:
        try:
            return DevState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def status(self) -> dict[str, bool]:
        state = self.state()
        if state is None:
            return {"nats": False, "postgres": False}
        return {"nats": pid_alive(state.nats_pid), "postgres": self._postgres(state.pg_port).running()}

    def up(self, nats_port: int = DEFAULT_NATS_PORT, pg_port: int = DEFAULT_PG_PORT) -> tuple[DevState, bool]:
        """Start what is not running; returns the state and whether anything was started."""
        state = self.state()
        running = self.status()
        if state and state.pg_password and all(running.values()):
            return state, False
        conf = self.hack_dir / "nats-server.conf"
        seed = self.hack_dir / "seed.txt"
        for needed in (conf, seed):
            if not needed.is_file():
                raise UserError(f"{needed} not found: run `jsctl dev up` from the project directory or pass --hack-dir")
        if state:  # restart on the ports already handed out, so exported URLs stay valid
            nats_port, pg_port = state.nats_port, state.pg_port
        if nats_port and nats_port == pg_port:
            raise UserError(f"--nats-port and --pg-port are both {nats_port}: choose two ports")
        for name, port, alive in (("NATS", nats_port, running["nats"]), ("Postgres", pg_port, running["postgres"])):
            if port and not alive and not port_is_free(port):
                flag = "--nats-port" if name == "NATS" else "--pg-port"
                raise UserError(f"{name} port {port} on 127.0.0.1 is already in use: choose another with {flag}")
        self.directory.mkdir(parents=True, exist_ok=True)
        postgres = self._postgres(pg_port)
        postgres.password = self._postgres_password(postgres)
        nats_pid = state.nats_pid if state and running["nats"] else 0
        started_nats = not nats_pid
        if started_nats:
            server = NatsServer(self.directory / "nats", port=nats_port, config_file=conf).start()
            nats_pid, nats_port = server.proc.pid, server.port
            server.proc = None  # detached: it outlives this process, `jsctl dev down` stops it
        try:
            if not postgres.running():
                fresh = not postgres.initialized()
                postgres.start()
                if fresh:
                    postgres.create_database(DEV_DATABASE)
        except BaseException:
            if started_nats:  # no state file names it yet: do not leave it running unseen
                terminate(nats_pid)
            raise
        state = DevState(nats_pid, nats_port, postgres.port, str(seed), str(self.hack_dir), postgres.password)
        _write_private(self.state_file, json.dumps(asdict(state), indent=2))
        return state, True

    def down(self, purge: bool = False) -> None:
        state = self.state()
        if state is not None:
            if pid_alive(state.nats_pid):
                terminate(state.nats_pid)
            self._postgres(state.pg_port).stop()
        if purge and self.directory.exists():
            shutil.rmtree(self.directory)
        elif state is not None:
            with contextlib.suppress(OSError):
                self.state_file.unlink()


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds a password)."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
