"""Settings of a database apply (no heavy imports: the CLI builds them before anything connects)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApplySettings:
    allow_destructive: bool = False
    lock_timeout: float = 60.0  # seconds to wait for another apply holding the lock
    ddl_lock_timeout: float = 10.0  # seconds a DDL statement may wait for a table lock
    statement_timeout: float = 900.0  # seconds a statement may run (0: no limit)
