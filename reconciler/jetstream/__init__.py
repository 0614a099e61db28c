"""JetStream, one module per stage: settings -> connect/client -> observe -> normalize/defaults ->
diff/plan (capabilities, replace_rules) -> execute -> converge -> verify; lock (the apply lock);
export. ``JetStreamSession`` (session.py) holds one connection for a whole plan and apply."""

from .session import JetStreamSession

__all__ = ["JetStreamSession"]
