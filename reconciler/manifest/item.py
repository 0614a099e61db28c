"""One stream, consumer, bucket or object store as written in a manifest, shared by validation and its rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .load import Document, Path_, Problem
from .model import CONSUMER, STREAM, resource_address


@dataclass
class Item:
    """One stream, consumer, bucket or object store as written, with where it was written."""

    kind: str
    document: Document
    path: Path_  # e.g. ("streams", 3)
    config: dict[str, Any]
    checked: bool = True  # False when its types or units are wrong: then only its name is used

    def problem(self, field: Path_, message: str, *, key: bool = False) -> Problem:
        return self.document.problem((*self.path, *field), message, key=key)

    @property
    def name_field(self) -> str:
        """The field holding its name."""
        if self.kind == CONSUMER:
            return "durable_name" if self.config.get("durable_name") else "name"
        return "name" if self.kind == STREAM else "bucket"

    @property
    def name(self) -> str:
        return self.config.get(self.name_field, "")

    @property
    def address(self) -> str | None:
        """Its plan address, or None while its name (or a consumer's stream) is no text."""
        stream = self.config.get("stream") if self.kind == CONSUMER else None
        if not isinstance(self.name, str) or not self.name or not (stream is None or isinstance(stream, str)):
            return None
        return resource_address(self.kind, self.name, stream)

    @property
    def origin(self) -> str:
        line, column = self.document.mark(self.path)
        return f"{self.document.file}:{line}:{column}"
