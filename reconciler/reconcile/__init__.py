"""One plan, one apply, one exit code: JetStream and the Postgres schema together.

``plan_all(Target(...))`` (plan.py) and ``apply_all(target, ApplyOptions(...), Console(...))``
(apply.py) are what the commands call; target.py holds their inputs.
"""

from ..jetstream.ownership import Ownership
from ..plan.policy import ApplyOptions
from .apply import apply_all
from .plan import join, load_manifests, plan_all
from .target import Applied, Console, DatabaseTarget, Target

__all__ = ["Applied", "ApplyOptions", "Console", "DatabaseTarget", "Ownership", "Target", "apply_all", "join",
           "load_manifests", "plan_all"]
