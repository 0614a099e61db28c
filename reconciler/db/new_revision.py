"""`jsctl db revision`: write a revision for the difference between the migrations at head and
schema.yaml, computed on a scratch database (never the target).

The revision is ordinary Alembic autogenerate output with the options of alembic_env.py, so it is
reviewable Python with the operations the plan will show. A type change Postgres cannot make by
itself (integer -> boolean needs a USING expression) is refused before anything is written: such a
revision is for a human to write.

Revision ids continue the history's numbering (0001, 0002, ...: ``next_revision_id``), never
Alembic's random hex beside it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ..errors import UserError
from .alembic_env import alembic_config
from .connect import connect, server_major
from .history import head_revision, script_directory
from .migrate import replay_errors, upgrade
from .observe import column_types
from .risk import using_hint
from .schema_yaml import load_schema, located
from .scratch import scratch_database
from .spec import Problem, SchemaSpec
from .types import conversion


def make_revision(migrations_dir: Path, message: str, dev_url: str | None = None) -> Path | None:
    """Write the revision and return its path; None when the migrations at head already match."""
    script = script_directory(migrations_dir)
    head_revision(script)  # fails early on multiple heads
    rev_id = next_revision_id(script)
    with scratch_database(dev_url) as scratch_settings, connect(scratch_settings) as scratch:
        with replay_errors(migrations_dir):
            upgrade(scratch, migrations_dir)
        problems = impossible_casts(load_schema(migrations_dir, server_major(scratch)), column_types(scratch))
        if problems:
            raise located(migrations_dir, problems)
        config = alembic_config(migrations_dir, scratch)
        try:
            written = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        except CommandError as exc:
            raise UserError(f"cannot generate a revision: {exc}") from None
    if not written:
        return None
    scripts = written if isinstance(written, list) else [written]
    return Path(scripts[0].path)


ID_DIGITS = 4  # the shipped history's 0001, 0002, ...


def next_revision_id(script: ScriptDirectory) -> str:
    """One more than the highest numeric id of the history, at least 4 digits (0009 -> 0010, 9999 -> 10000).

    Ids that are not numbers (a revision written by `alembic revision`: random hex) are left out of
    the count; they keep working, since Alembic orders revisions by ``down_revision``, not by id.
    """
    numbers = [int(s.revision) for s in script.walk_revisions() if s.revision.isascii() and s.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:0{ID_DIGITS}d}"


def impossible_casts(spec: SchemaSpec, types_at_head: dict[tuple[str, str], str]) -> list[Problem]:
    """Columns whose type schema.yaml changes in a way Postgres cannot convert without a USING expression."""
    problems = []
    for i, table in enumerate(spec.tables):
        for j, column in enumerate(table.columns):
            old = types_at_head.get((table.name, column.name))
            if old is not None and not conversion(old, column.type).automatic:
                problems.append(Problem(("tables", i, "columns", j, "type"),
                                        using_hint(table.name, column.name, old, column.type)))
    return problems
