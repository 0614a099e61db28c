"""The revision history in migrations/versions: what is pending, and the SQL each revision runs.

The SQL comes from Alembic's offline mode (``alembic upgrade --sql``), so what the plan shows is
rendered by the same code paths that apply runs, from the same revision files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ..errors import UserError
from .alembic_env import OFFLINE_URL, VERSION_TABLE, alembic_config
from .pgsql import written_tables

_RUNNING = re.compile(r"^-- Running upgrade (\S*)\s*-> (\S+)", re.M)


@dataclass
class Revision:
    revision: str
    down_revision: str | None
    message: str
    path: str
    statements: list[tuple[str, bool]] = field(default_factory=list)  # (SQL, inside a transaction)

    @property
    def sql(self) -> str:
        return "".join(f"{statement};\n" for statement, _ in self.statements)


def script_directory(migrations_dir: Path) -> ScriptDirectory:
    if not (migrations_dir / "env.py").is_file():
        raise UserError(f"{migrations_dir}: not an Alembic migrations directory (no env.py)")
    return ScriptDirectory.from_config(alembic_config(migrations_dir))


def head_revision(script: ScriptDirectory) -> str | None:
    """The single head; also the first place revision files are imported, so their errors surface here."""
    try:
        return script.get_current_head()
    except CommandError as exc:
        raise UserError(f"{script.dir}: {exc} (merge them with `alembic merge heads`)") from None
    except SyntaxError as exc:
        raise UserError(f"{exc.filename}:{exc.lineno}: cannot load the revision: {exc.msg}") from None
    except Exception as exc:  # a revision that fails at import: name it
        raise UserError(f"{script.dir}/versions: cannot load the revisions: {type(exc).__name__}: {exc}") from None


def pending_revisions(migrations_dir: Path, current: str | None) -> list[Revision]:
    """Revisions between ``current`` and head, oldest first, each with the SQL it runs."""
    script = script_directory(migrations_dir)
    head = head_revision(script)
    if head is None or head == current:
        return []
    try:
        steps = list(script.iterate_revisions(head, current))
    except CommandError as exc:
        raise UserError(f"database revision {current} is not in {migrations_dir}/versions: {exc}") from None
    revisions = [Revision(s.revision, s.down_revision if isinstance(s.down_revision, str) else None,
                          (s.doc or "").strip(), s.path) for s in reversed(steps)]
    statements = split_offline_sql(offline_sql(migrations_dir, current, head))
    for revision in revisions:
        revision.statements = statements.get(revision.revision, [])
    return revisions


def offline_sql(migrations_dir: Path, start: str | None, end: str) -> str:
    buffer = io.StringIO()
    config = alembic_config(migrations_dir, output_buffer=buffer, offline_url=OFFLINE_URL)
    try:
        command.upgrade(config, f"{start}:{end}" if start else end, sql=True)
    except CommandError as exc:
        raise UserError(f"cannot render the SQL of {migrations_dir}: {exc}") from None
    return buffer.getvalue()


def split_offline_sql(sql: str) -> dict[str, list[tuple[str, bool]]]:
    """Offline SQL -> {revision: [(statement, inside a transaction)]}, without BEGIN/COMMIT, comments
    and Alembic's own bookkeeping of the version table."""
    out: dict[str, list[tuple[str, bool]]] = {}
    revision: str | None = None
    in_transaction = False
    for chunk in split_sql(sql):
        lines = chunk.strip().splitlines()
        while lines and lines[0].lstrip().startswith("--"):  # leading comments: Alembic's markers
            if marker := _RUNNING.match(lines[0].strip()):
                revision = marker.group(2)
            lines.pop(0)
        statement = "\n".join(lines).strip().rstrip(";").strip()
        keyword = statement.upper()
        if keyword in ("BEGIN", "START TRANSACTION"):
            in_transaction = True
        elif keyword in ("COMMIT", "ROLLBACK"):
            in_transaction = False
        elif statement and revision and not is_bookkeeping(statement):
            out.setdefault(revision, []).append((statement, in_transaction))
    return out


def is_bookkeeping(statement: str) -> bool:
    """Alembic's own statements on its version table (parsed: a statement that merely names the table,
    or changes other tables too, is the revision's and is shown)."""
    return written_tables(statement) == {VERSION_TABLE}


_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|(\$[A-Za-z_0-9]*\$)|;""", re.S)


def split_sql(sql: str) -> list[str]:
    """Split SQL text at top-level semicolons: not inside quotes, comments or $tag$ bodies (functions)."""
    chunks, start, position = [], 0, 0
    while match := _TOKENS.search(sql, position):
        position = match.end()
        if match.group(1):  # a dollar quote: skip to its closing tag
            close = sql.find(match.group(1), position)
            position = len(sql) if close < 0 else close + len(match.group(1))
        elif match.group(0) == ";":
            chunks.append(sql[start:position])
            start = position
    tail = sql[start:]
    return [*chunks, tail] if tail.strip() else chunks
