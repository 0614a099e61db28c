"""Addresses of resources in a plan, parsed and formatted here and nowhere else.

An address is ``KIND/NAME...`` (README, "Plans"): ``stream/NAME``, ``consumer/STREAM/NAME``,
``kv/BUCKET``, ``objectstore/BUCKET``,
``db/revision/REV``, ``db/table/NAME``, ``db/column/TABLE.COLUMN``, ``db/index/NAME``,
``db/constraint/NAME``, ``db/function/NAME(ARGUMENT TYPES)``, ``db/trigger/TABLE.NAME``, ``db/view/NAME``,
``kv/BUCKET/KEY`` (a declared key of a KV bucket; the key may hold ``/``: ``kv/B/a/b`` is key ``a/b``).
``Address`` is that text (a ``str``, so it prints, compares and serializes as one) that also knows
its ``Kind``: which target it belongs to and its label in metrics. A new kind of resource is one more
``Kind`` below; an address of a kind this jsctl does not know still has one
(named by its prefix, target OTHER), so it is shown, never applied.
"""

from __future__ import annotations

from dataclasses import dataclass

JETSTREAM, DATABASE = "jetstream", "database"  # the targets a plan changes
OTHER = "other"  # an address of a kind this jsctl does not know (shown, never applied)


@dataclass(frozen=True)
class Kind:
    """What an address names: ``prefix`` is its text before the names (``stream``, ``db/table``)."""

    prefix: str
    target: str  # JETSTREAM or DATABASE
    names: int  # how many ``/``-separated names follow the prefix
    title: str = ""  # its label when kinds share a prefix (``kv/B`` and ``kv/B/KEY``)

    @property
    def label(self) -> str:
        """The kind in metrics and summaries: ``stream``, ``db_table``, ``kv_entry``."""
        return self.title or self.prefix.replace("/", "_")

    def address(self, *names: str) -> Address:
        if len(names) != self.names:
            raise ValueError(f"a {self.prefix} address has {self.names} name(s), got {names!r}")
        return Address("/".join((self.prefix, *names)))


STREAM = Kind("stream", JETSTREAM, 1)
CONSUMER = Kind("consumer", JETSTREAM, 2)
KV = Kind("kv", JETSTREAM, 1)  # a KV bucket: planned and applied as its backing stream KV_<bucket>
OBJECTSTORE = Kind("objectstore", JETSTREAM, 1)  # an object store: its backing stream OBJ_<bucket>
DB_REVISION = Kind("db/revision", DATABASE, 1)
DB_TABLE = Kind("db/table", DATABASE, 1)
DB_COLUMN = Kind("db/column", DATABASE, 1)  # TABLE.COLUMN
DB_INDEX = Kind("db/index", DATABASE, 1)
DB_CONSTRAINT = Kind("db/constraint", DATABASE, 1)
DB_FUNCTION = Kind("db/function", DATABASE, 1)  # NAME(ARGUMENT TYPES): its identity in Postgres
DB_TRIGGER = Kind("db/trigger", DATABASE, 1)  # TABLE.NAME
DB_VIEW = Kind("db/view", DATABASE, 1)  # a view or a materialized view
DB = Kind("db", DATABASE, 0)  # the database itself: a difference of a kind a newer Alembic reports
KV_ENTRY = Kind("kv", JETSTREAM, 2, "kv_entry")  # BUCKET/KEY: a key may hold "/", a bucket name cannot

BUCKET_KINDS = frozenset({KV, OBJECTSTORE})
STREAM_KINDS = frozenset({STREAM}) | BUCKET_KINDS  # a stream, or a bucket that is one underneath
KINDS = {kind.label: kind for kind in (STREAM, CONSUMER, KV, OBJECTSTORE, DB_REVISION, DB_TABLE, DB_COLUMN,
                                       DB_INDEX, DB_CONSTRAINT, DB_FUNCTION, DB_TRIGGER, DB_VIEW, DB, KV_ENTRY)}
_BY_PREFIX: dict[str, list[Kind]] = {}  # kinds sharing a prefix: the one with more names first
for _kind in sorted(KINDS.values(), key=lambda kind: -kind.names):
    _BY_PREFIX.setdefault(_kind.prefix, []).append(_kind)


class Address(str):
    """A resource's address; ``Address("stream/ORDERS").kind is STREAM``, ``.names == ("ORDERS",)``."""

    __slots__ = ()

    def _split(self) -> tuple[Kind, tuple[str, ...]]:
        parts = self.split("/", 2)
        for prefix in ("/".join(parts[:2]), parts[0]):  # "db/table" before "db"
            rest = self[len(prefix) + 1:]
            for kind in _BY_PREFIX.get(prefix, ()):
                if bool(rest) != bool(kind.names):
                    continue
                # the last name may hold a "/" (a quoted Postgres name, a KV key); stream, consumer and
                # bucket names cannot
                names = tuple(rest.split("/", kind.names - 1)) if kind.names else ()
                if len(names) == kind.names:
                    return kind, names
        # Not a kind of this jsctl's: still a kind, named by its prefix ("db/x/NAME" is a database's).
        database = parts[0] == "db" and len(parts) > 2
        prefix = "/".join(parts[:2]) if database else parts[0]
        names = tuple(parts[2 if database else 1:])
        return Kind(prefix, DATABASE if database else OTHER, len(names)), names

    @property
    def kind(self) -> Kind:
        return self._split()[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The names after the kind: ``("STREAM", "CONSUMER")`` for ``consumer/STREAM/CONSUMER``."""
        return self._split()[1]

    @property
    def target(self) -> str:
        return self.kind.target
