"""A tiny two-layer NumPy MLP trained with the Huber loss from fastloss.

Regression of y = sin(3x) with 10% gross outliers: the Huber loss (delta=0.3)
keeps the fit on the clean curve where the squared error is dragged by them.
The backward pass starts from fastloss's gradient of the loss with respect to
the predictions; ``fastloss.testing.check_grad`` verifies the whole
hand-written backpropagation once before training.

    python examples/numpy_mlp_huber.py

Needs nothing besides fastloss (and NumPy, which fastloss needs).
"""

from __future__ import annotations

import numpy as np

import fastloss
from fastloss.testing import check_grad


def init(hidden=32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, hidden)), np.zeros(hidden),
            rng.standard_normal((hidden, 1)) / np.sqrt(hidden), np.zeros(1)]


def forward_backward(params, x, y, loss=fastloss.huber_loss, **kw):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    pred = h @ W2 + b2
    value, gp = loss(pred, y, return_grad=True, **kw)  # d loss / d pred, one fused call
    gW2, gb2 = h.T @ gp, gp.sum(0)
    gh = gp @ W2.T * (1 - h**2)
    return value, [x.T @ gh, gh.sum(0), gW2, gb2]


def flat_loss(theta, params, x, y, **kw):
    """The loss as a function of all parameters in one vector (for check_grad)."""
    shapes = [p.shape for p in params]
    parts, i = [], 0
    for s in shapes:
        k = int(np.prod(s))
        parts.append(theta[i:i + k].reshape(s))
        i += k
    v, g = forward_backward(parts, x, y, **kw)
    return v, np.concatenate([gi.ravel() for gi in g])


def data(n=400, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, (n, 1))
    clean = np.sin(3 * x)
    y = clean + 0.05 * rng.standard_normal((n, 1))
    out = rng.random(n) < 0.1
    y[out] += rng.choice([-1, 1], out.sum())[:, None] * rng.uniform(2, 4, (out.sum(), 1))
    return x, y, clean


def train(loss=fastloss.huber_loss, steps=3000, lr=0.02, seed=0, **kw):
    x, y, clean = data()
    params = init(seed=seed)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):  # Adam
        _, grads = forward_backward(params, x, y, loss, **kw)
        for p, g, mi, vi in zip(params, grads, m, v):
            mi[...] = 0.9 * mi + 0.1 * g
            vi[...] = 0.999 * vi + 0.001 * g * g
            p -= lr * (mi / (1 - 0.9**t)) / (np.sqrt(vi / (1 - 0.999**t)) + 1e-8)
    W1, b1, W2, b2 = params
    pred = np.tanh(x @ W1 + b1) @ W2 + b2
    return params, float(np.sqrt(np.mean((pred - clean) ** 2)))


def main(steps=3000, quiet=False):
    x, y, _ = data(40)
    params = init()
    theta = np.concatenate([p.ravel() for p in params])
    res = check_grad(flat_loss, theta, params, x, y, delta=0.3)
    _, rmse_huber = train(fastloss.huber_loss, steps, delta=0.3)
    _, rmse_mse = train(fastloss.mse_loss, steps)
    if not quiet:
        print(f"backprop vs finite differences: max abs error {res.max_abs_err:.2e}")
        print(f"RMSE to the clean curve: huber {rmse_huber:.4f}   mse {rmse_mse:.4f}")
    return {"check_grad_err": res.max_abs_err, "rmse_huber": rmse_huber, "rmse_mse": rmse_mse}


if __name__ == "__main__":
    main()
