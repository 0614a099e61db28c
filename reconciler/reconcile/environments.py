"""Plan several environments at once (`jsctl plan --all-envs`), each with its own connections.

Planning is mostly CPU in Python (reading and validating the manifests, normalizing and comparing
thousands of configs), so on one event loop N environments take N times one. With large manifests and
more than one core, each environment is planned in a process of its own, forked once the planning
modules are imported and the manifest validators built (``_warm_up``: each child would redo it). Small
manifests are planned on one event loop: there the children's start costs more than the work they share.
Measured on 2 cores, 3 environments, 3 servers on the same machine (time of --all-envs / one environment):
20 streams x 2 consumers each, one loop 1.09x, processes 1.43x; 200 x 2 (66 KB), 1.48x and 1.53x;
400 x 2, 1.76x and 1.63x; 1,000 x 4 (550 KB), 2.4x and 1.75x.

Environments with the same manifest files and variables read them once (``SharedManifests``): the
validated result is the same for each. With processes, the parent reads those before forking, so that
each child inherits them rather than reading them again.

A child's answer comes back as the saved plan's JSON values (Plan.to_dict, the basis's fields): what
`apply PLAN` reads is faithful. A child that fails sends its error's message (secrets scrubbed, as it
would be shown) and exit code. Every child is killed when the parent stops waiting (done, --timeout,
Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import fields
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ..errors import JsctlError, scrub
from ..plan.model import Plan
from .target import Target

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from ..deadline import Deadline
    from ..manifest.model import Desired
    from ..plan.planfile import PlanBasis

Planned = tuple[Plan, "PlanBasis | None"]
# Manifest bytes (all environments together) from which processes plan faster than one event loop.
PROCESSES_FROM_BYTES = 256 * 1024


class EnvironmentFailed(JsctlError):
    """An environment's plan failed in its process: its message and exit code, as that process would show."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class SharedManifests:
    """The manifests of each distinct (files, variables) read once, for every environment that has them:
    the same files with the same variables give the same validated Desired, or the same error (``${env:...}``
    reads this process's environment, the same for all)."""

    def __init__(self) -> None:
        self._read: dict[str, Desired | JsctlError | None] = {}

    @staticmethod
    def key(target: Target) -> str:
        # repr, not ==: 1, 1.0 and True are equal but substitute as different values
        variables = sorted(target.variables.items(), key=lambda item: str(item[0]))
        return repr((target.nats is None, target.destroy, target.files, variables))

    def load(self, target: Target) -> Desired | None:
        """``target``'s manifests (plan.py's ``load``), read at the first call for their key."""
        from .plan import _load

        key = self.key(target)
        if key not in self._read:
            try:
                self._read[key] = _load(target)
            except JsctlError as exc:
                self._read[key] = exc
        read = self._read[key]
        if isinstance(read, JsctlError):
            raise read
        return read

    def read_shared(self, targets: list[Target]) -> None:
        """Read now the manifests that more than one of ``targets`` have (the others: each when planned)."""
        counts = Counter(self.key(target) for target in targets)
        for target in targets:
            if counts[self.key(target)] > 1:
                with contextlib.suppress(JsctlError):  # kept, raised when that environment is planned
                    self.load(target)


def _plan_child(target: Target, saving: bool, answer: Connection, manifests: SharedManifests) -> None:
    from .plan import plan_all

    try:
        plan, basis = asyncio.run(plan_all(target, saving=saving, load=manifests.load))
        reply: tuple[Any, ...] = ("plan", plan.to_dict(),
                                  None if basis is None else {f.name: getattr(basis, f.name) for f in fields(basis)})
    except JsctlError as exc:
        reply = ("error", scrub(str(exc)), exc.exit_code)
    except BaseException as exc:  # a bug: the parent reports it as one (never a silent hole in the output)
        reply = ("bug", scrub(f"{type(exc).__name__}: {exc}"))
    answer.send(reply)
    answer.close()


def _answer(process: BaseProcess, receiver: Connection) -> Planned:
    from ..plan.planfile import PlanBasis

    try:
        reply = receiver.recv()
    except EOFError:
        process.join()
        raise JsctlError(f"the planning process ended without an answer (exit code {process.exitcode})") from None
    if reply[0] == "plan":
        return Plan.from_dict(reply[1]), None if reply[2] is None else PlanBasis(**reply[2])
    if reply[0] == "error":
        raise EnvironmentFailed(reply[1], reply[2])
    raise RuntimeError(reply[1])


def _manifest_bytes(targets: list[Target]) -> int:
    from pathlib import Path

    from ..manifest.load import manifest_files

    total = 0
    for target in targets:
        if target.nats is not None:
            with contextlib.suppress(JsctlError, OSError):  # a missing file is its plan's error to report
                total += sum(file.stat().st_size for file in manifest_files([Path(f) for f in target.files]))
    return total


def _in_processes(targets: list[Target]) -> bool:
    return len(targets) > 1 and (os.cpu_count() or 1) > 1 and _manifest_bytes(targets) >= PROCESSES_FROM_BYTES


def _warm_up() -> None:
    """Import what planning imports and build the manifests' validators (≈ 0.09 s each child would pay)."""
    import deepdiff  # noqa: F401 - each of these takes tens of milliseconds to import
    import nats  # noqa: F401

    from ..jetstream import observe, plan, session  # noqa: F401
    from ..manifest.load import parse_document
    from ..manifest.validate import validate_documents

    problems: list = []
    validate_documents([parse_document("streams: [{name: W, subjects: [w]}]\n"
                                       "consumers: [{stream: W, durable_name: C}]\n", "warm-up", problems)], problems)


@contextlib.contextmanager
def _started(targets: list[Target], saving: bool) -> Iterator[list[tuple[BaseProcess, Connection]]]:
    """One forked process per target, killed on the way out if still running."""
    _warm_up()
    manifests = SharedManifests()
    manifests.read_shared(targets)
    context = multiprocessing.get_context("fork")
    jobs: list[tuple[BaseProcess, Connection]] = []
    try:
        for target in targets:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_plan_child, args=(target, saving, sender, manifests),
                                      daemon=True)
            process.start()
            sender.close()
            jobs.append((process, receiver))
        yield jobs
    finally:
        for process, receiver in jobs:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()


async def _answers(jobs: list[tuple[BaseProcess, Connection]]) -> list[Planned | BaseException]:
    return await asyncio.gather(*(asyncio.to_thread(_answer, process, receiver) for process, receiver in jobs),
                                return_exceptions=True)


async def _on_one_loop(targets: list[Target], saving: bool) -> list[Planned | BaseException]:
    from .plan import plan_all

    manifests = SharedManifests()
    return await asyncio.gather(*(plan_all(target, saving=saving, load=manifests.load) for target in targets),
                                return_exceptions=True)


def plan_environments(targets: list[Target], *, saving: bool,
                      deadline: Deadline | None = None) -> list[Planned | JsctlError]:
    """Each target's (plan, basis) or the JsctlError that stopped it, in order, planned concurrently within
    ``deadline``; anything else (a bug) is raised."""
    from ..deadline import run

    if _in_processes(targets):
        with _started(targets, saving) as jobs:  # forked before any event loop runs in this process
            results = run(_answers(jobs), deadline)
    else:
        results = run(_on_one_loop(targets, saving), deadline)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, JsctlError):
            raise result
    return results  # type: ignore[return-value]
