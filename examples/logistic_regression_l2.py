"""L2-penalised logistic regression with fastloss, checked against scikit-learn.

Objective: mean binary cross-entropy with logits + alpha/2 ||w||^2 (intercept
not penalised), minimised by full-batch gradient descent with Nesterov momentum
on the breast-cancer data bundled with scikit-learn. scikit-learn's
``LogisticRegression(C=1 / (alpha * n))`` minimises the same objective
(times a constant), so the coefficients agree.

    python examples/logistic_regression_l2.py

Needs scikit-learn besides fastloss:

    python -m pip install scikit-learn     # or: -r requirements/examples.txt
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import fastloss


def objective(w, b, X, y, alpha, return_grad=True):
    z = X @ w + b
    loss, gz = fastloss.binary_cross_entropy_with_logits(z, y, return_grad=True)
    pen, gw_pen = fastloss.l2_penalty(w, alpha, return_grad=True)
    return loss + pen, X.T @ gz + gw_pen, gz.sum()


def fit(X, y, alpha=0.01, iters=3000, lr=0.5):
    w, b = np.zeros(X.shape[1]), 0.0
    vw, vb = np.zeros_like(w), 0.0
    for _ in range(iters):  # Nesterov accelerated gradient
        f, gw, gb = objective(w + 0.9 * vw, b + 0.9 * vb, X, y, alpha)
        vw = 0.9 * vw - lr * gw
        vb = 0.9 * vb - lr * gb
        w, b = w + vw, b + vb
    return w, b


def main(iters=3000, alpha=0.01, quiet=False):
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = y.astype(np.float64)
    w, b = fit(X, y, alpha, iters)
    sk = LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    f_ours = objective(w, b, X, y, alpha)[0]
    f_sk = objective(sk.coef_[0], sk.intercept_[0], X, y, alpha)[0]
    acc = fastloss.accuracy(X @ w + b, y.astype(np.int64))
    diff = float(np.max(np.abs(w - sk.coef_[0])))
    if not quiet:
        print(f"objective: fastloss GD {f_ours:.10f}   scikit-learn {f_sk:.10f}")
        print(f"max |coef difference| {diff:.2e}   training accuracy {acc:.4f}")
    return {"objective": f_ours, "sklearn_objective": f_sk, "coef_diff": diff, "accuracy": acc}


if __name__ == "__main__":
    main()
