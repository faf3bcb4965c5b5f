"""Thread-count resolution, threadpoolctl, and fork safety."""

from __future__ import annotations


import numpy as np
import pytest

import fastloss
from fastloss import _omp
from fastloss._threads import resolve_n_threads


def test_none_means_openmp_default():
    assert resolve_n_threads(None) == _omp.get_max_threads()
    assert resolve_n_threads(3) == 3


@pytest.mark.skipif(not _omp.openmp_version, reason="built without OpenMP")
def test_threadpoolctl_limit_is_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert resolve_n_threads(None) == 1
    with threadpoolctl.threadpool_limits(limits=2, user_api="openmp"):
        assert resolve_n_threads(None) == 2


@pytest.mark.parametrize("n_threads", [257, 1 << 16, 10**30])
def test_huge_n_threads_is_capped_not_a_crash(n_threads):
    # Regression (fuzzer): n_threads=10**30 was clamped to 2**16 threads, and
    # libgomp segfaulted trying to start them.
    from fastloss._threads import MAX_THREADS

    assert resolve_n_threads(n_threads) == MAX_THREADS
    x = np.linspace(-1, 1, 70_001).astype(np.float32)
    y = np.zeros_like(x)
    v1, g1 = fastloss.quantile_loss(x, y, reduction="none", return_grad=True, n_threads=1)
    v, g = fastloss.quantile_loss(x, y, reduction="none", return_grad=True, n_threads=n_threads)
    assert np.array_equal(v, v1) and np.array_equal(g, g1)
