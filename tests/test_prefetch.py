"""Pointwise kernels on inputs of 1 MiB or more, where they prefetch.

From 2**18 float32 / 2**17 float64 elements the pointwise kernels run each chunk
in blocks that prefetch the next chunk's inputs (``_prefetch.h``); below that,
in one block. The element math and the order of every sum are the same, so a
gradient element must have the same bits either way: here each gradient of a
large call is compared with the gradients of its slices, which are small enough
to take the one-block loop, and the value with the sum of the slices' values.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss._data import make_arrays
from fastloss._registry import LOSSES

N = (1 << 18) + 4099  # above both thresholds; not a multiple of the chunk size
SLICE = 1 << 16  # below both; a multiple of the chunk size, so slices keep their chunks

# (loss, with sample_weight): the penalties take no weights
CASES = [(s, w) for s in LOSSES if s.kind == "pointwise" and s.differentiable
         for w in ((False, True) if s.target != "none" else (False,))]


def _slices(arrays, extra):
    for start in range(0, N, SLICE):
        yield [a[start:start + SLICE] for a in arrays], {
            k: v[start:start + SLICE] for k, v in extra.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec, weighted", CASES,
                         ids=[f"{s.name}-{'weighted' if w else 'plain'}" for s, w in CASES])
def test_large_call_equals_its_slices(spec, weighted, dtype):
    arrays = make_arrays(spec, (N,), dtype, seed=4)
    extra = {"sample_weight": np.random.default_rng(4).uniform(0.5, 2.0, N)} if weighted else {}
    fn = getattr(fastloss, spec.name)
    value, grad = fn(*arrays, reduction="sum", return_grad=True, n_threads=2, **extra)
    parts = [fn(*a, reduction="sum", return_grad=True, n_threads=1, **e)
             for a, e in _slices(arrays, extra)]
    assert grad.tobytes() == np.concatenate([g for _, g in parts]).tobytes()
    expect = sum(v for v, _ in parts)
    np.testing.assert_allclose(value, expect, rtol=1e-12)
    # The value-only loop (no gradient) prefetches too.
    np.testing.assert_allclose(fn(*arrays, reduction="sum", n_threads=1, **extra), expect,
                               rtol=1e-12)
