"""hack/: the dev keys, the server configuration and the Kubernetes files are consistent and accepted."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nkeys
import pytest
import yaml
from support import HACK, kubernetes_pod

from reconciler.dev.servers import nats_server_binary
from reconciler.jetstream.connect import connect_nats
from reconciler.jetstream.credentials import read_user_seed
from reconciler.jetstream.settings import NatsSettings

CONF = (HACK / "nats-server.conf").read_text()
APP_SEEDS = ("seed.txt", "plan-seed.txt", "apply-seed.txt")  # hack/nats-server.conf's APP users, in order


def public_key(seed_file: str) -> str:
    return nkeys.from_seed(read_user_seed(str(HACK / seed_file)).encode()).public_key.decode()


def account_users(account: str) -> list[str]:
    """The nkey users of one account block of hack/nats-server.conf."""
    block = re.search(rf"^\s*{account}\s*\{{(.*?)^\s*\}}", CONF, re.MULTILINE | re.DOTALL)
    assert block, f"no account {account} in nats-server.conf"
    return re.findall(r"nkey:\s*(\w+)", block.group(1))


def permissions(name: str) -> dict:
    """A permissions block of hack/nats-server.conf (``PLAN = {...}``, written as JSON)."""
    block = re.search(rf"^{name} = (\{{.*?^\}})", CONF, re.MULTILINE | re.DOTALL)
    assert block, f"no {name} permissions in nats-server.conf"
    return json.loads(block.group(1))


SEED_FILES = sorted(path.name for path in HACK.glob("*seed*.txt"))


@pytest.mark.parametrize("seed_file", SEED_FILES)
def test_seed_files_hold_the_seed_alone_so_every_client_reads_them(seed_file, nats_server_nkeys):
    """nats-py's nkeys_seed= takes the whole file as the seed: a comment line breaks it (jsctl skips them)."""
    import nats

    assert (HACK / seed_file).read_text() == read_user_seed(str(HACK / seed_file)) + "\n"

    async def connect() -> None:
        nc = await nats.connect(nats_server_nkeys.url, nkeys_seed=str(HACK / seed_file), allow_reconnect=False)
        await nc.close()

    asyncio.run(connect())
    assert "public in this repository: never use them in production" in CONF


def test_every_hack_file_is_named_where_users_look():
    """README or docs/ name each (or a hack/ script that sources it): none is left unexplained."""
    texts = [(HACK.parent / "README.md").read_text(), *(p.read_text() for p in (HACK.parent / "docs").glob("*.md")),
             *(p.read_text() for p in HACK.glob("*.sh"))]
    for path in sorted(HACK.iterdir()):
        assert any(f"hack/{path.name}" in text for text in texts), f"nothing names hack/{path.name}"


def test_conf_users_are_the_public_keys_of_the_seeds():
    assert account_users("APP") == [public_key(seed) for seed in APP_SEEDS]
    assert re.search(rf"{public_key('plan-seed.txt')}, permissions: \$PLAN }}", CONF)
    assert re.search(rf"{public_key('apply-seed.txt')}, permissions: \$APPLY }}", CONF)
    assert account_users("SYS") == [public_key("sys-seed.txt")]
    assert re.search(r"^system_account:\s*SYS\s*$", CONF, re.MULTILINE)


