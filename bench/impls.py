"""The implementations the benchmarks compare, for any registered loss.

Every implementation computes the value and the gradient of the loss with
respect to the input (reduction "mean" for losses, "sum" for penalties), on
the arrays that ``fastloss._data.make_arrays`` generates for the loss, so new
registry entries (including row-wise classification losses, whose inputs are
(N, C) logits and label targets) are picked up without touching this file;
peers that do not have a loss are simply absent for it.

``implementations(spec, dtype, n_threads)`` returns {name: make}, where
``make(arrays)`` prepares one input set (allocating any output buffer once)
and returns a zero-argument callable that runs one value+grad evaluation and
returns (value, grad).
"""

from __future__ import annotations

import numpy as np

import fastloss
from fastloss import _dispatch, reference
from fastloss._data import differentiated
from jax_losses import jax_loss

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    torch = None
try:
    import sklearn._loss.loss as sklearn_loss
except ImportError:  # pragma: no cover
    sklearn_loss = None
try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:
    jax = None

FLOOR = "floor"  # the bandwidth floor: a triad over the same bytes
_simd = _dispatch.load("_simd")


def reduction_of(spec) -> str:
    return "mean" if "mean" in spec.reductions else spec.reductions[0]


def grad_buffers(spec, arrays):
    """The ``out=`` of a value+grad call: one buffer, or one per input (several inputs)."""
    if spec.multi_input:
        return tuple(np.empty_like(arrays[spec.arrays.index(k)]) for k in spec.inputs)
    return np.empty_like(arrays[0])


def bytes_moved(spec, arrays) -> int:
    """Minimal traffic of one value+grad call: every input read once, the gradients written once."""
    g = grad_buffers(spec, arrays)
    return sum(a.nbytes for a in arrays) + sum(b.nbytes for b in (g if isinstance(g, tuple) else (g,)))


# Straightforward NumPy code in the input's dtype, as a user would write it
# (for the losses where it is a one-liner; others use only the reference).
def _np_plain(name):
    def mse(x, y):
        d = x - y
        return (d * d).mean(), 2 * d / d.size

    def l1(x, y):
        d = x - y
        return np.abs(d).mean(), np.sign(d) / d.size

    def huber(x, y, delta=1.0):
        d = x - y
        a = np.abs(d)
        q = a < delta
        return (np.where(q, 0.5 * d * d, delta * (a - 0.5 * delta)).mean(),
                np.where(q, d, delta * np.sign(d)) / d.size)

    def poisson(x, y):
        e = np.exp(x)
        return (e - y * x).mean(), (e - y) / x.size

    def log_cosh(x, y):
        d = x - y
        return (np.logaddexp(d, -d) - np.log(2.0)).mean(), np.tanh(d) / d.size

    def quantile(x, y, q=0.5):
        d = y - x
        return np.maximum(q * d, (q - 1) * d).mean(), np.where(d > 0, -q, np.where(d < 0, 1 - q, 0)).astype(x.dtype) / d.size

    def bce_logits(x, y):
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1, e) / (1 + e)  # sigmoid(x)
        return (np.maximum(x, 0) - x * y + np.log1p(e)).mean(), (s - y) / x.size

    def cross_entropy(x, y):  # class-index targets
        z = x - x.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        p = e / s
        p[rows, y] -= 1
        return (np.log(s[:, 0]) - z[rows, y]).mean(), p / len(y)

    def l2(w):
        return 0.5 * float(np.dot(w, w)), w.copy()

    def l1p(w):
        return float(np.abs(w).sum()), np.sign(w)

    return {"mse_loss": mse, "l1_loss": l1, "huber_loss": huber, "smooth_l1_loss": huber,
            "poisson_nll_loss": poisson, "log_cosh_loss": log_cosh, "quantile_loss": quantile,
            "l2_penalty": l2, "l1_penalty": l1p, "binary_cross_entropy_with_logits": bce_logits,
            "cross_entropy": cross_entropy}.get(name)


def torch_defaults(spec):
    """The default parameters of ``spec`` that its PyTorch function takes too (not
    fastloss's own, such as BCE-with-logits' label_smoothing)."""
    own = {p.name for p in spec.params if not p.torch}
    return {k: v for k, v in spec.defaults.items() if k not in own}


