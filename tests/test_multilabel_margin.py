"""multilabel_margin_loss: PyTorch's multi-label hinge loss, whose target rows list
class indices up to their first -1."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import reference

RNG = np.random.default_rng(31)


def _targets(n, c, rng=RNG, duplicates=False, most=None):
    t = rng.integers(-1, c, (n, c))
    for row in t:
        k = int(rng.integers(0, min(c, most or c) + 1))
        row[:k] = rng.integers(0, c, k) if duplicates else rng.permutation(c)[:k]
        if k < c:
            row[k] = -1
    return t


@pytest.mark.parametrize("shape", [(7, 5), (1, 1), (40, 33), (3, 4200)], ids=str)
def test_matches_reference(shape):
    x = RNG.standard_normal(shape)
    # (rows wider than 4096 classes find their targets by a scan, not the bitmap)
    t = _targets(*shape, duplicates=True, most=12)
    sw = RNG.random(shape[0]) + 0.1
    for reduction in ("mean", "sum", "none"):
        for kw in ({}, {"sample_weight": sw}):
            v, g, h = fastloss.multilabel_margin_loss(x, t, reduction=reduction,
                                                      return_hessian=True, **kw)
            rv, rg, rh = reference.multilabel_margin_loss(x, t, reduction=reduction,
                                                          return_hessian=True, **kw)
            np.testing.assert_allclose(v, rv, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-15)
            assert not h.any() and not rh.any()


def test_closed_form_and_edge_rows():
    x = np.array([[0.1, 0.2, 0.4, 0.8]])
    # PyTorch's documented example: targets 3 and 0, loss 0.85
    v = fastloss.multilabel_margin_loss(x, np.array([[3, 0, -1, 1]]))
    assert abs(v - 0.85) < 1e-15
    # no target (a leading -1): 0 and a zero gradient; every class a target: 0
    for t in ([[-1, 3, 0, 1]], [[0, 1, 2, 3]]):
        v, g = fastloss.multilabel_margin_loss(x, np.array(t), return_grad=True)
        assert v == 0.0 and not g.any()
    # a margin of exactly 0 is inactive (no loss, no gradient), as PyTorch's
    v, g = fastloss.multilabel_margin_loss(np.array([[1.0, 0.0]]), np.array([[0, -1]]),
                                           return_grad=True)
    assert v == 0.0 and not g.any()
    v, g = fastloss.multilabel_margin_loss(np.array([[np.nan, 0.0]]), np.array([[0, -1]]),
                                           return_grad=True)
    assert np.isnan(v) and np.isnan(g).all()


def test_float32_threads_and_out_aliasing():
    x = RNG.standard_normal((3000, 24)).astype(np.float32)
    t = _targets(3000, 24)
    runs = [fastloss.multilabel_margin_loss(x, t, return_grad=True, n_threads=n) for n in (1, 2, 3)]
    for v, g in runs[1:]:
        assert v == runs[0][0]
        np.testing.assert_array_equal(g, runs[0][1])
    rv, rg = reference.multilabel_margin_loss(x.astype(np.float64), t)
    np.testing.assert_allclose(runs[0][0], rv, rtol=1e-6)
    np.testing.assert_allclose(runs[0][1], rg, rtol=1e-6, atol=1e-6 * np.abs(rg).max())
    y = x.copy()
    v, g = fastloss.multilabel_margin_loss(y, t, out=y)  # the row is read again: copied first
    assert g is y and v == runs[0][0]
    np.testing.assert_array_equal(y, runs[0][1])


def test_bad_targets_are_named_and_out_untouched():
    x = RNG.standard_normal((3, 4))
    out = np.full_like(x, 5.0)
    with pytest.raises(ValueError, match=r"target\[1, 1\] = 4 is not a class index in \[0, 4\)"):
        fastloss.multilabel_margin_loss(x, np.array([[0, -1, 9, 9], [2, 4, -1, 0], [-1] * 4]), out=out)
    with pytest.raises(ValueError, match="target must have the input's shape"):
        fastloss.multilabel_margin_loss(x, np.array([0, 1, 2]), out=out)
    with pytest.raises(TypeError, match="integer class indices"):
        fastloss.multilabel_margin_loss(x, np.zeros((3, 4)), out=out)
    assert (out == 5.0).all()
    # entries after a row's first -1 are ignored, whatever they are
    t = np.array([[0, -1, 9, -7], [2, -1, 0, 0], [-1, 99, 1, 2]])
    v = fastloss.multilabel_margin_loss(x, t)
    assert v == fastloss.multilabel_margin_loss(x, np.where(np.arange(4) > np.array([[1], [1], [0]]), -1, t))


try:
    import torch
except ImportError:  # the comparison with PyTorch needs it; it says so when skipped
    torch = None


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("shape", [(7, 5), (20, 12), (6,)], ids=str)
def test_matches_pytorch_autograd(shape):
    x = RNG.standard_normal(shape)
    t = _targets(1, shape[0])[0] if len(shape) == 1 else _targets(*shape, duplicates=True)
    for reduction in ("mean", "sum", "none"):
        xt = torch.tensor(x, requires_grad=True)
        out = torch.nn.functional.multilabel_margin_loss(xt, torch.tensor(t), reduction=reduction)
        up = torch.randn(out.shape, dtype=torch.float64)
        (out * up).sum().backward()
        v, g = fastloss.multilabel_margin_loss(x, t, reduction=reduction, return_grad=True)
        np.testing.assert_allclose(v, out.detach().numpy(), rtol=1e-12, atol=1e-15)
        u = up.numpy()
        u = u[:, None] if u.ndim else u.item()
        np.testing.assert_allclose(g * u, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
