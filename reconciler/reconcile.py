"""One plan, one apply, one exit code: JetStream and the Postgres schema together.

``plan_all`` joins the JetStream plan (``JetStreamSession``) and the database plan
(``reconciler.db.plan_database``) into one Plan, JetStream changes first, and computes the basis a
saved plan is checked against. ``apply_all`` applies such a plan under the apply lock kept in
JetStream (lock.py): everything that can refuse is checked before anything changes, then the
database is upgraded, then JetStream is applied; each half verifies its own result.

Why the database first: its apply still has checks that can refuse at the last moment (its own
advisory lock, held by a `jsctl db upgrade` elsewhere; the revision moved; a revision file edited)
and its revisions can fail on existing rows. Run first, such a refusal or failure leaves JetStream
untouched; JetStream's changes were all checked beforehand, under the apply lock.

Either half may be absent: no database configured (nothing database-related is imported:
SQLAlchemy and Alembic cost ≈ 0.26 s), or no NATS (`jsctl db plan`, `jsctl db upgrade`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .connection import DatabaseSettings, NatsSettings
from .errors import Refused, UserError
from .plan import DRIFT, Change, Plan

if TYPE_CHECKING:
    from .jetstream import JetStreamSession
    from .lock import ApplyLock
    from .manifest.model import Desired
    from .savedplan import PlanBasis

DATABASE_PREFIX = "db/"


@dataclass(frozen=True)
class DatabaseTarget:
    """The Postgres half: the database, its Alembic migrations directory, and how to plan it."""

    settings: DatabaseSettings
    migrations: Path = Path("migrations")
    dev_url: str | None = None  # where scratch databases go (None: a throwaway embedded Postgres)
    adopt: bool = False  # stamp a database that has the schema but no Alembic history

    @classmethod
    def configured(cls, settings: DatabaseSettings, migrations: Path, dev_url: str | None = None,
                   adopt: bool = False) -> DatabaseTarget | None:
        """The target, or None when no database is configured (JetStream alone)."""
        return cls(settings, migrations, dev_url, adopt) if settings.configured else None


@dataclass(frozen=True)
class Target:
    """What to reconcile: ``nats`` None is the database alone, ``database`` None JetStream alone."""

    nats: NatsSettings | None
    files: tuple[str, ...] = ()  # JetStream manifests (-f); none: ./streams.yaml ./consumers.yaml
    database: DatabaseTarget | None = None
    prune: bool = False


@dataclass(frozen=True)
class ApplyOptions:
    allow_destructive: bool = False  # replace/delete in JetStream, destructive revisions in the database
    lock_timeout: float = 60.0  # seconds to wait for each apply lock (JetStream's, then Postgres')
    ddl_lock_timeout: float = 10.0
    statement_timeout: float = 900.0
    plan_file: str | None = None  # a saved plan (jsctl plan --out) to apply as it is
    converge_timeout: float = 60.0  # seconds, per stream or consumer written on a cluster


@dataclass(frozen=True)
class Console:
    """How apply talks to the person running it (the CLI provides it; the core never prints)."""

    show: Callable[[str], None]  # the plan and each step as it completes
    tell: Callable[[str], None]  # notices, e.g. waiting for another apply's lock
    confirm: Callable[[Plan], None]  # raises Refused unless the changes are confirmed


@dataclass
class Applied:
    database_steps: list[str] = field(default_factory=list)
    jetstream_requests: int = 0

    def summary(self) -> str:
        parts = ([f"database: {len(self.database_steps)} step(s)"] if self.database_steps else []) + \
                ([f"JetStream: {self.jetstream_requests} request(s)"] if self.jetstream_requests else [])
        return f"Apply complete: {', '.join(parts) or 'nothing left to do (another apply did it)'}; verified."


def is_database(change: Change) -> bool:
    return change.address.startswith(DATABASE_PREFIX)


def join(plans: Iterable[Plan]) -> Plan:
    """One Plan from several planners' (in order): changes, errors and context side by side."""
    joined = Plan()
    for plan in plans:
        joined.changes += plan.changes
        joined.errors += plan.errors
        joined.context |= plan.context
    return joined


