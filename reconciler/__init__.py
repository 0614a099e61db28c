"""jsctl: a declarative reconciler for NATS JetStream and Postgres.

The folders follow the pipeline (README, "Layout"): manifest/ (load -> validate), jetstream/ and db/
(observe -> diff -> plan -> execute -> verify, one module per stage, named alike in both), plan/ (the
plan as typed data, its policy, its saved file, its renderers), reconcile/ (one plan and one apply
for both targets), health/ (`jsctl check`), dev/ (embedded servers), worker/ (the validator worker),
cli/ (thin commands).

Imports and start-up time, the one rule: imports go at the top of a module, except where a command's
start-up would pay for what it does not use. Those are imported inside the function that needs them:
the CLI's subcommands (cli/__init__.py); SQLAlchemy and Alembic (about 0.26 s), nats-py, psycopg,
asyncpg, jsonschema, deepdiff and prometheus_client, and the package's modules that import them at
their top (most of db/ and worker/). tests/test_import_graph.py counts these deferred imports too:
deferring one never hides an import cycle.
"""

__version__ = "0.1.0"
