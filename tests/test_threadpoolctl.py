"""threadpoolctl limits fastloss; fastloss coexists with PyTorch's OpenMP runtime.

Each case runs in a fresh interpreter so that import order and thread pools are
those of a real program.
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from fastloss import _omp

from _helpers import run_python

needs_openmp = pytest.mark.skipif(_omp.openmp_version == 0, reason="built without OpenMP")
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="torch is not installed")
needs_threadpoolctl = pytest.mark.skipif(importlib.util.find_spec("threadpoolctl") is None,
                                         reason="threadpoolctl is not installed")

CHECK = textwrap.dedent("""
    import numpy as np
    import fastloss
    from fastloss import reference
    x = np.linspace(-4.0, 4.0, 1 << 20); y = np.cos(x)
    ref_v, ref_g = reference.huber_loss(x, y)
    for n in (None, 1, 2):
        v, g = fastloss.huber_loss(x, y, return_grad=True, n_threads=n)
        assert abs(v - ref_v) <= 1e-12 * abs(ref_v), (n, v, ref_v)
        assert np.allclose(g, ref_g, rtol=1e-12, atol=0)
""")


@needs_openmp
@needs_threadpoolctl
def test_threadpool_limits_one_limits_fastloss():
    out = run_python(textwrap.dedent("""
        from threadpoolctl import threadpool_limits, threadpool_info
        import fastloss
        from fastloss import _omp
        from fastloss._threads import resolve_n_threads
        before = _omp.get_max_threads()
        assert any(i["user_api"] == "openmp" for i in threadpool_info())
        with threadpool_limits(1):
            inside = (_omp.get_max_threads(), resolve_n_threads(None))
            fastloss.mse_loss([1.0, 2.0], [0.0, 0.0])
        with threadpool_limits(limits=1, user_api="openmp"):
            inside_openmp = resolve_n_threads(None)
        print(before, inside, inside_openmp, _omp.get_max_threads())
    """), env={"OMP_NUM_THREADS": "2"})
    assert out.split() == ["2", "(1,", "1)", "1", "2"], out


@needs_openmp
def test_omp_num_threads_is_honoured():
    out = run_python("from fastloss._threads import resolve_n_threads; print(resolve_n_threads(None))",
                     env={"OMP_NUM_THREADS": "3"})
    assert out.strip() == "3"


@needs_torch
@pytest.mark.parametrize("order", ["torch_first", "fastloss_first"])
def test_fastloss_with_torch_in_the_same_process(order):
    """Two OpenMP runtimes (PyTorch's and fastloss's) in one process must not crash,
    in either import order, with both libraries running threaded work."""
    imports = ("import torch\nimport fastloss\n" if order == "torch_first"
               else "import fastloss\nimport torch\n")
    out = run_python(imports + CHECK + textwrap.dedent("""
        torch.set_num_threads(2)
        a = torch.randn(512, 512, dtype=torch.float64)
        for _ in range(3):
            (a @ a).sum().item()
            t = torch.from_numpy(x).requires_grad_()
            torch.nn.functional.huber_loss(t, torch.from_numpy(y)).backward()
            v, g = fastloss.huber_loss(x, y, return_grad=True, n_threads=2)
            assert np.allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-300)
        try:
            from threadpoolctl import threadpool_info
            print(sorted({i["filepath"] for i in threadpool_info() if i["user_api"] == "openmp"}))
        except ImportError:
            pass
        print("ok")
    """), env={"OMP_NUM_THREADS": "2"})
    assert out.strip().endswith("ok")
