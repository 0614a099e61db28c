"""Saved plans: ``jsctl plan --out plan.json`` then ``jsctl apply plan.json``.

A saved plan is the Plan value plus its *basis*: what it was computed from. Applying re-reads the
manifests and the live state, computes the basis again, and refuses (exit 3) when anything
differs, naming what changed, as Terraform does with a stale saved plan:

- the manifests: sha256 of every file read (streams/consumers YAML, migrations/schema.yaml and
  migrations/versions/*.py),
  by path relative to the working directory, so a CI job can plan in one checkout and apply in another;
- the live resources the plan reads and would touch (jetstream/basis.py: not the whole account, which
  changes all day), each as the server reported it, so a refusal names every field that changed;
- the database: Alembic revision and a fingerprint of the live schema (db/fingerprint.py);
- the configuration the manifests resolve to (after variables and an environment's files): its digest,
  never the values;
- the target: server/cluster name and version, account, JetStream domain, and the environment (`--env`)
  it was planned for: a plan for staging never applies to production, a refusal in one line naming both.

The file never holds a secret: connection settings are not part of it, and ``write`` refuses to
write a file in which a secret registered with ``errors.keep_secret`` or anything shaped like an
nkey seed appears.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import JsctlError, Refused, UserError, holds_secret
from .model import Plan

KIND = "jsctl-saved-plan"
FORMAT_VERSION = 3  # 2: the basis keeps each covered resource's config (stale refusals name fields);
# 3: it records the environment, the account and domain, and the resolved configuration's digest
_SKIPPED_DIRS = {"__pycache__", ".git"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# nkey seeds: 'S' + key type + 56 base32 characters (user, account, operator, server, cluster...), a word
# of its own. Spelled to start with the literal S (the lookbehind is the leading \b), which lets the regex
# engine skip to each S: 150 times faster over a 3 MB plan file.
_SEED_SHAPE = re.compile(r"S(?<!\wS)[UAONCXP][A-Z2-7]{56}\b")


def digest(value: Any) -> str:
    """sha256 of a JSON value in canonical form (sorted keys, no spaces)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _display_path(path: Path, base: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def manifest_digests(paths: Iterable[str | os.PathLike]) -> dict[str, str]:
    """``{path relative to the working directory: sha256}`` for every file named or found under a directory named."""
    base_path = Path.cwd().resolve()
    found: dict[str, str] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file() and not _SKIPPED_DIRS & set(p.parts)
                     and not p.name.endswith(_SKIPPED_SUFFIXES)]
        elif path.is_file():
            files = [path]
        else:
            continue  # a default path that does not exist (no migrations/): nothing to digest
        for file in files:
            found[_display_path(file, base_path)] = _file_digest(file)
    return dict(sorted(found.items()))


@dataclass
class PlanBasis:
    """What a plan was computed from; two bases are equal iff the plan would be the same."""

    manifests: dict[str, str] = field(default_factory=dict)  # path -> sha256
    # address -> {"config": as read, "created": time} (jetstream/basis.py), for the resources the plan covers
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    database: dict[str, Any] | None = None  # {"revision": ..., "schema": digest} when a database is used
    target: dict[str, Any] = field(default_factory=dict)  # target_of's: server or cluster, version, account, domain
    environment: str | None = None  # the environment planned for (--env); None: none named
    configuration: str | None = None  # resolved_digest of the manifests' configuration (None: no JetStream half)

    @classmethod
    def build(cls, *, manifests: Mapping[str, str], live: Mapping[str, dict[str, Any]],
              target: Mapping[str, Any], database: Mapping[str, Any] | None = None, environment: str | None = None,
              configuration: str | None = None) -> PlanBasis:
        """From what observation read: ``live`` is jetstream.basis.recorded's; ``database`` is
        ``reconciler.db.database_basis``'s ``{"revision", "schema"}`` (None: no database)."""
        return cls(dict(manifests), dict(live), None if database is None else dict(database), dict(target),
                   environment, configuration)


def resolved_digest(desired: Any) -> str:
    """The digest of what the manifests declare once resolved (``manifest.model.Desired``: every kind of
    resource's config by address, after variables and patches). Connection settings are not part of it:
    no secret is digested."""
    declared = {kind: {"/".join(key) if isinstance(key, tuple) else key: _resolved(item) for key, item in items.items()}
                for kind, items in vars(desired).items() if isinstance(items, dict)}  # not files, hints
    return digest(declared)


def _resolved(item: Any) -> Any:
    """A declared item in the digest: its config; one without (a KV entry), its fields but where it was
    written; a sensitive one by its presence only (the digest of a short secret can be guessed back)."""
    if getattr(item, "sensitive", False):
        return "sensitive"
    if hasattr(item, "config"):
        return item.config
    return {name: value for name, value in vars(item).items() if name != "origin"}


