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


def test_negative_n_threads_count_from_the_usable_cores(monkeypatch):
    # joblib's n_jobs convention: -1 is every usable core, -k all but k - 1, never below 1.
    from fastloss import _threads

    monkeypatch.setattr(_threads, "usable_cores", lambda: 8)
    assert [resolve_n_threads(k) for k in (-1, -2, -8, -9, -100)] == [8, 7, 1, 1, 1]


def test_usable_cores_is_the_affinity_where_the_os_has_one():
    import os

    from fastloss._threads import usable_cores

    if hasattr(os, "sched_getaffinity"):
        assert usable_cores() == len(os.sched_getaffinity(0))
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("n_threads", [-1, -2])
def test_negative_n_threads_in_a_call_is_the_same_result(n_threads):
    x = np.linspace(-3, 3, 50_001)
    t = np.arange(5001) % 10
    xr = np.linspace(-3, 3, 50_010).reshape(5001, 10)
    assert fastloss.huber_loss(x, 0 * x, return_grad=True, n_threads=n_threads)[1].tobytes() == \
        fastloss.huber_loss(x, 0 * x, return_grad=True, n_threads=1)[1].tobytes()
    assert fastloss.cross_entropy(xr, t, n_threads=n_threads) == fastloss.cross_entropy(xr, t, n_threads=1)


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
