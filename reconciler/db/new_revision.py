"""`jsctl db revision`: write a revision for the difference between the migrations at head and
schema.yaml, computed on a scratch database (never the target).

The revision is ordinary Alembic autogenerate output with the options of alembic_env.py, so it is
reviewable Python with the operations the plan will show.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.util import CommandError

from ..errors import UserError
from .alembic_env import alembic_config
from .connect import connect
from .history import head_revision, script_directory
from .migrate import replay_errors, upgrade
from .scratch import scratch_database


def make_revision(migrations_dir: Path, message: str, dev_url: str | None = None) -> Path | None:
    """Write the revision and return its path; None when the migrations at head already match."""
    script = script_directory(migrations_dir)
    head_revision(script)  # fails early on multiple heads
    with scratch_database(dev_url) as scratch_settings, connect(scratch_settings) as scratch:
        with replay_errors(migrations_dir):
            upgrade(scratch, migrations_dir)
        config = alembic_config(migrations_dir, scratch)
        try:
            written = command.revision(config, message=message, autogenerate=True)
        except CommandError as exc:
            raise UserError(f"cannot generate a revision: {exc}") from None
    if not written:
        return None
    scripts = written if isinstance(written, list) else [written]
    return Path(scripts[0].path)

