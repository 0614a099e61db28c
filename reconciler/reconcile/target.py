"""What to reconcile and how apply talks to its user: the inputs of plan_all and apply_all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..db.settings import DatabaseSettings
from ..errors import UserError
from ..jetstream.ownership import NO_OWNER, Ownership
from ..jetstream.settings import NatsSettings
from ..plan.address import DATABASE, JETSTREAM
from ..plan.model import Plan


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
    prune: bool = False  # delete this project's resources that no manifest declares any more
    ownership: Ownership = NO_OWNER  # who this project is (resources' io.jsctl.owner), and whom it takes over from
    only: str | None = None  # --only: JETSTREAM or DATABASE, the one half to plan and apply; None: both
    environment: str | None = None  # --env: the jsctl.yaml environment (a saved plan applies to it only)
    variables: Mapping[str, Any] = field(default_factory=dict)  # values for the manifests' ${name}
    destroy: bool = False  # `jsctl destroy`: no manifest read, as if they declared nothing (with prune: delete all)

    def destroying(self) -> Target:
        """This target as `jsctl destroy` plans it: JetStream alone (the database is never touched), declaring
        nothing, pruning: every stream and consumer this project owns is deleted."""
        return replace(self, files=(), database=None, prune=True, only=JETSTREAM, destroy=True)

    def narrowed(self) -> Target:
        """This target without the half ``only`` leaves out (JetStream's: no NATS connection at all)."""
        if self.only == JETSTREAM:
            return replace(self, database=None)
        if self.only == DATABASE:
            if self.database is None:
                raise UserError("--only database: no database configured: pass --database-url or set DATABASE_URL")
            return replace(self, nats=None)
        return self


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
    database_drift: bool = False  # the database differs from its migrations (reported as an error)

    def summary(self, verb: str = "apply") -> str:
        parts = ([f"database: {len(self.database_steps)} step(s)"] if self.database_steps else []) + \
                ([f"JetStream: {self.jetstream_requests} request(s)"] if self.jetstream_requests else [])
        if self.database_drift:
            return f"Applied: {', '.join(parts) or 'nothing else to do'}; verified, but the database drifted (below)."
        return (f"{verb.capitalize()} complete: {', '.join(parts) or 'nothing left to do (another apply did it)'}; "
                "verified.")
