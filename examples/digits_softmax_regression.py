"""Softmax regression on scikit-learn's digits with SGD and a step-decay learning rate.

Every gradient comes from fastloss: one ``cross_entropy(..., return_grad=True,
return_accuracy=True)`` call per mini-batch gives the loss sum, its gradient
with respect to the logits and the number of correct predictions; a
``fastloss.Meter`` turns them into exact epoch means. The L2 penalty on the
weights (``fastloss.l2_penalty``) is weight decay. Prints loss and accuracy per
epoch; with ``--out PATH``, also plots them to the PNG file PATH (the README's
figure is ``--out docs/digits_training.png``). Writes no other file.

    python examples/digits_softmax_regression.py [--epochs 40] [--out PATH.png]

Needs scikit-learn besides fastloss, and matplotlib for ``--out``:

    python -m pip install scikit-learn matplotlib     # or: -r requirements/examples.txt
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastloss


def load(seed=0):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    return (Xtr - mu) / sd, (Xte - mu) / sd, ytr, yte


def evaluate(W, b, X, y):
    loss, n_correct = fastloss.cross_entropy(X @ W + b, y, return_accuracy=True)
    return loss, n_correct / len(y)


def train(epochs=40, batch=32, lr0=0.1, step=15, gamma=0.3, alpha=1e-4, seed=0):
    """SGD with momentum; the learning rate is multiplied by ``gamma`` every ``step`` epochs."""
    Xtr, Xte, ytr, yte = load(seed)
    rng = np.random.default_rng(seed)
    n, d = Xtr.shape
    W = np.zeros((d, 10))
    b = np.zeros(10)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    meter = fastloss.Meter()
    hist = {k: [] for k in ("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc")}
    gz = np.empty((batch, 10))  # reused gradient buffer (out=)
    for epoch in range(epochs):
        lr = lr0 * gamma ** (epoch // step)
        meter.reset()
        for idx in np.array_split(rng.permutation(n), int(np.ceil(n / batch))):
            z = Xtr[idx] @ W + b
            s, g, n_correct = fastloss.cross_entropy(
                z, ytr[idx], reduction="sum", out=gz[:len(idx)], return_accuracy=True)
            meter.update(s, len(idx), n_correct=n_correct)
            g = g / len(idx)  # gradient of the batch mean
            _, gW_pen = fastloss.l2_penalty(W, alpha, return_grad=True)
            vW = 0.9 * vW + Xtr[idx].T @ g + gW_pen
            vb = 0.9 * vb + g.sum(0)
            W -= lr * vW
            b -= lr * vb
        test_loss, test_acc = evaluate(W, b, Xte, yte)
        for k, v in zip(hist, (epoch + 1, lr, meter.loss, meter.accuracy, test_loss, test_acc)):
            hist[k].append(v)
    return W, b, hist


def plot(hist, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(hist["epoch"], hist["train_loss"], label="train (epoch mean, Meter)")
    a1.plot(hist["epoch"], hist["test_loss"], label="test")
    a1.set_yscale("log")
    a1.set_xlabel("epoch")
    a1.set_ylabel("cross-entropy")
    a1.legend()
    a2.plot(hist["epoch"], hist["train_acc"], label="train")
    a2.plot(hist["epoch"], hist["test_acc"], label="test")
    a2.set_xlabel("epoch")
    a2.set_ylabel("accuracy")
    a2.legend()
    for a in (a1, a2):
        for e, lr in zip(hist["epoch"][1:], np.diff(hist["lr"])):
            if lr:
                a.axvline(e - 0.5, color="0.8", lw=0.8, zorder=0)
    fig.suptitle("Softmax regression on sklearn digits, SGD + step-decay LR, fastloss gradients")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(epochs=40, out=None, quiet=False):
    W, b, hist = train(epochs=epochs)
    if not quiet:
        for i in range(len(hist["epoch"])):
            print(f"epoch {hist['epoch'][i]:3d}  lr {hist['lr'][i]:.4f}  "
                  f"train {hist['train_loss'][i]:.4f}/{hist['train_acc'][i]:.3f}  "
                  f"test {hist['test_loss'][i]:.4f}/{hist['test_acc'][i]:.3f}")
    if out is not None:
        plot(hist, out)
        if not quiet:
            print(f"wrote {os.path.abspath(out)}")
    return hist


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--out", metavar="PATH", default=None,
                   help="also plot loss and accuracy per epoch to this PNG file (needs matplotlib)")
    a = p.parse_args()
    if a.out is not None:
        import matplotlib  # noqa: F401  (a missing one fails before training, not after it)
    main(a.epochs, a.out)