def target_of(identity: Any) -> dict[str, Any]:
    """The part of a ``jetstream.client.ServerIdentity`` that names the target (not the node: clusters have many)."""
    return {"cluster": identity.cluster, "server": None if identity.cluster else identity.name,
            "version": identity.version, "account": identity.account, "domain": identity.domain}


def stale_reasons(saved: PlanBasis, current: PlanBasis) -> list[str]:
    """What changed between the basis of a saved plan and now; empty when the plan is still valid."""
    if not _same_target(saved.target, current.target):  # then nothing else compares: the rest differs too
        return [f"the target differs: the plan was made against {_describe_target(saved.target)}, "
                f"this is {_describe_target(current.target)}"]
    reasons = _map_changes("manifest file", saved.manifests, current.manifests, "edited")
    if saved.configuration != current.configuration and not reasons:
        reasons.append("the manifests resolve to another configuration than the plan's (other variables, "
                       "or the environment's files changed)")
    if saved.live != current.live:
        from ..jetstream.basis import what_changed

        reasons += what_changed(saved.live, current.live)
    if saved.database != current.database:
        before, now = saved.database or {}, current.database or {}
        if before.get("revision") != now.get("revision"):
            reasons.append(f"the database revision is {now.get('revision')}, "
                           f"the plan was made at {before.get('revision')}")
        elif before.get("schema") != now.get("schema"):
            reasons.append("the database schema changed since the plan")
        else:
            reasons.append("the plan was made with a different database configuration")
    return reasons


def _map_changes(what: str, before: Mapping[str, str], now: Mapping[str, str], verb: str) -> list[str]:
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(k for k in set(before) & set(now) if before[k] != now[k])
    return ([f"{what} {k} appeared since the plan" for k in added]
            + [f"{what} {k} disappeared since the plan" for k in removed]
            + [f"{what} {k} was {verb} since the plan" for k in changed])


