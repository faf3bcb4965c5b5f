"""A PyTorch MLP on scikit-learn's digits, trained with ``fastloss.torch.cross_entropy``.

The fastloss loss is a drop-in for ``torch.nn.functional.cross_entropy`` on CPU
tensors: its forward pass computes the loss, the gradient with respect to the
logits and the correct count in one fused call; autograd carries the gradient
into the network. One step is compared with PyTorch's own loss.

    python examples/torch_model.py

Needs torch and scikit-learn besides fastloss. A CPU build of torch is enough
(the default one from PyPI can be a multi-GB CUDA download):

    python -m pip install torch --index-url https://download.pytorch.org/whl/cpu
    python -m pip install scikit-learn     # or: -r requirements/examples.txt
"""

from __future__ import annotations

import os
import sys

import numpy as np

import fastloss

# How to install each optional dependency, by the name it is imported as.
INSTALL = {"torch": "torch --index-url https://download.pytorch.org/whl/cpu",
           "sklearn": "scikit-learn"}


def exit_for_missing(exc):
    """Run as a script, a missing optional dependency ends with one line (which one, how to
    install it) instead of a traceback; imported (as the tests do), the ImportError propagates."""
    name = (exc.name or "").partition(".")[0]
    if __name__ != "__main__" or name not in INSTALL:
        raise exc
    sys.exit(f"{os.path.basename(__file__)}: cannot import {name} ({exc}); "
             f"install it with: python -m pip install {INSTALL[name]}")


try:
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    import fastloss.torch as flt
except ImportError as exc:
    exit_for_missing(exc)


def main(epochs=15, quiet=False, seed=0):
    torch.manual_seed(seed)
    X, y = load_digits(return_X_y=True)
    X = torch.tensor((X - X.mean(0)) / (X.std(0) + 1e-6), dtype=torch.float32)
    y = torch.tensor(y)
    perm = torch.randperm(len(y))
    tr, te = perm[:1400], perm[1400:]
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.3)
    meter = fastloss.Meter()
    history = []
    for epoch in range(epochs):
        meter.reset()
        model.train()
        for idx in tr[torch.randperm(len(tr))].split(64):
            opt.zero_grad()
            loss, n_correct = flt.cross_entropy(model(X[idx]), y[idx], return_accuracy=True)
            loss.backward()
            opt.step()
            meter.update(loss.item(), len(idx), n_correct=n_correct, is_mean=True)
        sched.step()
        with torch.no_grad():
            test_loss, test_correct = flt.cross_entropy(model(X[te]), y[te], return_accuracy=True)
        history.append((meter.loss, meter.accuracy, test_loss.item(), test_correct / len(te)))
        if not quiet:
            print(f"epoch {epoch + 1:2d}  train {meter.loss:.4f}/{meter.accuracy:.3f}  "
                  f"test {history[-1][2]:.4f}/{history[-1][3]:.3f}")
    # the same gradient as PyTorch's own loss
    z = model(X[te]).detach().double().requires_grad_()
    flt.cross_entropy(z, y[te], label_smoothing=0.1).backward()
    z2 = z.detach().clone().requires_grad_()
    F.cross_entropy(z2, y[te], label_smoothing=0.1).backward()
    grad_diff = float((z.grad - z2.grad).abs().max())
    if not quiet:
        print(f"max |grad difference| against torch.nn.functional.cross_entropy: {grad_diff:.1e}")
    return {"history": np.array(history), "grad_diff": grad_diff}


if __name__ == "__main__":
    main()