def check_errors(plan: Plan) -> None:
    if plan.errors:
        raise UserError("the plan has errors:\n  " + "\n  ".join(plan.errors))


def why_destructive(change: Change) -> str:
    """What a destructive change loses: a revision's notes of destructive flags (drops, data changes, lossy
    casts), else the planner's reason."""
    from .db.risk import DESTRUCTIVE_FLAGS

    notes = [why for risk in change.details.get("risks", []) for note in risk.get("notes", [])
             for flag, _, why in [note.partition(": ")] if flag in DESTRUCTIVE_FLAGS]
    return ", ".join(notes) or change.reason or "destructive"


def refuse_destructive(changes: Iterable[Change], allow_destructive: bool) -> None:
    """Refuse (exit 3) destructive changes, of either half, without --allow-destructive."""
    destructive = [c for c in changes if c.destructive]
    if destructive and not allow_destructive:
        what = "; ".join(f"{c.action} {c.address} ({why_destructive(c)})" for c in destructive)
        raise Refused(f"destructive changes need --allow-destructive: {what}")


def migration_files(migrations: Path) -> list[Path]:
    """The files of migrations/ a plan depends on: the desired schema and the revisions."""
    return [migrations / "schema.yaml", *sorted((migrations / "versions").glob("*.py"))]


def load_manifests(files: Iterable[str]) -> Desired:
    """The validated JetStream manifests (every problem at once); none named: the default files."""
    from .manifest import load_desired

    return load_desired([Path(f) for f in files])


def _load(target: Target) -> Desired | None:
    return None if target.nats is None else load_manifests(target.files)


def _check_migrations(target: Target) -> None:
    if target.database and not (target.database.migrations / "schema.yaml").is_file():
        raise UserError(f"{target.database.migrations}: no schema.yaml (a database is configured: "
                        "pass --migrations DIR, or unset DATABASE_URL for JetStream alone)")


@contextlib.asynccontextmanager
async def _session(target: Target, name: str) -> AsyncIterator[JetStreamSession | None]:
    if target.nats is None:
        yield None
        return
    from .jetstream import JetStreamSession

    async with JetStreamSession(target.nats, name=name) as session:
        yield session


def _plan_database(database: DatabaseTarget) -> Plan:
    from .db import plan_database

    return plan_database(database.settings, database.migrations, dev_url=database.dev_url, adopt=database.adopt)


def _database_basis(database: DatabaseTarget) -> dict[str, Any]:
    from .db import database_basis

    return database_basis(database.settings)


def plan_basis(target: Target, desired: Desired | None, session: JetStreamSession | None,
               database: dict[str, Any] | None) -> PlanBasis:
    """What a plan was computed from (savedplan.py): manifest and migration files, live configs,
    the NATS target, the database revision and schema fingerprint."""
    from .savedplan import PlanBasis, manifest_digests, target_of

    files: list[Any] = list(desired.files) if desired else []
    if target.database:
        files += migration_files(target.database.migrations)
    configs: dict[str, Any] = {}
    nats_target: dict[str, Any] = {}
    if session is not None and session.live is not None:
        from .jetstream.diff import consumer_address, stream_address

        live = session.live
        configs = {stream_address(name): item["config"] for name, item in live.streams.items()}
        configs |= {consumer_address(*key): item["config"] for key, item in live.consumers.items()}
        nats_target = target_of(live.identity)
    return PlanBasis.build(manifests=manifest_digests(files), live_configs=configs, target=nats_target,
                           database=database)


async def _plan(session: JetStreamSession | None, desired: Desired | None, target: Target, *,
                saving: bool) -> tuple[Plan, PlanBasis | None]:
    """Both halves at once (the database's in a thread: blocking SQLAlchemy and a scratch Postgres);
    the basis only when ``saving`` (it digests every live config: 5,000 at 1,000 streams x 4 consumers)."""
    halves = []
    if session is not None and desired is not None:
        halves.append(session.plan(desired, prune=target.prune))
    if target.database:
        halves.append(asyncio.to_thread(_plan_database, target.database))
    plan = join(await asyncio.gather(*halves))
    plan.context["options"] = {"prune": target.prune}
    database = None
    if target.database:
        database = {"revision": plan.context.get("database_revision"), "schema": plan.context.get("database_schema")}
    return plan, plan_basis(target, desired, session, database) if saving else None


