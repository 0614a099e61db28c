"""The validator worker: events -> rule -> Postgres (exactly once) -> verdicts.

``run(WorkerSettings(...))`` starts it from code (``jsctl up`` = apply, then this).
"""

from .loop import WorkerSettings, run

__all__ = ["WorkerSettings", "run"]
