"""What the database should be at head: its tables equal schema.yaml (Alembic's comparison), its functions,
triggers and views those the migrations at head create (code_objects.py). Apply checks it after an upgrade
(what still differs is drift no revision corrects); --adopt checks it before stamping."""

from __future__ import annotations

import sqlalchemy as sa

from ..plan.model import Change
from .code_objects import digests, object_drift, observe_objects
from .diff import Sides, differences, drift_changes

AT_HEAD = Sides(expected="the migrations at head")
OBJECTS_AT_HEAD = "database_objects"  # plan context: digests of the functions, triggers and views at head


def differences_from_head(connection: sa.Connection, metadata: sa.MetaData,
                          objects_at_head: dict[str, str] | None) -> list[Change]:
    """Drift notes, one per address, of what differs from ``metadata`` (schema.yaml) and from
    ``objects_at_head`` (the plan's digests; None: not known, not compared)."""
    changes = drift_changes(differences(connection, metadata), Sides())
    if objects_at_head is not None:
        changes += object_drift(digests(observe_objects(connection)), objects_at_head, AT_HEAD)
    return changes
