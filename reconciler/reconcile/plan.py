"""One plan for JetStream and the Postgres schema together (apply.py applies it).

``plan_all`` joins the JetStream plan (``JetStreamSession``) and the database plan
(``reconciler.db.plan_database``) into one Plan, JetStream changes first, and computes the basis a
saved plan is checked against (plan/planfile.py).

Either half may be absent: no database configured (nothing database-related is imported:
SQLAlchemy and Alembic cost ≈ 0.26 s), or no NATS (`jsctl db plan`, `jsctl db upgrade`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..jetstream.ownership import Ownership
from ..plan.model import Plan
from .target import DatabaseTarget, Target

if TYPE_CHECKING:
    from ..jetstream.session import JetStreamSession
    from ..manifest.model import Desired
    from ..plan.planfile import PlanBasis, SavedPlan

def join(plans: Iterable[Plan]) -> Plan:
    """One Plan from several planners' (in order): changes, errors and context side by side."""
    joined = Plan()
    for plan in plans:
        joined.changes += plan.changes
        joined.errors += plan.errors
        joined.context |= plan.context
    return joined


def migration_files(migrations: Path) -> list[Path]:
    """The files of migrations/ a plan depends on: the desired schema and the revisions."""
    return [migrations / "schema.yaml", *sorted((migrations / "versions").glob("*.py"))]


def load_manifests(files: Iterable[str], variables: Mapping[str, Any] | None = None) -> Desired:
    """The validated JetStream manifests (every problem at once), ``${name}`` taken from ``variables``;
    none named: the default files."""
    from ..manifest import load_desired

    return load_desired([Path(f) for f in files], variables)


def _load(target: Target) -> Desired | None:
    if target.nats is None:
        return None
    if target.destroy:
        from ..manifest.model import Desired

        return Desired()
    return load_manifests(target.files, target.variables)


def _check_target(target: Target) -> None:
    """What refuses a plan or apply before anything is read: --prune or --from-owner without an owner,
    a database configured without its migrations."""
    target.ownership.check(target.prune, "jsctl destroy" if target.destroy else "--prune")
    if target.database and not (target.database.migrations / "schema.yaml").is_file():
        raise UserError(f"{target.database.migrations}: no schema.yaml (a database is configured: "
                        "pass --migrations DIR, or unset DATABASE_URL for JetStream alone)")


@contextlib.asynccontextmanager
async def _session(target: Target, name: str) -> AsyncIterator[JetStreamSession | None]:
    if target.nats is None:
        yield None
        return
    from ..jetstream.session import JetStreamSession

    async with JetStreamSession(target.nats, name=name) as session:
        yield session


def _plan_database(database: DatabaseTarget) -> Plan:
    from ..db import plan_database

    return plan_database(database.settings, database.migrations, dev_url=database.dev_url, adopt=database.adopt)


def _database_basis(database: DatabaseTarget) -> dict[str, Any]:
    from ..db import database_basis

    return database_basis(database.settings)


def plan_basis(target: Target, desired: Desired | None, session: JetStreamSession | None,
               database: dict[str, Any] | None, plan: Plan, also: Iterable[str] = ()) -> PlanBasis:
    """What ``plan`` was computed from (plan/planfile.py): manifest and migration files, the live
    resources it reads and would touch (jetstream/basis.py; ``also``: those a saved plan recorded),
    the NATS target, the database revision and schema fingerprint."""
    from ..plan.planfile import PlanBasis, manifest_digests, resolved_digest, target_of

    files: list[Any] = list(desired.files) if desired else []
    if target.database:
        files += migration_files(target.database.migrations)
    live: dict[str, Any] = {}
    nats_target: dict[str, Any] = {}
    if session is not None and session.live is not None and desired is not None:
        from ..jetstream.basis import recorded

        live = recorded(session.declared(desired), plan, session.live, also)
        nats_target = target_of(session.live.identity)
    return PlanBasis.build(manifests=manifest_digests(files), live=live, target=nats_target, database=database,
                           environment=target.environment,
                           configuration=None if desired is None else resolved_digest(desired))


def plan_options(target: Target) -> dict[str, Any]:
    """The choices a plan was made with, kept in its context (a saved plan is applied with them)."""
    options: dict[str, Any] = {"prune": target.prune}
    for key, value in (("owner", target.ownership.owner), ("from_owner", target.ownership.from_owner),
                       ("only", target.only)):
        if value:
            options[key] = value
    return options


def planned_with(target: Target, plan: Plan) -> Target:
    """``target`` with the choices ``plan`` was made with (plan_options): a saved plan decides them."""
    options = plan.context.get("options", {})
    return dataclasses.replace(target, prune=bool(options.get("prune")),
                               ownership=Ownership(options.get("owner"), options.get("from_owner")),
                               only=options.get("only"))


async def _plan(session: JetStreamSession | None, desired: Desired | None, target: Target, *,
                saving: bool) -> tuple[Plan, PlanBasis | None]:
    """Both halves at once (the database's in a thread: blocking SQLAlchemy and a scratch Postgres);
    the basis only when ``saving`` (it digests every live config: 5,000 at 1,000 streams x 4 consumers)."""
    halves = []
    if session is not None and desired is not None:
        halves.append(session.plan(desired, prune=target.prune, ownership=target.ownership))
    if target.database:
        halves.append(asyncio.to_thread(_plan_database, target.database))
    plan = join(await asyncio.gather(*halves))
    plan.context["options"] = plan_options(target)
    if target.destroy:  # "not in the manifests" is true, but not why a destroy deletes
        for change in plan.pending:
            change.reason = f"owned by project {target.ownership.owner}: destroyed"
    database = None
    if target.database:
        database = {"revision": plan.context.get("database_revision"), "schema": plan.context.get("database_schema")}
    return plan, plan_basis(target, desired, session, database, plan) if saving else None


async def _current_basis(session: JetStreamSession | None, desired: Desired | None, target: Target,
                         saved: SavedPlan) -> PlanBasis:
    """The basis now, to check ``saved`` against (both halves observed, not planned again)."""
    halves: list[Any] = []
    if session is not None and desired is not None:
        halves.append(session.observe(entries_of=desired, prune=target.prune))
    if target.database:
        halves.append(asyncio.to_thread(_database_basis, target.database))
    results = await asyncio.gather(*halves)
    return plan_basis(target, desired, session, results[-1] if target.database else None, saved.plan,
                      also=saved.basis.live)


async def plan_all(target: Target, *, saving: bool = True,
                   load: Callable[[Target], Desired | None] = _load) -> tuple[Plan, PlanBasis | None]:
    """The joint plan (JetStream changes, then the database's) and, when ``saving``, its basis for ``--out``;
    ``load`` reads the manifests (environments share it: reconcile/environments.py)."""
    target = target.narrowed()
    _check_target(target)
    desired = load(target)
    async with _session(target, "jsctl plan") as session:
        return await _plan(session, desired, target, saving=saving)
