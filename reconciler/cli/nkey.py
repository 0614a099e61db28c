"""`jsctl nkey gen`: new nkeys without Go's `nk` tool."""

from __future__ import annotations

import os

import click

from ..jetstream.credentials import nkey_prefix

_GENERATED_ROLES = ("user", "account", "operator")


@click.group()
def nkey() -> None:
    """Generate nkeys."""


@nkey.command()
@click.option("--type", "kind", type=click.Choice(_GENERATED_ROLES), default="user", show_default=True)
def gen(kind: str) -> None:
    """Print a new seed (keep it secret) and its public key, as `nk -gen user -pubout` does."""
    import nkeys

    seed = nkeys.encode_seed(os.urandom(32), nkey_prefix(kind))
    click.echo(seed.decode())
    click.echo(nkeys.from_seed(seed).public_key.decode())
