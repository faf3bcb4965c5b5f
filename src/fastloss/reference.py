"""Plain NumPy float64 reference implementations of every fastloss loss.

Written for clarity, not speed: the compiled kernels are tested against these.
Each function takes the same arguments as its fastloss counterpart (without
``return_grad``, ``out`` and ``n_threads``) and returns ``(value, grad)`` in
float64, ``grad`` being the gradient of ``value`` with respect to the input
(for ``reduction="none"``, the elementwise derivatives).

With ``return_hessian=True`` they return ``(value, grad, hess)``: ``hess`` has the
input's shape and holds the diagonal of the Hessian of ``value`` with respect to
the input, with the sample weights and the reduction's scaling of ``grad`` (for
"none", the elementwise second derivatives times the sample weight). At a kink the
second derivative is that of the side the gradient takes (e.g. huber_loss's linear
side at ``|d| == delta``: 0). softmax_focal_loss and accuracy have no Hessian: there
``return_hessian=True`` raises ValueError. linear_cross_entropy has no
``return_hessian``.

Each elementwise (row) function below returns ``(l, dl/dx, d2l/dx2)`` (its
Hessian diagonal ``None`` where there is none); the decorators ``_pointwise`` and
``_rowwise`` apply the sample weights and the reduction to the three alike.
"""

from __future__ import annotations

import functools

import numpy as np

from ._registry import REGISTRY
from ._validation import expand_shared, shared_axes


def _reduce(loss, grad, hess, reduction, sample_weight):
    """Apply row weights and the reduction to elementwise losses and derivatives:
    ``(value, grad, hess)``, the second derivatives scaled exactly as the first."""
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * (loss.ndim - 1))
        w = np.broadcast_to(w, loss.shape)
    else:
        w = np.ones_like(loss)
    if reduction == "none":
        return w * loss, w * grad, w * hess
    if reduction == "sum":
        return float(np.sum(w * loss)), w * grad, w * hess
    if reduction == "mean":
        if loss.size == 0:
            return float("nan"), grad, hess
        return float(np.sum(w * loss) / np.sum(w)), w * grad / np.sum(w), w * hess / np.sum(w)
    if reduction == "batchmean":  # sum / number of rows (sum of the row weights)
        rows = loss.shape[0] if loss.ndim else 1
        d = rows if sample_weight is None else np.sum(sample_weight)
        if loss.size == 0:
            return float("nan"), grad, hess
        return float(np.sum(w * loss) / d), w * grad / d, w * hess / d
    raise ValueError(f"unknown reduction {reduction!r}")


def _no_hessian(name):
    return ValueError(f"{name}: return_hessian=True is not supported (this loss has no Hessian)")


def _const(x, c):
    """The constant second derivative ``c`` as an array of x's shape."""
    return np.full(np.shape(x), c, dtype=np.float64)


def _pointwise(elementwise):
    """Turn ``f(x, [y,] **params) -> (l, dl/dx, d2l/dx2)`` into a full reference loss."""
    spec = REGISTRY[elementwise.__name__]
    has_target = spec.target != "none"

    @functools.wraps(elementwise)
    def loss(input, *args, reduction=spec.default_reduction, sample_weight=None,
             return_hessian=False, **params):
        x = np.asarray(input, dtype=np.float64)
        arrays = [x]
        if has_target:
            target, *args = args
            arrays.append(np.asarray(target, dtype=np.float64))
        positional = dict(zip([p.name for p in spec.params], args))
        kwargs = {**spec.defaults, **positional, **params}
        for a in spec.array_params:  # per-column vectors broadcast over the last axis
            v = kwargs.get(a.name)
            kwargs[a.name] = a.fill if v is None else np.asarray(v, dtype=np.float64)
        with np.errstate(all="ignore"):
            l, g, h = elementwise(*arrays, **kwargs)
            value, grad, hess = _reduce(l, g, h, reduction, sample_weight)
        return (value, grad, hess) if return_hessian else (value, grad)

    return loss


@_pointwise
def mse_loss(x, y):
    d = x - y
    return d**2, 2 * d, _const(d, 2.0)


@_pointwise
def l1_loss(x, y):
    d = x - y
    return np.abs(d), np.sign(d), _const(d, 0.0)


