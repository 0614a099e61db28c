"""Every option more than one command takes, in one place: manifests, output, connections (README,
"Connections"), the database target, apply's decisions, the worker's settings, publish subjects."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..db.settings import DatabaseSettings
from ..deadline import Deadline
from ..errors import UserError, keep_secret
from ..jetstream.settings import NatsSettings, check_domain, resolve_nats_settings

if TYPE_CHECKING:
    from ..manifest.project import Environment, Project
    from ..reconcile.target import DatabaseTarget, Target
    from ..worker.loop import WorkerSettings

_ENVIRONMENT_OPTIONS = [
    click.option("--project", "project_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                 help="The project file [default: ./jsctl.yaml when it exists]."),
    click.option("--env", "env_name", envvar="JSCTL_ENV", metavar="NAME",
                 help="The environment of the project file to work on: its connection settings, variables and "
                      "manifest files (docs/environments.md) [env JSCTL_ENV]."),
]


def _given(ctx: click.Context, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values of options ``names`` set on the command line, and those set by their environment variables."""
    flags: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is click.core.ParameterSource.COMMANDLINE:
            flags[name] = ctx.params[name]
        elif source is click.core.ParameterSource.ENVIRONMENT:
            variables[name] = ctx.params[name]
    return flags, variables


def loaded_project() -> Project:
    """The project file (``--project``, else ./jsctl.yaml when it exists), read once per command."""
    from ..manifest.project import load_project

    ctx = click.get_current_context()
    if "jsctl.project" not in ctx.meta:
        ctx.meta["jsctl.project"] = load_project(ctx.params.get("project_file"))
    return ctx.meta["jsctl.project"]


def chosen_environment() -> Environment | None:
    """The environment ``--env`` or JSCTL_ENV names (its ``${env:...}`` read), None without either."""
    ctx = click.get_current_context()
    name = ctx.params.get("env_name")
    if not name:
        return None
    if "jsctl.environment" not in ctx.meta:
        ctx.meta["jsctl.environment"] = loaded_project().environment(name)
    return ctx.meta["jsctl.environment"]


def environment_options(func: Callable) -> Callable:
    """Add ``--project`` and ``--env``: the connection, manifest and ownership options read them
    (``loaded_project``, ``chosen_environment``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("project_file")
        kwargs.pop("env_name")
        return func(*args, **kwargs)

    return add_options(_ENVIRONMENT_OPTIONS, wrapper)


_MANIFEST_OPTIONS = [
    click.option("-f", "--file", "files", multiple=True, metavar="PATH",
                 help="Manifest file or directory of *.yaml (repeatable); replaces the environment's files "
                      "[default: the environment's files:, else ./streams.yaml ./consumers.yaml ./buckets.yaml]."),
    click.option("--var", "var_texts", multiple=True, metavar="NAME=VALUE",
                 help="Set the manifests' variable ${NAME} (repeatable; VALUE read as YAML: 3 is a number); "
                      "overrides the environment's variables."),
]


def manifests_of(environment: Environment | None) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The manifest files (``-f``, else the environment's ``files:``) and variables (the environment's,
    ``--var`` over them) for ``environment``."""
    from ..manifest.variables import parse_var

    ctx = click.get_current_context()
    files = tuple(ctx.params["files"]) or (environment.files if environment else ())
    variables = dict(environment.variables) if environment else {}
    variables.update(parse_var(text) for text in ctx.params["var_texts"])
    return files, variables


def manifest_option(func: Callable) -> Callable:
    """Add ``-f`` and ``--var``; the command receives ``files`` and ``variables`` (``manifests_of``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("var_texts")
        kwargs["files"], variables = manifests_of(chosen_environment())
        return func(*args, variables=variables, **kwargs)

    return add_options(_MANIFEST_OPTIONS, wrapper)

output_option = click.option(
    "-o", "--output", type=click.Choice(["text", "json", "markdown", "prometheus"]), default="text",
    help="Output format; json is versioned (see docs/plan-apply.md); prometheus is a node_exporter "
         "text-file report (see docs/gitops.md).")
list_output_option = click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
                                  show_default=True, help="Output format.")


class Duration(click.ParamType):
    """A positive duration with natscli's units (30s, 5m, 1h30m), in seconds."""

    name = "DURATION"

    def convert(self, value, param, ctx):
        from ..manifest.units import UnitError, parse_duration

        if isinstance(value, float):
            return value
        try:
            nanos = parse_duration(str(value).strip())
        except UnitError:
            self.fail(f"{value!r} is not a duration: use a number with a unit (ms, s, m, h, d), e.g. 30s, 5m, 1h30m",
                      param, ctx)
        if nanos <= 0:
            self.fail(f"{value!r} must be longer than 0", param, ctx)
        return nanos / 1e9