def _same_target(saved: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Equal targets; the account compared only when both users could ask for it (a plan user without
    $SYS.REQ.USER.INFO, docs/gitops.md "NATS permissions", knows none)."""
    def known(target: Mapping[str, Any]) -> dict[str, Any]:
        both = saved.get("account") is not None and current.get("account") is not None
        return {key: value for key, value in target.items() if key != "account" or both}

    return known(saved) == known(current)


def _describe_target(target: Mapping[str, Any]) -> str:
    where = f"cluster {target.get('cluster')}" if target.get("cluster") else f"server {target.get('server')}"
    account = f", account {target['account']}" if target.get("account") else ""
    domain = f", JetStream domain {target['domain']}" if target.get("domain") else ""
    return f"{where} (nats-server {target.get('version')}){account}{domain}"


def _describe_environment(environment: str | None) -> str:
    return f"environment {environment}" if environment else "no environment (no --env)"


@dataclass
class SavedPlan:
    plan: Plan
    basis: PlanBasis
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    jsctl_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """As JSON values; the basis's are shared, not copied (thousands of configs: only read, to write them)."""
        basis = {f.name: getattr(self.basis, f.name) for f in fields(self.basis)}
        return {"kind": KIND, "format_version": FORMAT_VERSION, "jsctl_version": self.jsctl_version,
                "created_at": self.created_at, "basis": basis, "plan": self.plan.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, source: str = "plan file") -> SavedPlan:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise UserError(f"{source} is not a jsctl saved plan (make one with `jsctl plan --out FILE`)")
        if data.get("format_version") != FORMAT_VERSION:
            raise UserError(f"{source} has plan format {data.get('format_version')}, this jsctl reads "
                            f"format {FORMAT_VERSION}: run `jsctl plan --out` again")
        try:
            basis = PlanBasis(**data["basis"])
            wrong = _misshapen(basis)
            if wrong:
                raise ValueError(f"basis.{wrong} is not what this jsctl records")  # e.g. an older jsctl's digests
            plan = Plan.from_dict(data["plan"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a hand edit: a list where a dict was
            raise UserError(f"{source} is damaged ({exc}): run `jsctl plan --out` again") from None
        return cls(plan, basis, str(data.get("created_at", "")), str(data.get("jsctl_version", "")))

    @classmethod
    def read(cls, path: str | os.PathLike) -> SavedPlan:
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise UserError(f"plan file {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise UserError(f"plan file {path} is not JSON (make one with `jsctl plan --out FILE`)") from None
        return cls.from_dict(data, f"plan file {path}")

    def text(self) -> str:
        """The file's text; raises instead if it would hold a secret (ensure_no_secret)."""
        data = self.to_dict()
        text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
        ensure_no_secret(data, text)
        return text

    def write(self, path: str | os.PathLike) -> None:
        text = self.text()
        try:
            Path(path).write_text(text)
        except OSError as exc:  # a missing folder, no permission: the user's to fix, not a crash
            raise UserError(f"--out {path}: {exc.strerror or exc}") from None

    def ensure_environment(self, environment: str | None) -> None:
        """Refuse (exit 3), before connecting, a plan made for another environment than ``environment``."""
        if self.basis.environment != environment:
            made = self.basis.environment
            raise Refused(f"the saved plan was made for {_describe_environment(made)}, this is "
                          f"{_describe_environment(environment)}: nothing was applied; apply it "
                          f"{f'with --env {made}' if made else 'without --env'}, or plan for "
                          f"{_describe_environment(environment)} and apply that")

    def ensure_fresh(self, current: PlanBasis) -> None:
        """Refuse (exit 3) to apply a plan whose basis changed, or one made by another jsctl version."""
        reasons = stale_reasons(self.basis, current)
        if self.jsctl_version != __version__:
            reasons.insert(0, f"it was made by jsctl {self.jsctl_version}, this is jsctl {__version__}")
        if reasons:
            more = f"; and {len(reasons) - _REASONS_SHOWN} more" if len(reasons) > _REASONS_SHOWN else ""
            raise Refused(f"the saved plan from {self.created_at} is stale: {'; '.join(reasons[:_REASONS_SHOWN])}"
                          f"{more}. Nothing was applied: run `jsctl plan --out FILE` again, review the new plan "
                          "and apply that")


_REASONS_SHOWN = 20  # a message, not a report: thousands of changed resources would bury the advice


def environment_plan_path(directory: str | os.PathLike, environment: str) -> Path:
    """``DIR/<environment>.plan.json``: where `plan --all-envs --out DIR` saves an environment's plan."""
    if not environment or environment in (".", "..") or any(c in environment for c in "/\\\0"):
        raise UserError(f"environment {environment!r} cannot name a file: use letters, digits, '.', '-' and '_'")
    return Path(directory) / f"{environment}.plan.json"


def write_environment_plans(directory: str | os.PathLike, plans: Iterable[tuple[str, SavedPlan]]) -> list[Path]:
    """Save each environment's plan in ``directory`` (made if missing), one file each, all or none: every
    file's text is made (and checked for secrets) before the first is written."""
    texts = [(environment_plan_path(directory, environment), saved.text()) for environment, saved in plans]
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for path, text in texts:
            path.write_text(text)
    except OSError as exc:
        raise UserError(f"--out {directory}: {exc.strerror or exc}") from None
    return [path for path, _ in texts]


def _misshapen(basis: PlanBasis) -> str | None:
    """The first field of a basis read from a file that is not of the type this jsctl writes (a hand edit):
    comparing it would fail as a crash, not as this one clear error."""
    shapes = {"manifests": dict, "live": dict, "target": dict, "database": (dict, type(None))}
    wrong = [name for name, shape in shapes.items() if not isinstance(getattr(basis, name), shape)]
    if not wrong and not all(map(_is_live_entry, basis.live.values())):
        wrong = ["live"]
    return wrong[0] if wrong else None


def _is_live_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and (entry.get("offline") is True or isinstance(entry.get("config"), dict))


def ensure_no_secret(value: Any, text: str | None = None) -> None:
    """Raise if a string in ``value`` (the saved plan, as JSON values) holds a secret this process has seen
    (errors.keep_secret: passwords, tokens, seeds, credentials in URLs) or anything shaped like an nkey
    seed. The message names where, never what.

    ``text``, ``value`` as JSON (what is written), is searched first, in one pass: JSON escapes strings
    character by character, so a string holding a secret puts the secret, escaped, in the text; only
    then are the places looked for (a match across two strings has none: the whole file is named)."""
    if text is not None and not (holds_secret(text, _in_json) or _SEED_SHAPE.search(text)):
        return
    where = list(_secret_places(value)) or ([] if text is None else ["the file"])
    if where:
        more = f" and {len(where) - _PLACES_NAMED} more places" if len(where) > _PLACES_NAMED else ""
        raise JsctlError(f"refusing to write the plan: {', '.join(where[:_PLACES_NAMED])}{more} would contain a "
                         "secret jsctl was given (a password, token or nkey seed); if the secret is also a name there, "
                         "give it a value of its own, otherwise this is a bug in jsctl, please report it")


_PLACES_NAMED = 3


def _secret_places(value: Any, path: str = "") -> Iterator[str]:
    """The JSON paths (``plan.context.nats.server_name``) of the strings in ``value`` holding a secret."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_is_clean = _holds_no_secret(key)
            here = ".".join(filter(None, (path, str(key) if key_is_clean else "***")))
            if not key_is_clean:
                yield f"{here} (a key)"
            yield from _secret_places(item, here)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _secret_places(item, f"{path}[{index}]")
    elif not _holds_no_secret(value):
        yield path


def _in_json(secret: str) -> str:
    return json.dumps(secret)[1:-1]


def _holds_no_secret(value: Any) -> bool:
    text = str(value)
    return not holds_secret(text) and not _SEED_SHAPE.search(text)
