"""`jsctl validate`: check the manifests offline and report every problem at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .options import (
    all_envs_option,
    environment_options,
    every_environment,
    loaded_project,
    manifest_option,
    manifests_of,
)

if TYPE_CHECKING:
    from ..manifest.model import Desired


@click.command()
@environment_options
@all_envs_option
@manifest_option
@click.option("--print-schema", is_flag=True, help="Print the manifests' JSON Schema (for editors) and exit.")
def validate(all_envs: bool, files: tuple[str, ...], variables: dict[str, Any], print_schema: bool) -> None:
    """Validate jsctl.yaml (when there is one), streams.yaml, consumers.yaml and buckets.yaml without connecting
    anywhere.

    With --all-envs, the manifests of every environment, each with its files and variables."""
    if print_schema:
        from importlib import resources

        from ..manifest.schema import SCHEMA_RESOURCE

        click.echo(resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"), nl=False)
        return
    from ..errors import JsctlError
    from ..reconcile.plan import load_manifests
    from ..terminal import printable

    loaded_project()  # validated whenever it exists
    if not all_envs:
        click.echo(printable(_checked(load_manifests(files, variables))))
        return
    failed = []
    for environment in every_environment():
        try:
            click.echo(printable(f"{environment.name}: {_checked(load_manifests(*manifests_of(environment)))}"))
        except JsctlError as exc:
            failed.append(environment.name)
            click.echo(printable(f"jsctl: error: environment {environment.name}: {exc}"), err=True)
    if failed:
        raise JsctlError(f"invalid manifests in environment{'s' if len(failed) > 1 else ''} {', '.join(failed)}")


def _checked(desired: Desired) -> str:
    """What ``desired`` declares, in one line (its hints, if any, said on stderr first)."""
    from ..terminal import printable

    for hint in desired.hints:
        click.echo(printable(hint), err=True)
    counts = [_count(len(desired.streams), "stream"), _count(len(desired.consumers), "consumer")]
    counts += [_count(len(found), word) for found, word in ((desired.key_value, "key-value bucket"),
                                                            (desired.object_stores, "object store")) if found]
    return f"ok: {', '.join(counts)} in {', '.join(desired.files)}"


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'s' if number != 1 else ''}"
