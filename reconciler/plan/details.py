"""What a reviewer needs of a change beyond its field diff, as typed values (README, "Plans").

- ``destroys``: the live state a replace or delete loses (messages, bytes, consumers, positions);
- ``adopts``: an update that also marks a resource as this project's (jsctl did not create it, or
  recorded no owner, or another project owns it and this plan takes it over);
- ``owner``: the project that owns the live resource (its ``io.jsctl.owner``), on notes of undeclared
  resources and on changes that take a resource over from another project;
- ``revision``: the database revision an upgrade runs: its file, SQL and risks;
- ``message``: a revision's message, or why a database is adopted;
- ``sensitive``: a KV entry whose value is never shown (its diff's before and after are null).

A ``Risk`` is one SQL statement with its findings, each a flag (the names below) and a note saying
why. In the plan's JSON a finding is written ``"flag: note"`` (the documented format); ``to_dict`` and
``from_dict`` are the only places that spell or read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Risk flags of a database revision's statements (db/risk.py finds them, plan/policy.py judges them).
DESTRUCTIVE = "destructive"  # drops a table, column, index or constraint
MODIFIES_DATA = "modifies-data"  # inserts, updates or deletes rows
BACKFILL = "backfill"  # the same, only on what the revision created: no existing value changes
LOSSY = "lossy"  # a type change that can change values for good
REWRITE = "rewrite"  # rewrites the table under an ACCESS EXCLUSIVE lock
LONG_LOCK = "long-lock"  # holds a lock while every row is read
DATA_DEPENDENT = "data-dependent"  # may fail on the rows present
CONCURRENTLY_IN_TRANSACTION = "concurrently-in-transaction"  # cannot run as written


@dataclass(frozen=True)
class Finding:
    flag: str
    note: str
    # The live table or index the statement would lose something of (the findings that lose data;
    # None: unknown). Not part of the JSON: the plan judges it once, when it is made (plan/policy.py).
    relation: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.flag}: {self.note}"

    @classmethod
    def parse(cls, text: str) -> Finding:
        flag, _, note = text.partition(": ")
        return cls(flag, note)


@dataclass
class Risk:
    """One statement a revision runs and what it risks."""

    sql: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        return sorted({finding.flag for finding in self.findings})

    def flag(self, name: str, note: str, relation: str | None = None) -> None:
        self.findings.append(Finding(name, note, relation))

    def to_dict(self) -> dict[str, Any]:
        return {"sql": self.sql, "flags": self.flags, "notes": [str(finding) for finding in self.findings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Risk:
        return cls(data["sql"], [Finding.parse(note) for note in data.get("notes", [])])


@dataclass
class RevisionInfo:
    """The revision an upgrade runs: where it comes from, its SQL, and its statements that carry risks."""

    from_revision: str | None
    file: str | None  # relative to the migrations directory
    sql: str
    risks: list[Risk] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        return sorted({flag for risk in self.risks for flag in risk.flags})

    def findings(self, *flags: str) -> list[Finding]:
        """Its findings with one of ``flags``, in statement order."""
        return [finding for risk in self.risks for finding in risk.findings if finding.flag in flags]


@dataclass
class Details:
    message: str | None = None
    revision: RevisionInfo | None = None
    destroys: dict[str, Any] | None = None
    adopts: bool = False
    owner: str | None = None
    sensitive: bool = False

    @property
    def flags(self) -> list[str]:
        """Risk flags a reviewer needs at a glance (a revision's: destructive, rewrite, long-lock, ...)."""
        return self.revision.flags if self.revision else []

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/plan-apply.md): only what is set, in this order."""
        data: dict[str, Any] = {}
        if self.message is not None:
            data["message"] = self.message
        if self.revision is not None:
            revision = self.revision
            data |= {"from": revision.from_revision, "file": revision.file, "sql": revision.sql,
                     "flags": revision.flags, "risks": [risk.to_dict() for risk in revision.risks]}
        if self.destroys is not None:
            data["destroys"] = dict(self.destroys)
        if self.adopts:
            data["adopts"] = True
        if self.owner is not None:
            data["owner"] = self.owner
        if self.sensitive:
            data["sensitive"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Details:
        revision = None
        if "sql" in data:
            revision = RevisionInfo(data.get("from"), data.get("file"), data["sql"],
                                    [Risk.from_dict(risk) for risk in data.get("risks", [])])
        return cls(data.get("message"), revision, data.get("destroys"), bool(data.get("adopts")), data.get("owner"),
                   bool(data.get("sensitive")))
