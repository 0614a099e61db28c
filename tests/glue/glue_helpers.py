"""Helpers shared by the glue tests (a module of its own: `conftest` names clash across test folders)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
from support import REPO

from reconciler.db.history import script_directory

HISTORY = list(reversed(list(script_directory(REPO / "migrations").walk_revisions())))  # the shipped one, oldest first
HEAD = HISTORY[-1].revision
NEXT = "t1next"
SEED = ["stream/USER_TXN", "consumer/USER_TXN/GRP_MAKER", "consumer/USER_TXN/GRP_VALIDATOR"]


def sql(url: str, statement: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def revision(url: str) -> str | None:
    if not sql(url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'alembic_version'"):
        return None
    rows = sql(url, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None




def add_revision(project: Path, body: str, message: str, schema_edit: tuple[str, str]) -> None:
    """A revision NEXT on top of HEAD, and schema.yaml edited to match it."""
    schema = project / "migrations" / "schema.yaml"
    old, new = schema_edit
    assert old in schema.read_text()
    schema.write_text(schema.read_text().replace(old, new))
    (project / "migrations" / "versions" / f"{NEXT}_change.py").write_text(
        f'"""{message}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {NEXT!r}\ndown_revision = {HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n\ndef downgrade():\n    pass\n")


ADD_NOTE = ('op.add_column("user_thresholds", sa.Column("note", sa.Text(), nullable=True))\n', "add note",
            ("      - {name: updated_at, type: timestamptz, default: now()}\n",
             "      - {name: updated_at, type: timestamptz, default: now()}\n"
             "      - {name: note, type: text, nullable: true}\n"))
DROP_DETAIL = ('op.drop_column("rejected_messages", "detail")\n', "drop detail",
               ("      - {name: detail, type: text, nullable: true}\n", ""))