def _torch_fn(spec):
    if torch is None or not spec.torch:
        return None
    fn = getattr(F, spec.torch, None)
    return None if fn is None else fn


def _sklearn(spec):
    """(sklearn loss object, value scale) where sklearn._loss has the loss with default parameters."""
    if sklearn_loss is None:
        return None
    table = {
        "mse_loss": (sklearn_loss.HalfSquaredError, {}, 2.0),
        "l1_loss": (sklearn_loss.AbsoluteError, {}, 1.0),
        "poisson_nll_loss": (sklearn_loss.HalfPoissonLoss, {}, 1.0),
        "quantile_loss": (sklearn_loss.PinballLoss, {"quantile": 0.5}, 1.0),
    }
    if spec.name not in table:
        return None
    cls, kw, scale = table[spec.name]
    return cls(**kw), scale


def implementations(spec, dtype, n_threads: int) -> dict:
    name = spec.name
    red = reduction_of(spec)
    impls = {}
    f = getattr(fastloss, name)

    def make_fastloss(arrays):
        g = grad_buffers(spec, arrays)
        return lambda: f(*arrays, reduction=red, out=g, n_threads=n_threads)

    impls["fastloss"] = make_fastloss

    def make_floor(arrays):
        x = arrays[0].reshape(-1)
        y = arrays[-1].reshape(-1)
        if y.dtype != x.dtype or y.size != x.size:  # label targets: same bytes, as x
            y = x
        g = np.empty_like(x)
        return lambda: (_simd.triad(x, y, g, n_threads), g)

    impls[FLOOR] = make_floor

    ref = getattr(reference, name)
    impls["numpy_ref"] = lambda arrays: (lambda: ref(*arrays, reduction=red))

    plain = _np_plain(name)
    if plain is not None:
        impls["numpy_plain"] = lambda arrays: (lambda: plain(*arrays))

    tfn = _torch_fn(spec)
    if tfn is not None:
        kwargs = torch_defaults(spec)

        def make_torch(arrays):
            ts = [torch.from_numpy(a) for a in arrays]
            diff = differentiated(spec)

            def run():
                torch.set_num_threads(n_threads)
                args = [t.detach().requires_grad_() if d else t for t, d in zip(ts, diff)]
                v = tfn(*args, reduction=red, **kwargs)
                v.backward()
                return float(v), args[0].grad.numpy()

            return run

        impls["torch"] = make_torch

    sk = _sklearn(spec)
    if sk is not None and spec.defaults == dict(
            {"log_input": True, "full": False, "eps": 1e-8} if name == "poisson_nll_loss" else
            {"quantile": 0.5} if name == "quantile_loss" else {}):
        obj, scale = sk

        def make_sklearn(arrays):
            x, y = arrays[0].reshape(-1), arrays[1].reshape(-1)
            lo = np.empty_like(x)
            go = np.empty_like(x)

            def run():
                obj.loss_gradient(y, x, loss_out=lo, gradient_out=go, n_threads=n_threads)
                return scale * float(lo.mean()), go  # (gradient unscaled: timing only)

            return run

        impls["sklearn"] = make_sklearn

    if jax is not None:
        jf = _jax_fn(name)
        if jf is not None:
            vg = jax.jit(jax.value_and_grad(jf))

            def make_jax(arrays):
                ja = [jnp.asarray(a) for a in arrays]

                def run():
                    v, g = vg(*ja)
                    g.block_until_ready()
                    return float(v), np.asarray(g)

                return run

            impls["jax"] = make_jax
    return impls


def _jax_fn(name):
    """The loss as a JAX function of (input, target), mean reduction; None where not written."""
    return jax_loss(name) if jax is not None else None


def max_error(spec, result, arrays) -> float:
    """Relative error of the value against the float64 reference (NaN: not comparable)."""
    ref_v, _ = getattr(reference, spec.name)(*arrays, reduction=reduction_of(spec))
    v = float(result[0])
    return abs(v - ref_v) / max(abs(ref_v), 1e-300)
