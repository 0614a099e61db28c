"""``--timeout DURATION``: one deadline for a whole run, so a cron job never hangs (docs/gitops.md, "Timeouts").

Two layers, because not everything a command waits on can be cancelled:

- a command's asyncio work runs under ``run(work, deadline)``: at the deadline it is cancelled, and what
  it holds is released by its own cleanup (the apply lock, connections) within ``CLEANUP_GRACE_S``; the
  run then ends with ``DeadlineExceeded``, which carries what the work said as it stopped (an
  interrupted apply names the requests that were done);
- what cannot be cancelled (a blocking database call in a thread, a cleanup talking to a server that
  stopped answering) is ended by a watchdog: ``CLEANUP_GRACE_S`` after the deadline it runs the last
  rites registered with ``if_abandoned`` (a scratch Postgres is stopped), prints one line and exits with
  the command's error code. Postgres rolls back the transaction of a connection that closes; the apply
  lock expires by its TTL, or the next apply on this host takes it over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import EXIT_ERROR, JsctlError, scrub

CLEANUP_GRACE_S = 5.0  # after the deadline, for cleanup: an apply lock's release is one request
_LAST_CANCEL_S = 1.0  # the end of the grace: a cleanup still waiting is cancelled too, then reported
T = TypeVar("T")
_LAST_RITES: list[Callable[[], None]] = []


class DeadlineExceeded(JsctlError):
    """The run went past ``--timeout``; ``interrupted`` is what the work raised as it stopped, if anything."""

    def __init__(self, seconds: float, interrupted: JsctlError | None = None):
        self.interrupted = interrupted
        super().__init__(f"gave up after {seconds:g}s (--timeout)" + (f": {interrupted}" if interrupted else ""))


@dataclass
class Deadline:
    """``seconds`` from when it was made (monotonic clock); ``start`` also arms the watchdog."""

    seconds: float
    exit_code: int = EXIT_ERROR  # what the watchdog exits with: the command's error code
    ends_at: float = field(init=False)
    _watchdog: threading.Timer | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.ends_at = time.monotonic() + self.seconds

    @classmethod
    def start(cls, seconds: float, exit_code: int = EXIT_ERROR) -> Deadline:
        """The deadline counts from now; its watchdog is armed only while ``run`` runs work under it, so
        merely parsing the option (a test, a tool reading the command line) never ends the process."""
        return cls(seconds, exit_code)

    def _arm(self) -> None:
        if self._watchdog is None:
            # a moment after the grace, so that the run reports by itself whenever it can
            self._watchdog = threading.Timer(self.remaining() + CLEANUP_GRACE_S + _LAST_CANCEL_S, self._give_up)
            self._watchdog.daemon = True
            self._watchdog.start()

    def remaining(self) -> float:
        return max(0.0, self.ends_at - time.monotonic())

    def stop(self) -> None:
        """The bounded part of the run is over (`jsctl up`: the worker runs on): disarm the watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _give_up(self) -> None:
        for rite in list(_LAST_RITES):
            with contextlib.suppress(Exception):
                rite()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.write(scrub(f"jsctl: error: gave up after {self.seconds:g}s (--timeout), and what was "
                                   f"running did not stop within {CLEANUP_GRACE_S:g}s more: exiting\n"))
            sys.stderr.flush()
        os._exit(self.exit_code)


@contextlib.contextmanager
def if_abandoned(rite: Callable[[], None]) -> Iterator[None]:
    """Run ``rite`` if the watchdog ends the process inside this block (it exits without unwinding it):
    for what must not outlive jsctl, like a server it started."""
    _LAST_RITES.append(rite)
    try:
        yield
    finally:
        _LAST_RITES.remove(rite)


def run(work: Coroutine[Any, Any, T], deadline: Deadline | None) -> T:
    """``asyncio.run(work)``, cancelled at ``deadline`` (None: no limit); past it, raises DeadlineExceeded."""
    if deadline is None:
        return asyncio.run(work)
    deadline._arm()
    try:
        result = asyncio.run(_bounded(work, deadline))
    except DeadlineExceeded:
        raise  # still armed: a thread the loop abandoned must not keep the process alive
    except BaseException:
        deadline.stop()
        raise
    deadline.stop()
    return result


class _Abandoning(ThreadPoolExecutor):
    """The loop's executor (``asyncio.to_thread``): once the deadline has passed, closing the loop does not
    wait for a thread still blocked, so the error is reported at once (the watchdog ends the thread)."""

    expired = False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait and not self.expired, cancel_futures=cancel_futures)


async def _bounded(work: Coroutine[Any, Any, T], deadline: Deadline) -> T:
    executor = _Abandoning()
    asyncio.get_running_loop().set_default_executor(executor)
    task = asyncio.ensure_future(work)
    # asyncio.wait, not wait_for: a TimeoutError of the work itself is its own error, not the deadline's
    done, _ = await asyncio.wait({task}, timeout=deadline.remaining())
    if done:
        return task.result()
    executor.expired = True
    for wait in (CLEANUP_GRACE_S - _LAST_CANCEL_S, _LAST_CANCEL_S):  # then a cleanup waiting on a dead server
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=wait)
        if done:
            break
    if not done or task.cancelled():
        raise DeadlineExceeded(deadline.seconds)
    error = task.exception()
    if error is None:  # it finished as the deadline came
        return task.result()
    if isinstance(error, JsctlError):  # e.g. an interrupted apply, saying what was done
        raise DeadlineExceeded(deadline.seconds, error) from error
    raise DeadlineExceeded(deadline.seconds) from error
