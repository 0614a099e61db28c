"""After an upgrade: the live schema must equal schema.yaml; what differs is drift no revision corrects."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import UserError
from .diff import Sides, differences, summarize


def verify(connection: sa.Connection, metadata: sa.MetaData) -> None:
    """Raise naming every difference between the database and ``metadata`` (schema.yaml)."""
    remainder = differences(connection, metadata)
    if remainder:
        raise UserError(f"after the upgrade the database still differs from schema.yaml "
                        f"(drift no revision corrects): {summarize(remainder, Sides())}")