def _start_deadline(ctx: click.Context, param: click.Parameter, seconds: float | None) -> Deadline | None:
    from . import error_exit_code

    return None if seconds is None else Deadline.start(seconds, error_exit_code(ctx.command))


def _timeout_option(help_text: str) -> Callable:
    return click.option("--timeout", type=Duration(), default=None, callback=_start_deadline, help=help_text)


timeout_option = _timeout_option(
    "Give up after this long, the whole run counted (e.g. 30s, 5m), with one error line [default: no limit].")
apply_timeout_option = _timeout_option(  # `jsctl up`: its worker runs for good
    "Give up the apply after this long, counted from the start (e.g. 5m), with one error line; the worker "
    "then runs without a limit [default: no limit].")
detailed_exitcode_option = click.option(
    "--detailed-exitcode", is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would (changes, pending revisions, drift).")

_NATS_OPTIONS = [
    click.option("--server", "-s", "url", envvar="NATS_URL", metavar="URL[,URL...]",
                 help="NATS server URL(s), comma-separated for a cluster [env NATS_URL; default nats://127.0.0.1:4222]."),
    click.option("--nkey", envvar="NATS_NKEY", metavar="SEEDFILE", help="User nkey seed file [env NATS_NKEY]."),
    click.option("--creds", envvar="NATS_CREDS", metavar="FILE", help="Credentials file [env NATS_CREDS]."),
    click.option("--user", envvar="NATS_USER", help="User name [env NATS_USER]."),
    click.option("--password", envvar="NATS_PASSWORD", help="Password [env NATS_PASSWORD]."),
    click.option("--token", envvar="NATS_TOKEN", help="Authentication token [env NATS_TOKEN]."),
    click.option("--tls-ca", envvar="NATS_CA", metavar="FILE", help="CA certificate [env NATS_CA]."),
    click.option("--tls-cert", envvar="NATS_CERT", metavar="FILE", help="Client certificate [env NATS_CERT]."),
    click.option("--tls-key", envvar="NATS_KEY", metavar="FILE", help="Client certificate key [env NATS_KEY]."),
    click.option("--context", envvar="NATS_CONTEXT", metavar="NAME",
                 help="natscli context to read connection settings from [env NATS_CONTEXT]."),
    click.option("--js-domain", envvar="JSCTL_JS_DOMAIN", metavar="DOMAIN",
                 help="JetStream domain to manage, through its API $JS.<DOMAIN>.API (e.g. a leaf node's, from the "
                      "hub) [env JSCTL_JS_DOMAIN; default: the context's jetstream_domain, else none: $JS.API]."),
]

_DATABASE_OPTIONS = [
    click.option("--database-url", envvar="DATABASE_URL", metavar="URL",
                 help="Postgres URL, postgresql://user:password@host:port/db [env DATABASE_URL]."),
]

class PublishSubject(click.ParamType):
    """A literal subject to publish on: one whitespace or wildcard would not reach the intended stream
    (and, with the worker's batched writes, would break the protocol line)."""

    name = "SUBJECT"

    def convert(self, value, param, ctx):
        from ..manifest.subjects import has_wildcard, subject_problem

        problem = subject_problem(value)
        if problem is None and has_wildcard(value):
            problem = f"subject {value!r} has a wildcard: messages are published on literal subjects"
        if problem:
            self.fail(problem, param, ctx)
        return value


_NATS_FIELDS = ("url", "nkey", "creds", "user", "password", "token", "tls_ca", "tls_cert", "tls_key", "context",
                "js_domain")


def add_options(options: list, func: Callable) -> Callable:
    """Decorate ``func`` with click options, shown in ``--help`` in the order listed."""
    for option in reversed(options):
        func = option(func)
    return func


# jsctl.yaml's names of the connection settings that differ from the options' (the flags')
_SETTING_OPTIONS = {"server": "url", "migrations": "migrations_dir"}


def _environment_settings(environment: Environment | None, names: tuple[str, ...]) -> dict[str, Any] | None:
    """The settings of ``environment`` among the options ``names``, by option name (None: no environment)."""
    if environment is None:
        return None
    settings = {_SETTING_OPTIONS.get(key, key): value for key, value in environment.settings.items()}
    return {name: value for name, value in settings.items() if name in names}


def nats_settings(environment: Environment | None) -> NatsSettings:
    """The NATS connection for ``environment``: flag > environment > NATS_* > natscli context (settings.py)."""
    flags, variables = _given(click.get_current_context(), _NATS_FIELDS)
    from_file = _environment_settings(environment, _NATS_FIELDS)
    for layer, source in ((flags, "--js-domain"), (variables, "JSCTL_JS_DOMAIN"), (from_file or {}, None)):
        keep_secret(*NatsSettings(**layer).secrets())
        if source and layer.get("js_domain") is not None:  # jsctl.yaml's were checked where written
            check_domain(layer["js_domain"], source)
    settings = resolve_nats_settings(NatsSettings(**flags), environment=from_file, variables=variables)
    keep_secret(*settings.secrets())
    return settings


def nats_options(func: Callable) -> Callable:
    """Add the NATS connection flags; the command receives ``nats: NatsSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for name in _NATS_FIELDS:
            kwargs.pop(name)
        return func(*args, nats=nats_settings(chosen_environment()), **kwargs)

    return add_options(_NATS_OPTIONS, wrapper)


def _ranked(name: str, environment: Environment | None) -> Any:
    """Option ``name``'s value: the flag, else the environment's setting, else its variable or default."""
    ctx = click.get_current_context()
    from_file = _environment_settings(environment, (name,)) or {}
    if name in from_file and ctx.get_parameter_source(name) is not click.core.ParameterSource.COMMANDLINE:
        return from_file[name]
    return ctx.params[name]


def database_settings(environment: Environment | None) -> DatabaseSettings:
    """The database for ``environment``: --database-url > the environment's database_url > DATABASE_URL."""
    database = DatabaseSettings(_ranked("database_url", environment))
    keep_secret(*database.secrets())
    return database


def database_options(func: Callable) -> Callable:
    """Add ``--database-url``; the command receives ``database: DatabaseSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("database_url")
        return func(*args, database=database_settings(chosen_environment()), **kwargs)

    return add_options(_DATABASE_OPTIONS, wrapper)


def no_database() -> UserError:
    """The error of a command that needs a database and has none, saying where one can be given."""
    environment = chosen_environment()
    in_project = f", set database_url in environment {environment.name} of jsctl.yaml," if environment else ""
    return UserError(f"no database configured: pass --database-url{in_project} or set DATABASE_URL")


def required_database_options(func: Callable) -> Callable:
    """``database_options`` for a command that cannot run without a database."""

    @functools.wraps(func)
    def wrapper(*args: Any, database: DatabaseSettings, **kwargs: Any) -> Any:
        if not database.configured:
            raise no_database()
        return func(*args, database=database, **kwargs)

    return database_options(wrapper)


def _secret_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    keep_secret(*DatabaseSettings(value).secrets())
    return value


MIGRATIONS_OPTION = click.option(
    "--migrations", "migrations_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("migrations"),
    show_default=True, help="The Alembic migrations directory with schema.yaml (used when a database is configured).")
DEV_URL_OPTION = click.option(
    "--dev-url", envvar="JSCTL_DEV_DATABASE_URL", metavar="URL", callback=_secret_url,
    help="Postgres server for scratch databases (needs CREATEDB) [env JSCTL_DEV_DATABASE_URL; "
         "default: a throwaway embedded Postgres].")
_ADOPT_OPTION = click.option("--adopt", is_flag=True,
                             help="Stamp a database that has the schema but no Alembic history at head.")


def migrations_of(environment: Environment | None) -> Path:
    """The migrations directory for ``environment``: --migrations > the environment's migrations > ./migrations."""
    return Path(_ranked("migrations_dir", environment))


def database_target(database: DatabaseSettings, environment: Environment | None) -> DatabaseTarget | None:
    """The database half for ``environment``, ``database`` its connection (None when none is configured)."""
    from ..reconcile.target import DatabaseTarget

    ctx = click.get_current_context()
    return DatabaseTarget.configured(database, migrations_of(environment), ctx.params["dev_url"], ctx.params["adopt"])


def database_target_options(func: Callable) -> Callable:
    """Add ``--database-url``, ``--migrations``, ``--dev-url`` and ``--adopt``; the command receives
    ``database: DatabaseTarget | None`` (None when no database is configured)."""

    @functools.wraps(func)
    def wrapper(*args: Any, database: DatabaseSettings, **kwargs: Any) -> Any:
        for name in ("migrations_dir", "dev_url", "adopt"):
            kwargs.pop(name)
        return func(*args, database=database_target(database, chosen_environment()), **kwargs)

    return database_options(add_options([MIGRATIONS_OPTION, DEV_URL_OPTION, _ADOPT_OPTION], wrapper))


ONLY_OPTION = click.option(
    "--only", type=click.Choice(["jetstream", "database"]), default=None,
    help="Plan and apply one half only: jetstream (the database is left alone even when one is configured) or "
         "database (no NATS connection) [default: both].")


_FROM_OWNER_OPTION = click.option(
    "--from-owner", metavar="NAME",
    help="Take over the declared streams and consumers that project NAME owns (else a plan error).")
_OWNER_OPTIONS = [
    click.option("--owner", envvar="JSCTL_OWNER", metavar="NAME",
                 help="This project's id, recorded on what apply creates or adopts (metadata io.jsctl.owner); "
                      "--prune deletes only what it owns [env JSCTL_OWNER; default: `project:` in jsctl.yaml]."),
    _FROM_OWNER_OPTION,
]


def _project_id(value: str | None, source: str) -> str | None:
    from ..manifest.project import owner_problem

    problem = value is not None and owner_problem(value)
    if problem:
        raise UserError(f"{source}: {problem}")
    return value


def owner_options(func: Callable) -> Callable:
    """``ownership_options`` without ``--from-owner`` (`jsctl destroy` declares nothing to take over)."""
    return ownership_options(func, takes_over=False)


def ownership_options(func: Callable, *, takes_over: bool = True) -> Callable:
    """Add ``--owner`` (> JSCTL_OWNER > ``project:`` in jsctl.yaml) and ``--from-owner`` (with
    ``environment_options``, for ``--project``); the command receives ``ownership: Ownership``. The project
    file is read (and validated) whenever it exists."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..jetstream.ownership import Ownership

        project = loaded_project()
        from_env = click.get_current_context().get_parameter_source("owner") is click.core.ParameterSource.ENVIRONMENT
        owner = _project_id(kwargs.pop("owner"), "JSCTL_OWNER" if from_env else "--owner") or project.project
        ownership = Ownership(owner, _project_id(kwargs.pop("from_owner", None), "--from-owner"))
        return func(*args, ownership=ownership, **kwargs)

    return add_options(_OWNER_OPTIONS if takes_over else
                       [o for o in _OWNER_OPTIONS if o is not _FROM_OWNER_OPTION], wrapper)


all_envs_option = click.option(
    "--all-envs", is_flag=True,
    help="Work on every environment of jsctl.yaml, each with its own connection, variables and files "
         "(docs/environments.md).")


def target_in_environment(target: Target) -> Target:
    """``target`` marked with the chosen environment's name (its settings are in it already)."""
    environment = chosen_environment()
    return target if environment is None else dataclasses.replace(target, environment=environment.name)


def every_environment() -> list[Environment]:
    """For ``--all-envs``: every environment of jsctl.yaml, in the file's order (a usage error with ``--env``
    or JSCTL_ENV, or without environments)."""
    ctx = click.get_current_context()
    if ctx.params.get("env_name"):
        given = "--env" if ctx.get_parameter_source("env_name") is click.core.ParameterSource.COMMANDLINE \
            else "JSCTL_ENV"
        raise click.UsageError(f"--all-envs works on every environment: leave out {given}")
    project = loaded_project()
    if not project.environments:
        raise click.UsageError(f"--all-envs: {project.file} declares no environments" if project.file
                               else "--all-envs: no ./jsctl.yaml here (--project FILE names one)")
    return [project.environment(name) for name in project.environments]


def environment_targets(base: Target) -> list[Target]:
    """``base`` (the command's choices) once per environment of jsctl.yaml, in the file's order, each with
    that environment's connection, manifest files and variables (flags still first)."""
    targets = []
    for environment in every_environment():
        files, variables = manifests_of(environment)
        targets.append(dataclasses.replace(base, nats=nats_settings(environment), files=files,
                                           database=database_target(database_settings(environment), environment),
                                           environment=environment.name,
                                           variables=variables))
    return targets


_DATABASE_APPLY_OPTIONS = [
    click.option("--ddl-lock-timeout", type=click.FloatRange(min=0), default=10, show_default=True,
                 metavar="SECONDS", help="Postgres lock_timeout for each DDL statement."),
    click.option("--statement-timeout", type=click.FloatRange(min=0), default=900, show_default=True,
                 metavar="SECONDS", help="Postgres statement_timeout for each statement (0: none)."),
]
_APPLY_OPTIONS = [
    click.option("--allow-destructive", is_flag=True,
                 help="Allow changes that lose data: JetStream replace and delete, database revisions that drop "
                      "tables, columns, indexes or constraints."),
    click.option("--lock-timeout", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
                 help="How long to wait for another apply holding the lock (then exit 3)."),
    *_DATABASE_APPLY_OPTIONS,
    click.option("--converge-timeout", type=click.FloatRange(min=0), default=60, show_default=True,
                 metavar="SECONDS", help="On a cluster, how long to wait for each stream or consumer written to "
                                         "have its replicas current; for a stream written that mirrors or sources "
                                         "another domain or account, to be in contact with it (then exit 1)."),
]
_APPLY_FIELDS = ("allow_destructive", "lock_timeout", "ddl_lock_timeout", "statement_timeout", "converge_timeout")


def apply_options(func: Callable, *, database: bool = True) -> Callable:
    """Add what decides how apply may change things (``database``: the Postgres timeouts too); the command
    receives ``options: ApplyOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..plan.policy import ApplyOptions

        options = ApplyOptions(**{name: kwargs.pop(name) for name in _APPLY_FIELDS if name in kwargs})
        return func(*args, options=options, **kwargs)

    return add_options(_APPLY_OPTIONS if database else
                       [o for o in _APPLY_OPTIONS if o not in _DATABASE_APPLY_OPTIONS], wrapper)


def jetstream_apply_options(func: Callable) -> Callable:
    """``apply_options`` without the database's (`jsctl destroy` never touches the database)."""
    return apply_options(func, database=False)


class _Amount(click.ParamType):
    name = "AMOUNT"

    def convert(self, value, param, ctx):
        from decimal import Decimal, InvalidOperation  # only `worker` and `up` take amounts

        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not amount.is_finite() or amount <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return amount


def _worker_option_list() -> list:
    # Imported here, not at the top: the worker's package imports nats-py, which only `worker` and `up` need.
    from ..worker.verdict import DEFAULT_DAILY_LIMIT, DEFAULT_MAX_AMOUNT

    return [
        click.option("--stream", default="USER_TXN", show_default=True, help="Stream of the input consumer."),
        click.option("--consumer", default="GRP_MAKER", show_default=True, help="Pull consumer to read events from."),
        click.option("--verdict-subject", type=PublishSubject(), default="USER_TXN.validator", show_default=True,
                     help="Subject the verdicts are published on."),
        click.option("--batch", type=click.IntRange(1, 10_000), default=None,
                     help="Messages per fetch [default: the consumer's max_ack_pending / --pipeline; larger is "
                          "clamped]."),
        click.option("--pipeline", type=click.IntRange(1, 8), default=2, show_default=True,
                     help="Batches in flight at once, staged: one in the database while the others are fetched "
                          "or publish their verdicts."),
        click.option("--default-max-amount", type=_Amount(), default=str(DEFAULT_MAX_AMOUNT), show_default=True,
                     help="max_amount for users without a row in user_thresholds."),
        click.option("--default-daily-limit", type=_Amount(), default=str(DEFAULT_DAILY_LIMIT), show_default=True,
                     help="daily_limit for users without a row in user_thresholds."),
        click.option("--until-idle", is_flag=True, help="Exit 0 once the consumer has nothing pending."),
        click.option("--progress-interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
                     help="Seconds between progress lines."),
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True),
        click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
                     help="Serve Prometheus metrics (/metrics) and a health probe (/healthz) on this port."),
    ]


_WORKER_FIELDS = ("stream", "consumer", "verdict_subject", "batch", "pipeline", "until_idle", "progress_interval",
                  "log_format", "metrics_port")
WorkerSettingsFactory = Callable[[NatsSettings, DatabaseSettings], "WorkerSettings"]


def worker_options(func: Callable) -> Callable:
    """Add the worker's flags (those of `jsctl worker`, also on `jsctl up`); the command receives
    ``worker_settings(nats, database) -> WorkerSettings``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fields = {name: kwargs.pop(name) for name in _WORKER_FIELDS}
        max_amount, daily_limit = kwargs.pop("default_max_amount"), kwargs.pop("default_daily_limit")

        def worker_settings(nats: NatsSettings, database: DatabaseSettings) -> WorkerSettings:
            from ..worker.loop import WorkerSettings
            from ..worker.verdict import Limits

            if not database.configured:
                raise UserError("the worker needs a database: give --database-url or set DATABASE_URL")
            return WorkerSettings(nats=nats, database=database, limits=Limits(max_amount, daily_limit), **fields)

        return func(*args, worker_settings=worker_settings, **kwargs)

    return add_options(_worker_option_list(), wrapper)
