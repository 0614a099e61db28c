"""One-line descriptions of the servers jsctl talks to (used by `jsctl ping` and `jsctl dev status`)."""

from __future__ import annotations

from ..db.settings import DatabaseSettings, database_error
from ..jetstream.client import JetStreamApi
from ..jetstream.connect import connect_nats
from ..jetstream.settings import NatsSettings, api_prefix


async def probe_nats(settings: NatsSettings) -> str:
    nc = await connect_nats(settings, name="jsctl ping")
    try:
        ident = await JetStreamApi(nc, prefix=api_prefix(settings)).identity()
    finally:
        await nc.close()
    level = f", JetStream API level {ident.api_level}" if ident.api_level else ""
    domain = f" (domain {ident.domain})" if ident.domain else ""
    return (f"NATS {settings.display_servers}: nats-server {ident.version} ({ident.name}){level}, "
            f"JetStream enabled{domain}")


def probe_database(settings: DatabaseSettings) -> str:
    import psycopg

    try:
        with psycopg.connect(settings.libpq_url(), connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as exc:
        raise database_error(settings, exc) from None
    return f"Postgres {settings.display_url}: PostgreSQL {version}"
