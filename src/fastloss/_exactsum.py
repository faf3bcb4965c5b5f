"""Exact summation of floats (Shewchuk's expansions, as in ``math.fsum``).

A running sum is kept as a short list of non-overlapping partials whose exact
sum is the exact sum of everything added. Partials of two sums can be merged
exactly, so a tree of merges gives the same final, correctly rounded number
whatever its shape or order: what a deterministic distributed reduction needs.
"""

from __future__ import annotations

import math


def add(partials: list[float], x: float) -> list[float]:
    """Add ``x`` to the expansion ``partials`` in place, exactly; return it."""
    x = float(x)
    if not math.isfinite(x):
        # inf/nan: keep them aside so that fsum reports them as usual
        partials.append(x)
        return partials
    i = 0
    for y in partials:
        if not math.isfinite(y):
            partials[i] = y
            i += 1
            continue
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]
    return partials


def merge(a: list[float], b: list[float]) -> list[float]:
    """An expansion of the exact sum of two expansions (new list)."""
    out = list(a)
    for y in b:
        add(out, y)
    return out


def total(partials: list[float]) -> float:
    """The correctly rounded value of an expansion."""
    return math.fsum(partials)
