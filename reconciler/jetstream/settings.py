"""NATS connection settings, as flags, environment and natscli contexts give them.

Precedence is per field: command-line flag > the chosen environment of jsctl.yaml (``--env``) >
environment variable (NATS_*) > natscli context (resolve_nats_settings). An environment's own
``context:`` (or ``--context`` with ``--env``) ranks with the environment, under its keys: after
``eval "$(jsctl dev env)"``, ``--env prod`` must not reach the dev server through NATS_URL.
Connecting is connect.py's; nkeys and creds files are credentials.py's; credentials inside URLs,
reconciler/url_credentials.py's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..url_credentials import redact_url, url_secrets

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True)
class NatsSettings:
    """Everything needed to open a NATS connection. Secret fields are kept out of repr."""

    url: str | None = None
    nkey: str | None = None  # path of a seed file
    creds: str | None = None  # path of a .creds file
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_first: bool = False
    context: str | None = None
    js_domain: str | None = None  # the JetStream domain whose API jsctl talks to (api_prefix)

    @property
    def servers(self) -> list[str]:
        return [u.strip() for u in (self.url or DEFAULT_NATS_URL).split(",") if u.strip()]

    @property
    def display_servers(self) -> str:
        """The server list as it may be shown: every credential in it replaced by ``***``."""
        return redact_url(",".join(self.servers))

    def secrets(self) -> list[str]:
        """Strings that must never be printed (passwords, tokens, credentials in URLs)."""
        return [s for s in (self.password, self.token) if s] + url_secrets(",".join(self.servers))


def nats_config_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "nats"


# natscli context JSON key -> NatsSettings field
_CONTEXT_KEYS = {
    "url": "url",
    "nkey": "nkey",
    "creds": "creds",
    "user": "user",
    "password": "password",
    "token": "token",
    "ca": "tls_ca",
    "cert": "tls_cert",
    "key": "tls_key",
    "tls_first": "tls_first",
    "jetstream_domain": "js_domain",  # jsm.go's natscontext key, as `nats context add --js-domain` writes it
}


def load_context(name: str | None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read a natscli context; without a name, the one natscli has selected (if any)."""
    home = nats_config_home(env)
    explicit = bool(name)
    if not name:
        selected = home / "context.txt"
        name = selected.read_text().strip() if selected.is_file() else ""
        if not name:
            return {}
    path = home / "context" / f"{name}.json"
    if not path.is_file():
        if explicit:
            raise UserError(f"nats context {name!r} not found (looked for {path})")
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"nats context {name!r} ({path}) is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"nats context {name!r} ({path}) must be a JSON object")
    return {ours: data[theirs] for theirs, ours in _CONTEXT_KEYS.items() if data.get(theirs) not in (None, "")}


# Fields that only make sense together: when a flag or variable sets one of a group, the
# context's values for the whole group are ignored (an --nkey must not be paired with the
# context's creds, a --tls-cert with the context's key).
_TOGETHER = (("nkey", "creds", "user", "password", "token"), ("tls_cert", "tls_key"))


def _overlay(upper: Mapping[str, Any], lower: Mapping[str, Any]) -> dict[str, Any]:
    """``upper``'s settings over ``lower``'s; a _TOGETHER group ``upper`` sets at all hides ``lower``'s."""
    hidden = {name for group in _TOGETHER if any(upper.get(name) for name in group) for name in group}
    return {**{name: value for name, value in lower.items() if name not in hidden}, **upper}


def _set(settings: NatsSettings | Mapping[str, Any] | None) -> dict[str, Any]:
    values = settings if isinstance(settings, Mapping) else {} if settings is None else \
        {f.name: getattr(settings, f.name) for f in fields(settings)}
    return {name: value for name, value in values.items() if value is not None and value is not False}


def resolve_nats_settings(given: NatsSettings, env: Mapping[str, str] | None = None, *,
                          environment: Mapping[str, Any] | None = None,
                          variables: Mapping[str, Any] | None = None) -> NatsSettings:
    """The settings ``given`` by flags, over those of the chosen ``environment`` of jsctl.yaml (None: no
    ``--env``), over the NATS_* ``variables``, over the natscli context, field by field."""
    flags, chosen, from_variables = _set(given), _set(environment), _set(variables)
    if environment is None:  # as before environments: flags and variables are one layer (click's envvar)
        flags, from_variables = {**from_variables, **flags}, {}
    ranked_context = environment is not None and bool(flags.get("context") or chosen.get("context"))
    name = flags.get("context") or chosen.get("context") or from_variables.get("context")
    from_context = load_context(name, env)
    layers = ([flags, chosen, from_context, from_variables] if ranked_context
              else [flags, chosen, from_variables, from_context])
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = _overlay(layer, merged)
    settings = NatsSettings(**merged)
    if settings.js_domain is not None and not any("js_domain" in layer for layer in (flags, chosen, from_variables)):
        # the callers checked their own (check_domain, naming the flag, the variable or the file)
        check_domain(settings.js_domain, f"nats context {settings.context or '(selected)'}: jetstream_domain")
    for path_field in ("nkey", "creds", "tls_ca", "tls_cert", "tls_key"):
        value = getattr(settings, path_field)
        if value:
            settings = replace(settings, **{path_field: os.path.expanduser(value)})
    return settings


DEFAULT_API_PREFIX = "$JS.API"


def domain_problem(domain: str) -> str | None:
    """Why nats-server would refuse ``domain`` as a JetStream domain name, or None: not empty, no whitespace,
    '.', '*' or '>' (its validateJetStreamOptions: isValidName, and ``$JS.<domain>.API.>`` a valid subject)."""
    from ..manifest.subjects import character_problem

    if not domain:
        return "the JetStream domain must not be empty"
    problem = character_problem(domain)
    if not problem and any(char in ".*>" for char in domain):
        problem = "must not contain '.', '*' or '>'"
    return f"invalid JetStream domain {domain!r}: {problem}" if problem else None


def check_domain(domain: str, source: str) -> None:
    """Raise a UserError naming ``source`` (a flag, a variable, a file) when ``domain`` is no domain name."""
    problem = domain_problem(domain)
    if problem:
        raise UserError(f"{source}: {problem}")


def api_prefix(settings: NatsSettings) -> str:
    """The subject prefix of the JetStream API jsctl talks to: ``$JS.<domain>.API`` with a domain, else ``$JS.API``."""
    return f"$JS.{settings.js_domain}.API" if settings.js_domain else DEFAULT_API_PREFIX


def kv_put_subject(prefix: str, bucket: str, key: str) -> str:
    """Where a key-value entry is written. In a JetStream domain, through the domain's API prefix as nats.go's KV
    does (``$JS.<domain>.API.$KV.<bucket>.<key>``): the server of that domain stores it, whichever server the
    client is connected to (measured 2.10-2.15: tests/matrix/test_domains.py), while a bare ``$KV.`` subject
    goes to the bucket of whichever domain's server takes it. Without a domain, the bare subject, as every
    client writes it."""
    subject = f"$KV.{bucket}.{key}"
    return subject if prefix == DEFAULT_API_PREFIX else f"{prefix}.{subject}"
