"""How much a manifest may grow while it is read: the budgets of load.py (aliases) and variables.py
(list and mapping variables), in one place, so both bound a file by what it writes."""

# Aliases may expand a document to this many times the nodes it writes (counting an alias as one);
# documents of fewer than MIN_WRITTEN nodes get the budget of MIN_WRITTEN.
ALIAS_EXPANSION, MIN_WRITTEN = 100, 100
# List and mapping variables may add this many times the nodes a file writes: fewer than aliases may, as
# each node put in is built (an alias shares its anchor's).
VARIABLE_EXPANSION = 10
# Manifests nest 7 levels deep (streams[0].sources[0].subject_transforms[0].src); every recursive walk
# of values (the schema check, JSON encoding) stays far from Python's recursion limit below this.
MAX_DEPTH = 64
