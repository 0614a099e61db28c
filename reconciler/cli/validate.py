"""`jsctl validate`: check the manifests offline and report every problem at once."""

from __future__ import annotations

import click

from .options import manifest_option


@click.command()
@manifest_option
@click.option("--print-schema", is_flag=True, help="Print the manifests' JSON Schema (for editors) and exit.")
def validate(files: tuple[str, ...], print_schema: bool) -> None:
    """Validate streams.yaml, consumers.yaml and buckets.yaml without connecting anywhere."""
    if print_schema:
        from importlib import resources

        from ..manifest.schema import SCHEMA_RESOURCE

        click.echo(resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"), nl=False)
        return
    from ..reconcile.plan import load_manifests
    from ..terminal import printable

    desired = load_manifests(files)
    for hint in desired.hints:
        click.echo(printable(hint), err=True)
    counts = [_count(len(desired.streams), "stream"), _count(len(desired.consumers), "consumer")]
    counts += [_count(len(found), word) for found, word in ((desired.key_value, "key-value bucket"),
                                                            (desired.object_stores, "object store")) if found]
    click.echo(printable(f"ok: {', '.join(counts)} in {', '.join(desired.files)}"))


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'s' if number != 1 else ''}"
