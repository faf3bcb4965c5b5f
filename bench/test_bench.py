"""pytest-benchmark suite: every registered loss x dtype x size x threads x implementation.

Benchmarks, not tests: nothing here asserts a time. Inputs come from
``fastloss._data.make_arrays`` (never zeros) and rotate through enough copies
to exceed the last-level cache, so every call streams from memory, as the
bandwidth floor (``floor``, a triad over the same bytes) does in the same run.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import fastloss
from fastloss._data import make_arrays
from impls import bytes_moved, implementations, max_error

L3_BYTES = 32 << 20  # rotate through at least 2x this (EPYC here: 32 MiB L3)
MAX_SETS = 64


def _shape(spec, n):
    # Row-wise losses (classification) arrive later: (N, C) with N*C = n elements.
    c = int(spec.extra.get("bench_classes", 0)) if hasattr(spec, "extra") else 0
    return (n // c, c) if c else (n,)


@functools.lru_cache(maxsize=4)
def _input_sets(name, dtype, n):
    spec = fastloss.REGISTRY[name]
    first = make_arrays(spec, _shape(spec, n), np.dtype(dtype), seed=0)
    per_set = bytes_moved(spec, first)
    k = int(min(MAX_SETS, max(2, -(-2 * L3_BYTES // per_set))))
    return [first] + [make_arrays(spec, _shape(spec, n), np.dtype(dtype), seed=s) for s in range(1, k)]


def test_value_and_grad(benchmark, case, request):
    name, dtype, n, nt, impl = case
    spec = fastloss.REGISTRY[name]
    sets = _input_sets(name, dtype, n)
    try:
        runs = [implementations(spec, np.dtype(dtype), nt)[impl](a) for a in sets]
        result = runs[0]()
    except Exception as e:  # a peer that cannot run this case (dtype, parameters)
        pytest.skip(f"{impl}: {type(e).__name__}: {e}")
    state = {"i": 0}

    def one():
        r = runs[state["i"] % len(runs)]
        state["i"] += 1
        return r()

    rounds = request.config.getoption("rounds")
    benchmark.group = f"{name}-{dtype}-{n}-t{nt}"
    benchmark.extra_info.update(
        loss=name, dtype=dtype, n=n, threads=nt, impl=impl, bytes=bytes_moved(spec, sets[0]),
        rel_err=float("nan") if impl == "floor" else max_error(spec, result, sets[0]),
        simd=fastloss._dispatch.SIMD_LEVEL,
    )
    benchmark.pedantic(one, rounds=rounds * len(runs) if n < 10**6 else rounds, iterations=1,
                       warmup_rounds=min(len(runs), 3))