def test_conf_as_is_passes_the_servers_own_check():
    done = subprocess.run([nats_server_binary(), "-c", str(HACK / "nats-server.conf"), "-t"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stdout + done.stderr


def test_helm_values_parse_and_match():
    values = yaml.safe_load((HACK / "values.yaml").read_text())
    jetstream = values["config"]["jetstream"]
    assert jetstream["enabled"] and jetstream["fileStore"]["enabled"] and jetstream["fileStore"]["pvc"]["enabled"]
    merge = values["config"]["merge"]
    assert merge["system_account"] == "SYS"
    users = merge["accounts"]["APP"]["users"]
    assert [u["nkey"] for u in users] == [public_key(seed) for seed in APP_SEEDS]
    assert [u.get("permissions") for u in users] == [None, permissions("PLAN"), permissions("APPLY")]
    assert [u["nkey"] for u in merge["accounts"]["SYS"]["users"]] == [public_key("sys-seed.txt")]
    assert merge["accounts"]["APP"]["jetstream"] == "enabled"


async def _server_ping(url: str, seed_file: str) -> dict | None:
    """Ask the system account's $SYS.REQ.SERVER.PING; None when nobody answers this user."""
    from nats.errors import NoRespondersError, TimeoutError

    nc = await connect_nats(NatsSettings(url=url, nkey=str(HACK / seed_file)))
    try:
        return json.loads((await nc.request("$SYS.REQ.SERVER.PING", b"", timeout=2)).data)
    except (NoRespondersError, TimeoutError):
        return None
    finally:
        await nc.close()


def test_sys_user_reaches_sys_and_app_user_has_jetstream(jsctl, nats_server_nkeys):
    answer = asyncio.run(_server_ping(nats_server_nkeys.url, "sys-seed.txt"))
    assert answer and answer["server"]["name"] == nats_server_nkeys.server_name
    assert asyncio.run(_server_ping(nats_server_nkeys.url, "seed.txt")) is None

    done = jsctl("ping", "-s", nats_server_nkeys.url, "--nkey", str(HACK / "seed.txt"))
    assert done.returncode == 0 and "JetStream enabled" in done.stdout, done.stderr


# python3 as on Debian or Ubuntu without python3-venv: no ensurepip module, and `python3 -m venv DIR`
# fails after leaving DIR behind without pip, printing Debian's message.
DEBIAN_PYTHON3 = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  for last; do :; done
  "{python}" -m venv --without-pip "$last"
  echo "The virtual environment was not created successfully because ensurepip is not"
  echo "available.  On Debian/Ubuntu systems, you need to install the python3-venv"
  echo "package using the following command."
  exit 1
fi
PYTHONPATH="{shadow}" exec "{python}" "$@"
"""


def python3_without_venv(tmp_path: Path) -> dict[str, str]:
    """An environment whose `python3` is DEBIAN_PYTHON3 (first on PATH)."""
    shadow = tmp_path / "shadow" / "ensurepip"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(DEBIAN_PYTHON3.format(python=sys.executable, shadow=shadow.parent))
    (bin_dir / "python3").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("left_behind", [False, True], ids=["fresh", "after-a-failed-venv"])
@pytest.mark.parametrize("script", ["demo.sh", "test.sh"])
def test_without_python3_venv_the_scripts_name_the_package_in_one_line(tmp_path, script, left_behind):
    checkout = tmp_path / "checkout"  # the scripts make .venv beside hack/: not in the real checkout
    shutil.copytree(HACK, checkout / "hack", ignore=shutil.ignore_patterns("*.yaml", "*.conf", "*.txt", "crontab"))
    env = python3_without_venv(tmp_path)
    if left_behind:  # a .venv without pip, as a plain `python3 -m venv .venv` leaves it
        subprocess.run(["python3", "-m", "venv", ".venv"], cwd=checkout, env=env, capture_output=True, timeout=120)
        assert (checkout / ".venv" / "bin" / "python").exists()
    done = subprocess.run(["bash", str(checkout / "hack" / script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    package = f"python{sys.version_info.major}.{sys.version_info.minor}-venv"
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"hack/{script}: error: python3 cannot create .venv (its ensurepip module is missing): "
                           f"install the package {package} (Debian/Ubuntu: sudo apt install {package}) and run again\n")


def seed_volume(pod: dict) -> tuple[dict, str]:
    """The Secret volume holding the file NATS_NKEY names, and that file's key in the Secret."""
    (container,) = pod["containers"]
    path = next(e["value"] for e in container["env"] if e["name"] == "NATS_NKEY")
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    return volume, path[len(mount["mountPath"]) + 1:]


def readable_by_the_pod(pod: dict, volume: dict, key: str) -> bool:
    """Whether the pod's user may read ``key`` of a Secret volume. Kubelet writes the file owned by root,
    with the group fsGroup when the pod sets one, in the item's mode, else defaultMode, else 0644. (With
    fsGroup, kubelet also adds group read on its own; this does not count on it.)"""
    context = pod.get("securityContext", {})
    uid = context.get("runAsUser", 0)
    groups = {context.get("runAsGroup", 0), *context.get("supplementalGroups", [])} | (
        {context["fsGroup"]} if "fsGroup" in context else set())
    secret = volume["secret"]
    item = next((i for i in secret.get("items", []) if i["path"] == key), {})
    mode = item.get("mode", secret.get("defaultMode", 0o644))
    file_group = context.get("fsGroup", 0)
    return bool((uid == 0 and mode & 0o400) or (file_group in groups and mode & 0o040) or mode & 0o004)


@pytest.mark.parametrize("manifest", ["drift-cronjob.yaml", "worker-deployment.yaml"])
def test_the_nkey_seed_secret_is_readable_by_the_pods_user(manifest):
    pod = kubernetes_pod(HACK / manifest)
    volume, key = seed_volume(pod)
    assert pod["securityContext"]["runAsUser"] != 0 and pod["securityContext"]["runAsNonRoot"]
    assert readable_by_the_pod(pod, volume, key)
    # what the CronJob had before: owner-only, owned by root, unreadable for user 10001
    before = {**pod, "securityContext": {k: v for k, v in pod["securityContext"].items() if k != "fsGroup"}}
    assert not readable_by_the_pod(before, {"secret": {**volume["secret"], "defaultMode": 0o400}}, key)
