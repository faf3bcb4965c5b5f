"""Thread-count resolution, threadpoolctl, and fork safety."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys

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


def _child(q):
    x = np.linspace(-1, 1, 200_000)
    q.put(fastloss.mse_loss(x, np.zeros_like(x), n_threads=4))


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in mp.get_all_start_methods(),
                    reason="no fork on this platform")
def test_forked_child_after_threaded_kernel_does_not_hang():
    x = np.linspace(-1, 1, 200_000)
    expected = fastloss.mse_loss(x, np.zeros_like(x), n_threads=4)  # start the OpenMP pool
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    p.join(30)
    alive = p.is_alive()
    if alive:
        os.kill(p.pid, 9)
    assert not alive, "forked child hung in an OpenMP region"
    assert p.exitcode == 0
    assert q.get(timeout=5) == expected
