"""More than 2**31 elements: 64-bit indexing end to end (opt-in, needs up to ~17 GB).

    python -m pytest -m bigmem tests/test_bigmem.py -v

(The default run deselects the ``bigmem`` marker: see ``addopts`` in pyproject.toml.)

Each test checks the value against a chunked float64 NumPy computation of the
whole array, and the gradient against ``fastloss.reference`` on slices at the
start, around element 2**31 (where a 32-bit index would wrap) and at the end.
The arrays are deterministic patterns, so slices of the originals can be
regenerated after ``out=`` overwrote the input in place (that keeps memory at
one or two arrays). A test is skipped when /proc/meminfo says there is not
enough memory available.
"""

from __future__ import annotations


import numpy as np
import pytest

import fastloss
from fastloss import reference

pytestmark = pytest.mark.bigmem

N = 2**31 + 4099  # > 2**31 elements, not a multiple of the chunk size
STEP = 1 << 26


def need_memory(gb):
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) for line in f}
        avail = info["MemAvailable"] / 2**20
    except (OSError, KeyError, ValueError):
        return
    if avail < gb:
        pytest.skip(f"needs ~{gb:.1f} GiB available, /proc/meminfo says {avail:.1f} GiB")


def pattern(start, stop, k=1):
    """Deterministic float32 values in [-5, 5) for elements [start, stop)."""
    i = np.arange(start, stop, dtype=np.int64)
    return (((i * (7 + 2 * k)) % 1001) / 100.0 - 5.0).astype(np.float32)


def fill(arr, k):
    for s in range(0, arr.size, STEP):
        arr[s:s + STEP] = pattern(s, min(s + STEP, arr.size), k)


def slices(n):
    return [(0, 5000), (2**31 - 2500, 2**31 + 2500), (n - 5000, n)]


def test_l2_penalty_over_2_31_elements_in_place():
    need_memory(9.0)
    w = np.empty(N, np.float32)
    fill(w, 1)
    expected = 0.0
    for s in range(0, N, STEP):
        p = pattern(s, min(s + STEP, N), 1).astype(np.float64)
        expected += 0.5 * float(p @ p)
    value, grad = fastloss.l2_penalty(w, 1.0, out=w)  # in place: one array of 8.6 GB
    assert grad is w
    assert value == pytest.approx(expected, rel=1e-9)
    for a, b in slices(N):
        _, ref_grad = reference.l2_penalty(pattern(a, b, 1), 1.0, reduction="sum")
        np.testing.assert_allclose(grad[a:b], ref_grad, rtol=1e-6)


def test_mse_loss_over_2_31_elements():
    need_memory(18.0)
    x = np.empty(N, np.float32)
    y = np.empty(N, np.float32)
    fill(x, 1)
    fill(y, 2)
    expected = 0.0
    for s in range(0, N, STEP):
        e = min(s + STEP, N)
        d = pattern(s, e, 1).astype(np.float64) - pattern(s, e, 2).astype(np.float64)
        expected += float(d @ d)
    expected /= N
    value, grad = fastloss.mse_loss(x, y, out=x)  # gradient written over the input
    del y
    assert grad is x
    assert value == pytest.approx(expected, rel=1e-7)
    for a, b in slices(N):
        _, ref_grad = reference.mse_loss(pattern(a, b, 1), pattern(a, b, 2), reduction="sum")
        np.testing.assert_allclose(grad[a:b], ref_grad / N, rtol=1e-5, atol=1e-12)


def test_cross_entropy_over_2_31_elements():
    C = 8
    n_rows = N // C + 1  # n_rows * C > 2**31
    need_memory(n_rows * C * 4 / 2**30 + n_rows * 8 / 2**30 + 1.5)
    x = np.empty((n_rows, C), np.float32)
    flat = x.reshape(-1)
    fill(flat, 1)
    t = (np.arange(n_rows, dtype=np.int64) * 5) % C
    expected = 0.0
    rows_step = STEP // C
    for r in range(0, n_rows, rows_step):
        e = min(r + rows_step, n_rows)
        v, _ = reference.cross_entropy(pattern(r * C, e * C, 1).reshape(-1, C), t[r:e],
                                       reduction="sum")
        expected += v
    expected /= n_rows
    value, grad = fastloss.cross_entropy(x, t, out=x)  # gradient over the logits: 8.6 GB
    assert grad is x
    assert value == pytest.approx(expected, rel=1e-7)
    for a, b in slices(n_rows * C):
        ra, rb = a // C, (b + C - 1) // C
        _, ref_grad = reference.cross_entropy(pattern(ra * C, rb * C, 1).reshape(-1, C), t[ra:rb],
                                              reduction="sum")
        np.testing.assert_allclose(grad[ra:rb], ref_grad / n_rows, rtol=1e-5, atol=1e-14)
