"""jsctl: a declarative reconciler for NATS JetStream and Postgres."""

__version__ = "0.1.0"
