"""Column types: their spelling, the limits Postgres puts on them, and what converting one into another
does to the values (pure; the facts were measured on PostgreSQL 16, see tests/db/test_types.py).

One place for these rules: schema.yaml validation, the metadata built from it, the risk flags of a
revision's ``ALTER COLUMN ... TYPE`` and ``jsctl db revision``'s refusal of impossible casts use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VARCHAR_MAX_LENGTH = 10_485_760
NUMERIC_MAX_PRECISION = 1000
NUMERIC_SCALE_RANGE_15 = (-1000, 1000)  # PostgreSQL 15+; before: 0 <= scale <= precision
TIMESTAMP_DEFAULT_PRECISION = 6

INTEGER_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}
STRINGS = ("text", "varchar")
TIMESTAMPS = ("timestamp", "timestamptz")
_FLOAT_MANTISSA_BITS = {"real": 24, "double precision": 53}
_INTEGER_BITS = {"smallint": 15, "integer": 31, "bigint": 63}
_ALIASES = {
    "int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint", "character varying": "varchar",
    "decimal": "numeric", "bool": "boolean", "float8": "double precision", "float": "double precision",
    "float4": "real", "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
}
_TIMESTAMP = re.compile(r"timestamp(?:\s*\((\d+)\))?(?:\s+with(out)?\s+time\s+zone)?")


def parse_type(text: str) -> tuple[str, tuple[int, ...]]:
    """``NUMERIC(19, 6)`` -> ("numeric", (19, 6)); ``timestamp(3) with time zone`` -> ("timestamptz", (3,))."""
    text = " ".join(text.strip().lower().split())
    if match := _TIMESTAMP.fullmatch(text):
        base = "timestamp" if match.group(2) or "with" not in text else "timestamptz"
        return base, (int(match.group(1)),) if match.group(1) else ()
    match = re.fullmatch(r"([a-z][a-z0-9 ]*?)\s*(?:\(\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\))?", text)
    if not match:
        return text, ()
    base = _ALIASES.get(match.group(1), match.group(1))
    args = tuple(int(a) for a in match.group(2).split(",")) if match.group(2) else ()
    return _ALIASES.get(base, base), args


def type_problem(text: str, server_version: int | None = None) -> str | None:
    """Why Postgres (major version ``server_version``; None: the newest rules) refuses the type."""
    base, args = parse_type(text)
    if base == "varchar" and args and not 1 <= args[0] <= VARCHAR_MAX_LENGTH:
        return f"varchar length {args[0]} is out of range: Postgres allows 1 to {VARCHAR_MAX_LENGTH} (or use text)"
    if base != "numeric" or not args:
        return None
    precision, scale = args[0], (args[1] if len(args) > 1 else 0)
    if not 1 <= precision <= NUMERIC_MAX_PRECISION:
        return f"numeric precision {precision} is out of range: Postgres allows 1 to {NUMERIC_MAX_PRECISION}"
    if server_version is not None and server_version < 15:
        if not 0 <= scale <= precision:
            return (f"numeric scale {scale} is out of range: PostgreSQL {server_version} allows 0 to the precision "
                    f"({precision}); 15 and later allow {NUMERIC_SCALE_RANGE_15[0]} to {NUMERIC_SCALE_RANGE_15[1]}")
    elif not NUMERIC_SCALE_RANGE_15[0] <= scale <= NUMERIC_SCALE_RANGE_15[1]:
        return (f"numeric scale {scale} is out of range: Postgres allows {NUMERIC_SCALE_RANGE_15[0]} to "
                f"{NUMERIC_SCALE_RANGE_15[1]}")
    return None


@dataclass(frozen=True)
class Conversion:
    """What ``ALTER COLUMN ... TYPE new`` does to the values of a column of type old."""

    rewrites: bool = True  # the table is rewritten under an ACCESS EXCLUSIVE lock
    may_fail: bool = False  # some values do not fit: the ALTER fails (and is rolled back)
    lossy: str | None = None  # how values change for good (rounded, cut, time dropped...)
    automatic: bool = True  # Postgres converts by itself; False: a USING expression is needed
    session: str | None = None  # the session setting the result depends on (apply pins it)


UNCHANGED = Conversion(rewrites=False)


def conversion(old: str | None, new: str, using: bool = False) -> Conversion:
    """The effect of converting ``old`` (None: unknown) to ``new``; ``using``: with a USING expression."""
    if old is None:
        return Conversion(may_fail=True, lossy="the column's current type is unknown")
    base = _conversion(parse_type(old), parse_type(new))
    if not using:
        return base
    return Conversion(rewrites=True, may_fail=True, session=base.session,
                      lossy=base.lossy or "USING computes the new values (an explicit cast may cut or round them)")


def _conversion(old: tuple[str, tuple[int, ...]], new: tuple[str, tuple[int, ...]]) -> Conversion:
    (ob, oa), (nb, na) = old, new
    if (ob, oa) == (nb, na):
        return UNCHANGED
    if nb in STRINGS:
        return _to_string(ob, oa, nb, na)
    if ob in STRINGS:
        return Conversion(automatic=False, may_fail=True)  # text to anything else is an explicit cast only
    if ob in INTEGER_DIGITS and nb in INTEGER_DIGITS:
        return Conversion(may_fail=INTEGER_DIGITS[nb] < INTEGER_DIGITS[ob])
    if nb == "numeric" and (ob in INTEGER_DIGITS or ob == "numeric" or ob in _FLOAT_MANTISSA_BITS):
        return _to_numeric(ob, oa, na)
    if ob == "numeric" and nb in INTEGER_DIGITS:
        rounds = not oa or (len(oa) > 1 and oa[1] > 0)
        return Conversion(may_fail=True, lossy="rounds fractions to whole numbers" if rounds else None)
    if nb in _FLOAT_MANTISSA_BITS and (ob in INTEGER_DIGITS or ob == "numeric" or ob in _FLOAT_MANTISSA_BITS):
        exact = _FLOAT_MANTISSA_BITS.get(ob, _INTEGER_BITS.get(ob, 10**6)) <= _FLOAT_MANTISSA_BITS[nb]
        return Conversion(lossy=None if exact else f"keeps only the precision of {nb} (about "
                                                   f"{6 if nb == 'real' else 15} significant digits)")
    if ob in _FLOAT_MANTISSA_BITS and nb in INTEGER_DIGITS:
        return Conversion(may_fail=True, lossy="rounds fractions to whole numbers")
    if ob == "date" and nb in TIMESTAMPS:
        return Conversion(session="TimeZone" if nb == "timestamptz" else None)
    if ob in TIMESTAMPS and nb == "date":
        return Conversion(lossy="drops the time of day", session="TimeZone" if ob == "timestamptz" else None)
    if ob in TIMESTAMPS and nb in TIMESTAMPS:
        precision = (oa or (TIMESTAMP_DEFAULT_PRECISION,))[0], (na or (TIMESTAMP_DEFAULT_PRECISION,))[0]
        rounds = f"rounds to {precision[1]} fractional digits of a second" if precision[1] < precision[0] else None
        # between the two, no rewrite when TimeZone is UTC (PostgreSQL 12+), as apply pins it
        return Conversion(rewrites=rounds is not None, lossy=rounds, session=None if ob == nb else "TimeZone")
    if (ob, nb) == ("json", "jsonb"):
        return Conversion(may_fail=True, lossy="drops duplicate keys, key order and white space")
    if (ob, nb) == ("jsonb", "json"):
        return Conversion()
    if ob in _KNOWN and nb in _KNOWN:
        return Conversion(automatic=False, may_fail=True)  # no assignment cast between these
    return Conversion(may_fail=True, lossy=f"jsctl cannot tell whether converting {ob} to {nb} keeps every value")


_KNOWN = {*STRINGS, *INTEGER_DIGITS, *_FLOAT_MANTISSA_BITS, *TIMESTAMPS, "numeric", "boolean", "date", "uuid",
          "jsonb", "json", "bytea"}


def _to_string(ob: str, oa: tuple[int, ...], nb: str, na: tuple[int, ...]) -> Conversion:
    shorter = nb == "varchar" and bool(na) and (ob != "varchar" or not oa or na[0] < oa[0])
    if ob in STRINGS:
        return Conversion(rewrites=shorter, may_fail=shorter)  # longer or unlimited: only the catalog changes
    session = {"date": "DateStyle", "timestamp": "DateStyle", "timestamptz": "TimeZone, DateStyle",
               "real": "extra_float_digits", "double precision": "extra_float_digits"}.get(ob)
    return Conversion(may_fail=shorter, session=session)  # every type has an assignment cast to text


def _to_numeric(ob: str, oa: tuple[int, ...], na: tuple[int, ...]) -> Conversion:
    if not na:  # unconstrained numeric holds every value
        return Conversion(rewrites=ob != "numeric")
    precision, scale = na[0], (na[1] if len(na) > 1 else 0)
    if ob in INTEGER_DIGITS:
        return Conversion(may_fail=precision - scale < INTEGER_DIGITS[ob],
                          lossy=f"rounds to multiples of 10^{-scale}" if scale < 0 else None)
    if ob in _FLOAT_MANTISSA_BITS:
        return Conversion(may_fail=True, lossy=f"rounds to {scale} decimal places")
    if not oa:
        return Conversion(may_fail=True, lossy=f"rounds to {scale} decimal places")
    old_precision, old_scale = oa[0], (oa[1] if len(oa) > 1 else 0)
    return Conversion(rewrites=scale != old_scale or precision < old_precision,
                      may_fail=precision - scale < old_precision - old_scale,
                      lossy=f"rounds from {old_scale} to {scale} decimal places" if scale < old_scale else None)
