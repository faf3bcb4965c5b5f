"""Classification benchmarks: fused value + gradient against NumPy, PyTorch and scikit-learn.

Run with ``python -m pytest bench/test_bench_classification.py --benchmark-group-by=param:cls_case``
(needs ``pip install .[bench] torch``). Every implementation computes the loss
value and its gradient with respect to the logits, float32, on the same data:

- fastloss: one call, ``out=`` reused (no allocation), ``n_threads`` 1 and 2;
- numpy: ``fastloss.reference`` (the plain float64 NumPy definition);
- torch: forward + backward of ``torch.nn.functional`` (``torch.set_num_threads``);
- sklearn: ``HalfMultinomialLoss`` / ``HalfBinomialLoss`` ``loss_gradient`` with
  preallocated outputs (per-sample losses and unscaled gradients: slightly less work);
- jax: ``jit(value_and_grad)`` of the loss (``impls._jax_fn``), when JAX is installed.
  XLA sizes its CPU thread pool at start-up (every core), so it runs only in the
  group whose thread count is the machine's core count.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastloss
from fastloss import reference

CASES = {
    # case id: (loss, shape)
    "ce-1e6x10": ("cross_entropy", (10**6, 10)),
    "ce-1e5x1000": ("cross_entropy", (10**5, 1000)),
    "ce-4096x32000": ("cross_entropy", (4096, 32000)),
    "bcel-1e7": ("binary_cross_entropy_with_logits", (10**7,)),
}
IMPLEMENTATIONS = ["fastloss", "numpy", "torch", "sklearn", "jax"]
THREADS = [1, 2]


def _data(loss, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    if loss == "cross_entropy":
        return x, rng.integers(0, shape[1], shape[0])
    return x, rng.integers(0, 2, shape).astype(np.float32)


def _runner(impl, loss, x, y, n_threads):
    if impl == "fastloss":
        fn, grad = getattr(fastloss, loss), np.empty_like(x)
        return lambda: fn(x, y, out=grad, n_threads=n_threads)
    if impl == "numpy":
        if n_threads > 1:
            pytest.skip("the NumPy reference is single-threaded")
        ref = getattr(reference, loss)
        return lambda: ref(x, y)
    if impl == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(n_threads)
        fn = getattr(torch.nn.functional, loss)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def run():
            xr = xt.detach().requires_grad_()
            out = fn(xr, yt)
            out.backward()
            return out.item(), xr.grad
        return run
    if impl == "sklearn":
        sk = pytest.importorskip("sklearn._loss.loss")
        if loss == "cross_entropy":
            obj, yt = sk.HalfMultinomialLoss(n_classes=x.shape[1]), y.astype(np.float32)
            loss_out = np.empty(x.shape[0], np.float32)
        else:
            obj, yt = sk.HalfBinomialLoss(), y
            loss_out = np.empty_like(x)
        grad = np.empty_like(x)
        return lambda: obj.loss_gradient(y_true=yt, raw_prediction=x, loss_out=loss_out,
                                         gradient_out=grad, n_threads=n_threads)
    if impl == "jax":
        from impls import _jax_fn, jax, jnp
        if jax is None:
            pytest.skip("JAX is not installed")
        if n_threads != os.cpu_count():
            pytest.skip("XLA's CPU thread pool has every core; it runs in that group only")
        vg = jax.jit(jax.value_and_grad(_jax_fn(loss)))
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def run_jax():
            v, g = vg(xj, yj)
            g.block_until_ready()
            return float(v), g
        return run_jax
    raise ValueError(impl)


@pytest.mark.parametrize("n_threads", THREADS)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("cls_case", list(CASES))
def test_classification(benchmark, cls_case, impl, n_threads):
    # ("case" is the generic suite's parameter, filled by conftest.py)
    loss, shape = CASES[cls_case]
    x, y = _data(loss, shape)
    run = _runner(impl, loss, x, y, n_threads)
    benchmark.extra_info.update(case=cls_case, impl=impl, n_threads=n_threads, elements=x.size)
    benchmark.pedantic(run, warmup_rounds=1, rounds=5, iterations=1)