async def _current_basis(session: JetStreamSession | None, desired: Desired | None, target: Target) -> PlanBasis:
    """The basis now, to check a saved plan against (both halves observed, not planned again)."""
    halves: list[Any] = []
    if session is not None and desired is not None:
        halves.append(session.observe())
    if target.database:
        halves.append(asyncio.to_thread(_database_basis, target.database))
    results = await asyncio.gather(*halves)
    return plan_basis(target, desired, session, results[-1] if target.database else None)


async def plan_all(target: Target, *, saving: bool = True) -> tuple[Plan, PlanBasis | None]:
    """The joint plan (JetStream changes, then the database's) and, when ``saving``, its basis for ``--out``."""
    _check_migrations(target)
    desired = _load(target)
    async with _session(target, "jsctl plan") as session:
        return await _plan(session, desired, target, saving=saving)


@contextlib.asynccontextmanager
async def _apply_lock(session: JetStreamSession | None, timeout: float,
                      tell: Callable[[str], None]) -> AsyncIterator[ApplyLock | None]:
    """The apply lock in the NATS account; without NATS, the database's advisory lock alone serializes."""
    if session is None:
        yield None
        return
    from .lock import ApplyLock

    assert session.api is not None
    async with ApplyLock(session.api.nc, timeout_s=timeout, tell=tell) as lock:
        yield lock


async def _ensure_held(lock: ApplyLock | None) -> None:
    if lock is not None:
        await lock.ensure_held()


async def apply_all(target: Target, options: ApplyOptions, console: Console) -> Applied | None:
    """Plan (or check a saved plan), refuse what needs a decision, then apply and verify both halves;
    None when there was nothing to do (no request sent, no lock on the database taken)."""
    from .render import render_text
    from .savedplan import SavedPlan

    saved = SavedPlan.read(options.plan_file) if options.plan_file else None
    if saved is not None:  # the saved plan decides; the same flags would be needed to plan it again
        target = dataclasses.replace(target, prune=bool(saved.plan.context.get("options", {}).get("prune")))
    _check_migrations(target)
    desired = _load(target)
    async with _session(target, "jsctl apply") as session, \
            _apply_lock(session, options.lock_timeout, console.tell) as lock:
        if saved is None:
            plan, _ = await _plan(session, desired, target, saving=False)
        else:
            saved.ensure_fresh(await _current_basis(session, desired, target))
            plan = saved.plan
        console.show(render_text(plan))
        check_errors(plan)
        if not plan.has_changes:
            return None
        refuse_destructive(plan.changes, options.allow_destructive)
        if saved is None and plan.pending:  # a saved plan was reviewed when it was saved, as with Terraform
            # In a thread: the lock is refreshed on this event loop while a person reads the plan.
            await asyncio.to_thread(console.confirm, plan)
        applied = Applied()
        if target.database and any(is_database(c) and (c.changes_something or c.action == DRIFT)
                                   for c in plan.changes):
            await _ensure_held(lock)
            applied.database_steps = await asyncio.to_thread(_apply_database, target.database, plan, options,
                                                             console.show)
        if session is not None and desired is not None and any(not is_database(c) for c in plan.pending):
            await _ensure_held(lock)
            applied.jetstream_requests = len(await session.apply(desired, plan.pending, prune=target.prune,
                                                                 progress=console.tell,
                                                                 converge_timeout=options.converge_timeout))
        return applied


def _apply_database(database: DatabaseTarget, plan: Plan, options: ApplyOptions,
                    progress: Callable[[str], None]) -> list[str]:
    """Upgrade under Postgres' advisory lock, then verify the database equals schema.yaml (db/apply.py);
    drift alone runs no DDL and fails that verification: jsctl never corrects drift by itself."""
    from .db import ApplySettings, apply_database

    settings = ApplySettings(options.allow_destructive, options.lock_timeout, options.ddl_lock_timeout,
                             options.statement_timeout)
    return apply_database(database.settings, database.migrations, plan, settings, progress)
