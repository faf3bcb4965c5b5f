"""Plain NumPy float64 reference implementations of every fastloss loss.

Written for clarity, not speed: the compiled kernels are tested against these.
Each function takes the same arguments as its fastloss counterpart (without
``return_grad``, ``out`` and ``n_threads``) and returns ``(value, grad)`` in
float64, ``grad`` being the gradient of ``value`` with respect to the input
(for ``reduction="none"``, the elementwise derivatives).
"""

from __future__ import annotations

import functools

import numpy as np

from ._registry import REGISTRY


def _reduce(loss, grad, reduction, sample_weight):
    """Apply row weights and the reduction to elementwise losses and derivatives."""
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * (loss.ndim - 1))
        w = np.broadcast_to(w, loss.shape)
    else:
        w = np.ones_like(loss)
    if reduction == "none":
        return w * loss, w * grad
    if reduction == "sum":
        return float(np.sum(w * loss)), w * grad
    if reduction == "mean":
        if loss.size == 0:
            return float("nan"), grad
        return float(np.sum(w * loss) / np.sum(w)), w * grad / np.sum(w)
    raise ValueError(f"unknown reduction {reduction!r}")


def _pointwise(elementwise):
    """Turn ``f(x, [y,] **params) -> (l, dl/dx)`` into a full reference loss."""
    spec = REGISTRY[elementwise.__name__]
    has_target = spec.target != "none"

    @functools.wraps(elementwise)
    def loss(input, *args, reduction=spec.default_reduction, sample_weight=None, **params):
        x = np.asarray(input, dtype=np.float64)
        arrays = [x]
        if has_target:
            target, *args = args
            arrays.append(np.asarray(target, dtype=np.float64))
        positional = dict(zip([p.name for p in spec.params], args))
        kwargs = {**spec.defaults, **positional, **params}
        with np.errstate(all="ignore"):
            l, g = elementwise(*arrays, **kwargs)
            return _reduce(l, g, reduction, sample_weight)

    return loss


@_pointwise
def mse_loss(x, y):
    d = x - y
    return d**2, 2 * d


@_pointwise
def l1_loss(x, y):
    d = x - y
    return np.abs(d), np.sign(d)


@_pointwise
def huber_loss(x, y, delta):
    d = x - y
    quadratic = np.abs(d) < delta
    loss = np.where(quadratic, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    grad = np.where(quadratic, d, delta * np.sign(d))
    return loss, grad


@_pointwise
def smooth_l1_loss(x, y, beta):
    d = x - y
    if beta == 0:
        return np.abs(d), np.sign(d)
    quadratic = np.abs(d) < beta
    loss = np.where(quadratic, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)
    grad = np.where(quadratic, d / beta, np.sign(d))
    return loss, grad


@_pointwise
def poisson_nll_loss(x, y, log_input, full, eps):
    if log_input:
        loss, grad = np.exp(x) - y * x, np.exp(x) - y
    else:
        loss, grad = x - y * np.log(x + eps), 1 - y / (x + eps)
    if full:
        stirling = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        loss = loss + np.where(y > 1, stirling, 0.0)
    return loss, grad


@_pointwise
def log_cosh_loss(x, y):
    d = x - y
    # log(cosh d) = log1p(2 sinh(d/2)^2), exact for small d; the logaddexp form
    # for large |d|, where cosh would overflow.
    small = np.abs(d) < 1
    loss = np.where(small, np.log1p(2 * np.sinh(d / 2) ** 2), np.logaddexp(d, -d) - np.log(2))
    return loss, np.tanh(d)


@_pointwise
def quantile_loss(x, y, quantile):
    d = y - x
    loss = np.maximum(quantile * d, (quantile - 1) * d)
    grad = np.where(d > 0, -quantile, np.where(d < 0, 1 - quantile, 0.0 * d))
    return loss, grad


@_pointwise
def l1_penalty(w, alpha):
    return alpha * np.abs(w), alpha * np.sign(w)


@_pointwise
def l2_penalty(w, alpha):
    return 0.5 * alpha * w**2, alpha * w


@_pointwise
def elastic_net_penalty(w, alpha, l1_ratio):
    loss = alpha * (l1_ratio * np.abs(w) + 0.5 * (1 - l1_ratio) * w**2)
    grad = alpha * (l1_ratio * np.sign(w) + (1 - l1_ratio) * w)
    return loss, grad