@_pointwise
def huber_loss(x, y, delta):
    d = x - y
    quadratic = np.abs(d) < delta
    loss = np.where(quadratic, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    grad = np.where(quadratic, d, delta * np.sign(d))
    return loss, grad, np.where(quadratic, 1.0, 0.0)


@_pointwise
def smooth_l1_loss(x, y, beta):
    d = x - y
    if beta == 0:
        return np.abs(d), np.sign(d), _const(d, 0.0)
    quadratic = np.abs(d) < beta
    loss = np.where(quadratic, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)
    grad = np.where(quadratic, d / beta, np.sign(d))
    return loss, grad, np.where(quadratic, 1 / beta, 0.0)


@_pointwise
def poisson_nll_loss(x, y, log_input, full, eps):
    if log_input:
        loss, grad = np.exp(x) - y * x, np.exp(x) - y
        hess = np.exp(x) + np.zeros_like(y)  # (of the broadcast shape)
    else:
        loss, grad = x - y * np.log(x + eps), 1 - y / (x + eps)
        hess = y / (x + eps) ** 2
    if full:  # the Stirling term does not depend on x
        stirling = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        loss = loss + np.where(y > 1, stirling, 0.0)
    return loss, grad, hess


@_pointwise
def log_cosh_loss(x, y):
    d = x - y
    # log(cosh d) = log1p(2 sinh(d/2)^2), exact for small d; the logaddexp form
    # for large |d|, where cosh would overflow.
    small = np.abs(d) < 1
    loss = np.where(small, np.log1p(2 * np.sinh(d / 2) ** 2), np.logaddexp(d, -d) - np.log(2))
    # sech(d)^2 = 4 E / (1 + E)^2, E = exp(-2|d|): no cancellation, exact in both tails
    e = np.exp(-2 * np.abs(d))
    return loss, np.tanh(d), 4 * e / (1 + e) ** 2


@_pointwise
def quantile_loss(x, y, quantile):
    d = y - x
    loss = np.maximum(quantile * d, (quantile - 1) * d)
    grad = np.where(d > 0, -quantile, np.where(d < 0, 1 - quantile, 0.0 * d))
    return loss, grad, _const(d, 0.0)


@_pointwise
def l1_penalty(w, alpha):
    return alpha * np.abs(w), alpha * np.sign(w), _const(w, 0.0)


@_pointwise
def l2_penalty(w, alpha):
    return 0.5 * alpha * w**2, alpha * w, _const(w, alpha)


@_pointwise
def elastic_net_penalty(w, alpha, l1_ratio):
    loss = alpha * (l1_ratio * np.abs(w) + 0.5 * (1 - l1_ratio) * w**2)
    grad = alpha * (l1_ratio * np.sign(w) + (1 - l1_ratio) * w)
    return loss, grad, _const(w, alpha * (1 - l1_ratio))


# ---- classification, pointwise ----

def _softplus(z):
    """log(1 + exp(z)), overflow-free."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_slope(z):
    """sigmoid(z) sigmoid(-z) = e / (1 + e)^2, e = exp(-|z|): exact in both tails."""
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


def _smoothed(y, s):
    """Keras's binary label smoothing."""
    return y * (1 - s) + 0.5 * s


@_pointwise
def binary_cross_entropy(x, y, weight, label_smoothing):
    y = _smoothed(y, label_smoothing)
    # PyTorch clamps the logs at -100 and divides by max(x (1 - x), float32(1e-12)).
    loss = -weight * (y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
    eps = float(np.float32(1e-12))
    grad = weight * (x - y) / np.maximum((1 - x) * x, eps)
    # d/dx of the gradient: (x^2 - 2 x y + y) / (x (1 - x))^2, the numerator written as
    # (1 - y) x^2 + y (1 - x)^2 (no cancellation for targets in [0, 1]); w / eps where
    # the denominator is clamped
    v = (1 - x) * x
    hess = np.where(v > eps, ((1 - y) * x**2 + y * (1 - x) ** 2) / v**2, 1 / eps)
    return loss, grad, weight * hess


def _logistic(x, y, pos_weight=1.0):
    """Per element: (1 - y) x + lw softplus(-x), its derivative (1 - y) - lw sigmoid(-x)
    and second derivative lw sigmoid(x) sigmoid(-x), lw = 1 + (pos_weight - 1) y =
    (1 - y) + pos_weight y; binary_cross_entropy_with_logits' element and
    multilabel_soft_margin_loss's per-class term. Written as sums of terms that do
    not cancel for targets in [0, 1] (for y = 1 and large x the differences kept
    only ~5 digits); targets outside [0, 1] make the terms of opposite sign, and
    their value keeps the first form."""
    with np.errstate(invalid="ignore"):
        split = (np.where(y != 1, (1 - y) * _softplus(x), 0.0)
                 + np.where(y != 0, pos_weight * y * _softplus(-x), 0.0))
        first = (1 - y) * x + (1 + (pos_weight - 1) * y) * _softplus(-x)
    value = np.where((y >= 0) & (y <= 1), split, first)
    grad = (1 - y) * _sigmoid(x) - pos_weight * y * _sigmoid(-x)
    return value, grad, ((1 - y) + pos_weight * y) * _sigmoid_slope(x)


@_pointwise
def binary_cross_entropy_with_logits(x, y, weight, pos_weight, label_smoothing):
    value, grad, hess = _logistic(x, _smoothed(y, label_smoothing), pos_weight)
    return weight * value, weight * grad, weight * hess


@_pointwise
def sigmoid_focal_loss(x, y, alpha, gamma):
    p, pn = _sigmoid(x), _sigmoid(-x)
    ce = _softplus(x) - x * y
    q = p * (1 - y) + pn * y  # 1 - p_t
    a = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else 1.0
    dq = p * pn * (1 - 2 * y)  # d q / dx
    dqg = np.where(q > 0, gamma * q ** (gamma - 1), 0.0) if gamma != 0 else 0.0
    # l = a ce q^g: l'' = a q^g (ce'' + 2 g ce' r + g ce r ((g - 1) r + q'' / q')) with
    # r = q' / q, ce' = p - y, ce'' = p pn, q'' / q' = 1 - 2 p = pn - p
    r = np.where(q > 0, dq / np.where(q > 0, q, 1.0), 0.0)
    hess = a * q**gamma * (p * pn + 2 * gamma * (p - y) * r
                           + gamma * ce * r * ((gamma - 1) * r + (pn - p)))
    return a * ce * q**gamma, a * ((p - y) * q**gamma + ce * dqg * dq), hess


@_pointwise
def soft_margin_loss(x, y):
    return _softplus(-y * x), -y * _sigmoid(-y * x), y**2 * _sigmoid_slope(y * x)


@_pointwise
def hinge_embedding_loss(x, y, margin):
    d = margin - x
    loss = np.where(y != -1, x, 0.0) + np.where(y != 1, np.maximum(d, 0), 0.0)
    grad = (y != -1) * 1.0 - (y != 1) * (d >= 0)
    return loss, np.where(np.isnan(x), x, grad), _const(loss, 0.0)


@_pointwise
def kl_div(x, y, log_target):
    p = np.exp(y) if log_target else y  # target probabilities
    logp = y if log_target else np.log(y)
    zero = np.where(np.isnan(x), x, 0.0)  # a zero probability contributes 0
    loss, grad = np.where(p == 0, zero, p * (logp - x)), np.where(np.isnan(x), x, -p)
    return loss, grad, _const(loss, 0.0)  # linear in x


# ---- classification, rowwise: (N, C) inputs ----

def _rowwise(rowfn):
    """Turn ``f(x, t, **params) -> (row losses, row gradients, row Hessian
    diagonals or None)`` into a reference loss.

    ``t`` holds class indices (ignored rows replaced by 0) or the target rows;
    ignored rows get loss, gradient and Hessian 0; "mean" divides by the spec's
    ``mean_over`` denominator times sample_weight.
    """
    spec = REGISTRY[rowfn.__name__]
    positional_names = spec.positional

    @functools.wraps(rowfn)
    def loss(input, target, *args, reduction=spec.default_reduction, sample_weight=None,
             return_hessian=False, **params):
        x = np.asarray(input, dtype=np.float64)
        if x.ndim != 2 and not (x.ndim == 1 and spec.binary_input):
            return _as_rows(loss, x, np.asarray(target), args, reduction, sample_weight,
                            return_hessian, params)
        if x.ndim == 1 and spec.binary_input:
            x = x[:, None]
        kwargs = {**spec.defaults, **{a.name: None for a in spec.array_params},
                  **dict(zip(positional_names, args)), **params}
        n, c = x.shape
        for a in spec.array_params:
            v = kwargs[a.name]
            kwargs[a.name] = np.full(c, a.fill) if v is None else np.asarray(v, dtype=np.float64) * np.ones(c)
        ignore_index = kwargs.pop("ignore_index", None)
        t = np.asarray(target)
        is_class = t.dtype.kind in "iub" and spec.target in ("class", "class_or_prob")
        if spec.target == "index_rows":  # rows of class indices: every row counts
            valid, t = np.ones(n, bool), t.astype(np.int64)
        elif is_class:
            valid = t != ignore_index if ignore_index is not None else np.ones(n, bool)
            t = np.where(valid, t, 0).astype(np.int64)
        else:
            valid = np.ones(n, bool)
            t = t.astype(np.float64)
        with np.errstate(all="ignore"):
            prob = {} if is_class or spec.target in ("real", "index_rows") else {"prob": True}
            l, g, h = rowfn(x, t, **prob, **kwargs)
        if return_hessian and h is None:
            raise _no_hessian(spec.name)
        l = np.where(valid, l, 0.0)
        g = np.where(valid[:, None], g, 0.0)
        h = np.where(valid[:, None], h, 0.0) if return_hessian else None
        d = valid * 1.0
        if spec.mean_over == "rows" or not is_class:
            d = np.ones(n)
        elif spec.mean_over == "target_weight":
            d = valid * kwargs["weight"][t]
        s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if reduction == "none":
            value, den = s * l, 1.0
        elif reduction == "sum":
            value, den = float(np.sum(s * l)), 1.0
        else:
            den = np.sum(s * d)
            value = float(np.sum(s * l)) / den if den else float("nan")
            den = den if den else np.inf
        # (the derivatives of the reduced value: those of the rows, scaled alike)
        if return_hessian:
            return value, s[:, None] * g / den, s[:, None] * h / den
        return value, s[:, None] * g / den

    return loss


def _as_rows(loss, x, t, args, reduction, sample_weight, return_hessian, params):
    """A row-wise loss of an input other than (N, C), by moving its rows to an (M, C) one:
    (C,) and 0-d (one row), (N, C, d1, ..., dk) (a row per position, class axis last)."""
    if x.ndim < 2:
        xr, tr, sw, rows = x.reshape(1, -1), t.reshape((1, -1) if t.ndim == x.ndim else 1), None, ()
        back = lambda d: d.reshape(x.shape)  # noqa: E731
    else:
        c, rows = x.shape[1], x.shape[:1] + x.shape[2:]
        xr = np.moveaxis(x, 1, -1).reshape(-1, c)
        tr = np.moveaxis(t, 1, -1).reshape(-1, c) if t.shape == x.shape else t.reshape(-1)
        sw = None if sample_weight is None else np.repeat(
            np.asarray(sample_weight, np.float64), int(np.prod(x.shape[2:])))
        back = lambda d: np.moveaxis(d.reshape(rows + (c,)), -1, 1)  # noqa: E731
    value, *derivs = loss(xr, tr, *args, reduction=reduction, sample_weight=sw,
                          return_hessian=return_hessian, **params)
    if reduction == "none":
        value = value.reshape(rows)
    return (value, *(back(d) for d in derivs))


def _log_softmax(x):
    # log S as log1p of the sum without the row's first maximum (whose term is 1):
    # exact where S ~ 1, so -log p of a dominant class keeps its digits.
    m = np.max(x, axis=1, keepdims=True)
    e = np.exp(x - m)
    first_max = np.arange(x.shape[1]) == np.argmax(x, axis=1)[:, None]
    others = np.sum(np.where(first_max, 0.0, e), axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        log_s = np.where(np.isfinite(m), np.log1p(others), np.log(np.sum(e, axis=1, keepdims=True)))
    return x - m - log_s


def _onehot(t, c):
    return np.eye(c)[t]


def _softmax_slope(p):
    """p (1 - p) for rows of probabilities p; where p > 1/2 (one entry of a row at
    most), 1 - p is summed from the row's other entries: no cancellation where p ~ 1."""
    top = p > 0.5
    others = np.sum(np.where(top, 0.0, p), axis=1, keepdims=True)
    return p * np.where(top, others, 1 - p)


def _softmax_linear(x, coef, const=0.0):
    """Loss sum_j c_j (-log p_j) + const, its gradient (sum_j c_j) p - c and its
    Hessian diagonal (sum_j c_j) p (1 - p); a zero coefficient contributes 0 even
    where log p_j = -inf."""
    logp = _log_softmax(x)
    loss = np.sum(np.where(coef != 0, -coef * logp, 0.0), axis=1) + const
    total = coef.sum(axis=1, keepdims=True)
    p = np.exp(logp)
    # total p - c cancels where p ~ 1 (one entry of a row at most): there it is the other
    # entries' coefficients minus total times their probabilities, each summed exactly
    # (hypothesis found a target entry of 1.7e-6 that was 1.5e-11 off).
    top = p > 0.5
    rest_c = np.sum(np.where(top, 0.0, coef), axis=1, keepdims=True)
    rest_p = np.sum(np.where(top, 0.0, p), axis=1, keepdims=True)
    grad = np.where(top, rest_c - total * rest_p, total * p - coef)
    return loss, grad, total * _softmax_slope(p)


@_rowwise
def cross_entropy(x, t, weight, label_smoothing, prob=False):
    c = x.shape[1]
    q = t if prob else _onehot(t, c)
    return _softmax_linear(x, weight * ((1 - label_smoothing) * q + label_smoothing / c))


@_rowwise
def nll_loss(x, t, weight):
    hot = _onehot(t, x.shape[1])
    return -weight[t] * np.sum(hot * x, axis=1), -weight[t][:, None] * hot, np.zeros(x.shape)


@_rowwise
def softmax_focal_loss(x, t, alpha, gamma):
    logp = _log_softmax(x)
    p = np.exp(logp)
    hot = _onehot(t, x.shape[1])
    py = np.sum(hot * p, axis=1)
    q = np.sum((1 - hot) * p, axis=1)                # 1 - p_y, without cancellation
    # -log p_y; where p_y ~ 1, log1p(q / p_y) keeps the digits that -log(p_y) loses
    L = np.where(q <= py, np.log1p(q / np.where(py > 0, py, 1.0)), -np.sum(hot * logp, axis=1))
    a = alpha[t]
    dterm = np.where(q > 0, gamma * py * L * q ** (gamma - 1), 0.0) if gamma != 0 else 0.0
    K = a * (q**gamma + dterm)
    # d(-log p_y)/dz = p - onehot; at the target entry that is -q, exact where p_y ~ 1
    grad = K[:, None] * np.where(hot == 1, -q[:, None], p)
    # Hessian: g_c = K(p_y) (p_c - [c = y]) with dp_y/dz_c = p_y ([c = y] - p_c), so
    # h_c = K p_c (1 - p_c) - K'(p_y) p_y (p_c - [c = y])^2, and K'(p) p (p_c - [c = y])^2 =
    # q^gamma D rho_c^2 with D = gamma p (q (L - 2) - (gamma - 1) p L), rho_c = p_c / q
    # (c != y), 1 (c = y): written without q^(gamma - 2).
    D = gamma * py * (q * (L - 2) - (gamma - 1) * py * L)
    rho = np.where(hot == 1, 1.0, p / np.where(q > 0, q, 1.0)[:, None])
    hess = a[:, None] * (((q**gamma + dterm)[:, None]) * _softmax_slope(p)
                         - (q**gamma * D)[:, None] * rho**2)
    return a * q**gamma * L, grad, hess


@_rowwise
def cross_entropy_with_prior(x, t, prior, prior_weight):
    entropy_term = np.sum(np.where(prior > 0, prior * np.log(np.where(prior > 0, prior, 1)), 0.0))
    coef = _onehot(t, x.shape[1]) + prior_weight * prior
    return _softmax_linear(x, coef, prior_weight * entropy_term)


@_rowwise
def multilabel_soft_margin_loss(x, y, weight):
    c = x.shape[1]
    value, grad, hess = _logistic(x, y)  # softplus(x) - y x, sigmoid(x) - y, without cancellation
    return (weight * value).sum(axis=1) / c, weight * grad / c, weight * hess / c


@_rowwise
def multi_margin_loss(x, t, weight, p, margin):
    n, c = x.shape
    hot = _onehot(t, c)
    d = margin - np.sum(hot * x, axis=1, keepdims=True) + x
    active = (hot == 0) & ~(d <= 0)  # NaN counts as active, so it propagates
    loss = np.where(active, d**p, 0.0).sum(axis=1)
    dg = np.where(active, np.where(np.isnan(d), d, p * d ** (p - 1)), 0.0)
    grad = dg - hot * dg.sum(axis=1, keepdims=True)
    # p = 2: 2 for each term of positive margin (one at exactly 0 has gradient 0, as
    # PyTorch's), and at the target entry 2 per such term; p = 1: 0
    dh = np.where((hot == 0) & (d > 0), p * (p - 1.0), 0.0)
    hess = dh + hot * dh.sum(axis=1, keepdims=True)
    wy = weight[t][:, None] / c
    return wy[:, 0] * loss, wy * grad, wy * hess


@_rowwise
def multilabel_margin_loss(x, t):
    n, c = x.shape
    rows = np.arange(n)
    # Row i's targets are t[i, :k_i], k_i the position of its first negative entry.
    neg = t < 0
    k_end = np.where(neg.any(axis=1), neg.argmax(axis=1), c)
    listed = np.arange(c) < k_end[:, None]
    is_target = np.zeros((n, c), bool)
    is_target[np.nonzero(listed)[0], t[listed]] = True
    loss, grad = np.zeros(n), np.zeros((n, c))
    for k in range(k_end.max(initial=0)):  # every row's k-th target; one listed twice counts twice
        y = np.where(listed[:, k], t[:, k], 0)
        z = 1 - x[rows, y][:, None] + x
        # NaN counts as active, so it propagates
        on = listed[:, k, None] & ~is_target & ~(z <= 0)
        loss += np.sum(np.where(on, z, 0.0), axis=1)
        dz = np.where(on, np.where(np.isnan(z), z, 1.0), 0.0)
        grad += dz
        grad[rows, y] -= dz.sum(axis=1)
    return loss / c, grad / c, np.zeros((n, c))


@_rowwise
def accuracy(x, t, k):
    """Top-k: fewer than k scores rank above the target's (ties: lower index first)."""
    n, c = x.shape
    if c == 1:  # positive iff > 0; a NaN logit is wrong either way
        correct = np.where(t == 1, x[:, 0] > 0, x[:, 0] <= 0)
    else:
        zy = x[np.arange(n), t][:, None]
        above = (x > zy) | ((x == zy) & (np.arange(c) < t[:, None]))
        correct = (above.sum(axis=1) < k) & ~np.isnan(zy[:, 0])
    return correct * 1.0, np.zeros_like(x), None  # not differentiable: no Hessian


def linear_cross_entropy(input, weight, target, bias=None, *, class_weight=None,
                         ignore_index=-100, label_smoothing=0.0, reduction="mean",
                         sample_weight=None):
    """cross_entropy of the materialised logits input @ weight.T + bias: ``(value,
    (d_input, d_weight[, d_bias]))`` in float64 (for "none", the gradients of the sum).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> rng = np.random.default_rng(0)
    >>> h, W, y = rng.standard_normal((5, 3)), rng.standard_normal((7, 3)), np.arange(5)
    >>> value, (d_h, d_W) = fastloss.reference.linear_cross_entropy(h, W, y)
    >>> fast_value, (f_h, f_W) = fastloss.linear_cross_entropy(h, W, y, return_grad=True)
    >>> bool(np.isclose(value, fast_value) and np.allclose(d_h, f_h) and np.allclose(d_W, f_W))
    True
    """
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    z = x @ w.T + (0.0 if bias is None else np.asarray(bias, dtype=np.float64))
    value, g = cross_entropy(z, target, weight=class_weight, ignore_index=ignore_index,
                             label_smoothing=label_smoothing, reduction=reduction,
                             sample_weight=sample_weight)
    grads = (g @ w, g.T @ x) + (() if bias is None else (g.sum(axis=0),))
    return value, grads


def _multi(lossfn):
    """Turn ``f(**arrays, **params) -> (losses, {input name: d loss / d input})`` (one
    loss per element, or per row for mean_over "rows"; arrays by their argument names,
    a reduced input or a broadcast target expanded to the first input's shape) into a
    reference loss returning ``(value, (grad_1, ..., grad_k))``."""
    spec = REGISTRY[lossfn.__name__]

    @functools.wraps(lossfn)
    def loss(*args, reduction=spec.default_reduction, **params):
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in zip(spec.arrays, args)}
        params = {**spec.defaults, **dict(zip(spec.positional, args[len(spec.arrays):])),
                  **params}
        x = arrays[spec.inputs[0]]
        axes = {k: shared_axes(arrays[k].shape, x.shape, k) for k in spec.reduced_inputs}
        shapes = {k: arrays[k].shape for k in spec.inputs}
        for k, ax in axes.items():
            arrays[k] = expand_shared(arrays[k], x.shape, ax)
        if spec.target == "broadcast":
            arrays["target"] = np.broadcast_to(arrays["target"], x.shape)
        with np.errstate(all="ignore"):
            l, grads = lossfn(**arrays, **params)
        grads = [grads[k].sum(axis=axes[k]).reshape(shapes[k]) if axes.get(k) else grads[k]
                 for k in spec.inputs]
        if reduction == "none":
            return l, tuple(grads)
        if reduction == "sum":
            return float(np.sum(l)), tuple(grads)
        n = l.size
        return (float(np.sum(l) / n) if n else float("nan")), tuple(g / max(n, 1) for g in grads)

    return loss


@_multi
def margin_ranking_loss(input1, input2, target, margin):
    u = margin - target * (input1 - input2)
    g = np.where(u >= 0, target, 0.0)  # u = 0 passes the gradient, as PyTorch
    return np.maximum(u, 0.0), {"input1": -g, "input2": g}


@_multi
def cosine_embedding_loss(input1, input2, target, margin):
    a, b, y = input1, input2, target
    m1 = np.sum(a * a, axis=-1) + 1e-12
    m2 = np.sum(b * b, axis=-1) + 1e-12
    den = np.sqrt(m1 * m2)
    c = np.sum(a * b, axis=-1) / den
    loss = np.where(y == 1, 1 - c, np.where(y == -1, np.maximum(c - margin, 0.0), 0.0))
    k = np.where(y == 1, -1.0, np.where((y == -1) & (c - margin > 0), 1.0, 0.0))
    k, c, den, m1, m2 = (v[..., None] for v in (k, c, den, m1, m2))
    return loss, {"input1": k * (b / den - c * a / m1), "input2": k * (a / den - c * b / m2)}


def _distance(u, v, p, eps):
    """torch's pairwise_distance ||u - v + eps||_p over the last axis, and its gradient
    with respect to u (0 where the difference or the distance is 0)."""
    d = u - v + eps
    norm = np.sum(np.abs(d) ** p, axis=-1) ** (1.0 / p)
    ratio = np.abs(d) / np.where(norm == 0, 1.0, norm)[..., None]
    g = np.where((d == 0) | (norm[..., None] == 0), 0.0, np.sign(d) * ratio ** (p - 1))
    return norm, g


@_multi
def triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap):
    dap, gap = _distance(anchor, positive, p, eps)
    dan, gan = _distance(anchor, negative, p, eps)
    wan, wpn, dneg = np.ones_like(dan), np.zeros_like(dan), dan
    if swap:
        dpn, gpn = _distance(positive, negative, p, eps)
        # torch's minimum: halves the gradient at a tie, gives it to both where unordered
        unordered = np.isnan(dan) | np.isnan(dpn)
        wan = np.where(dan == dpn, 0.5, np.where((dpn < dan) & ~unordered, 0.0, 1.0))
        wpn = np.where(dan == dpn, 0.5, np.where((dan < dpn) & ~unordered, 0.0, 1.0))
        dneg = np.minimum(dan, dpn)
    else:
        gpn = np.zeros_like(gan)
    u = margin + dap - dneg
    c = (u >= 0)[..., None] * 1.0
    wan, wpn = wan[..., None] * c, wpn[..., None] * c
    return np.maximum(u, 0.0), {"anchor": c * gap - wan * gan,
                                "positive": -c * gap - wpn * gpn,
                                "negative": wan * gan + wpn * gpn}


@_multi
def gaussian_nll_loss(input, target, var, full, eps):
    v = np.where(var < eps, eps, var)  # NaN stays NaN, as torch's clamp
    d = input - target
    loss = 0.5 * (np.log(v) + d * d / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    return loss, {"input": d / v, "var": 0.5 * (1 / v - d * d / (v * v))}


def _document() -> None:
    # After every function exists: the Examples compare each with its kernel.
    from ._docs import reference_docstring

    for name in REGISTRY:
        globals()[name].__doc__ = reference_docstring(REGISTRY[name])


_document()
