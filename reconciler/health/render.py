"""``jsctl check``'s results as text, JSON or a Nagios plugin line."""

from __future__ import annotations

import json

from ..terminal import printable, printable_lines
from .evaluate import OK, STATE_NAMES, Result, overall


def _summary(result: Result) -> str:
    """Its problems, then the values no problem already names (a resource that differs from its manifest
    still shows its health)."""
    shown = []
    for name, v in result.values.items():
        if name not in result.flagged:
            show = result.measures[name].show
            shown.append(f"{name} {show(v['value'])}" + (f" / {show(v['max'])}" if v["max"] else ""))
    return "; ".join([*result.messages, *([", ".join(shown)] if shown else [])]) or "ok"


def render_text(results: list[Result]) -> str:
    width = max((len(r.address) for r in results), default=0)
    lines = [f"{STATE_NAMES[r.state]:<8} {r.address:<{width}}  {_summary(r)}" for r in results]
    counts = {name: sum(1 for r in results if r.state == state) for state, name in STATE_NAMES.items()}
    tally = ", ".join(f"{n} {name.lower()}" for name, n in counts.items() if n)
    tally = f" ({tally})" if tally else ""
    lines.append(f"{STATE_NAMES[overall(results)]}: {len(results)} resources checked{tally}")
    return printable_lines(lines) + "\n"


def render_json(results: list[Result]) -> str:
    state = overall(results)
    return json.dumps({"status": STATE_NAMES[state], "exit_code": state,
                       "checks": [{"address": r.address, "status": STATE_NAMES[r.state], "messages": r.messages,
                                   "values": r.values} for r in results]}, indent=2) + "\n"


def _perf_number(value: int | None) -> str:
    return "" if value is None else str(value)


def render_nagios(results: list[Result]) -> str:
    """``JSCTL STATE - problems | perfdata`` (the Nagios plugin output format, one line); perfdata values
    are integers, bytes with the unit ``B`` (warn, critical, min and max are in the value's unit)."""
    state = overall(results)
    problems = [f"{r.address}: {'; '.join(r.messages)}" for r in results if r.state != OK]
    text = ", ".join(problems) or f"{len(results)} resources OK"
    perf = [f"'{r.address} {name}'={v['value']}{r.measures[name].unit};{_perf_number(v['warn'])};"
            f"{_perf_number(v['critical'])};0;{_perf_number(v['max'])}"
            for r in results for name, v in r.values.items()]
    return printable(f"JSCTL {STATE_NAMES[state]} - {text}" + (f" | {' '.join(perf)}" if perf else "")) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "nagios": render_nagios}
