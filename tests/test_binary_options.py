"""PyTorch's broadcastable ``weight`` and Keras's binary ``label_smoothing`` for the
losses whose registry entry has them (ArrayParam.broadcast, the label_smoothing Param):
against PyTorch autograd, the float64 reference, in float32, with sample weights,
through fastloss.dask, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._registry import LOSSES, REGISTRY
from helpers import smooth_binary

RNG = np.random.default_rng(77)
BROADCAST = [s for s in LOSSES if any(a.broadcast for a in s.array_params)]
SMOOTHING = [s for s in LOSSES if "label_smoothing" in s.param_names and s.kind == "pointwise"]


def _data(spec, shape, dtype=np.float64):
    x = RNG.standard_normal(shape)
    if spec.input_range is not None:  # probabilities
        x = 1 / (1 + np.exp(-x))
    y = (RNG.random(shape) > 0.5).astype(np.float64)
    y[..., 0] = RNG.random(shape[:-1])  # some soft targets too
    return x.astype(dtype), y.astype(dtype)


WEIGHT_SHAPES = [(6, 4), (6, 1), (4,), (1, 4), (), (1,)]


@pytest.mark.parametrize("wshape", WEIGHT_SHAPES, ids=str)
@pytest.mark.parametrize("spec", BROADCAST, ids=lambda s: s.name)
def test_weight_broadcasts_as_reference(spec, wshape):
    x, y = _data(spec, (6, 4))
    w = RNG.random(wshape) + 0.1
    sw = RNG.random(6) + 0.5
    fn, ref = getattr(fastloss, spec.name), getattr(reference, spec.name)
    for reduction in spec.reductions:
        for kw in ({}, {"sample_weight": sw}):
            v, g, h = fn(x, y, weight=w, reduction=reduction, return_hessian=True, **kw)
            rv, rg, rh = ref(x, y, weight=w, reduction=reduction, return_hessian=True, **kw)
            np.testing.assert_allclose(v, rv, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(h, rh, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", SMOOTHING, ids=lambda s: s.name)
def test_label_smoothing_is_the_smoothed_target(spec):
    for dtype in (np.float32, np.float64):
        x, y = _data(spec, (50, 3), dtype)
        fn = getattr(fastloss, spec.name)
        for s in (0.0, 0.1, 1.0):
            ys = smooth_binary(y.astype(np.float64), s).astype(dtype)
            v, g = fn(x, y, label_smoothing=s, return_grad=True)
            v0, g0 = fn(x, ys, return_grad=True)
            assert v == v0
            np.testing.assert_array_equal(g, g0)
            rv, rg = getattr(reference, spec.name)(x, y, label_smoothing=s)
            tol = 1e-5 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(v, rv, rtol=tol)
            np.testing.assert_allclose(g, rg, rtol=tol, atol=tol * np.abs(rg).max())


def test_label_smoothing_threads_and_accuracy():
    x, y = _data(REGISTRY["binary_cross_entropy_with_logits"], (40_000, 2), np.float32)
    y = np.round(y)
    runs = [fastloss.binary_cross_entropy_with_logits(x, y, label_smoothing=0.1, return_grad=True,
                                                      return_accuracy=True, n_threads=n)
            for n in (1, 2, 3)]
    for v, g, n in runs[1:]:
        assert v == runs[0][0] and n == runs[0][2]
        np.testing.assert_array_equal(g, runs[0][1])
    # accuracy counts against the targets as given (smoothing keeps their side of 1/2)
    assert runs[0][2] == int(np.sum((x > 0) == (y > 0.5)))



try:
    import torch
except ImportError:  # the comparisons with PyTorch need it; they say so when skipped
    torch = None


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("wshape", WEIGHT_SHAPES, ids=str)
@pytest.mark.parametrize("spec", BROADCAST, ids=lambda s: s.name)
def test_weight_broadcasts_as_pytorch(spec, wshape):
    x, y = _data(spec, (6, 4))
    w = RNG.random(wshape) + 0.1
    tf = getattr(torch.nn.functional, spec.torch)
    for reduction in spec.reductions:
        xt = torch.tensor(x, requires_grad=True)
        out = tf(xt, torch.tensor(y), weight=torch.tensor(w), reduction=reduction)
        up = torch.randn(out.shape, dtype=torch.float64)
        (out * up).sum().backward()
        v, g = getattr(fastloss, spec.name)(x, y, weight=w, reduction=reduction, return_grad=True)
        np.testing.assert_allclose(v, out.detach().numpy(), rtol=1e-10, atol=1e-14)
        u = up.numpy()
        if spec.kind == "rowwise" and u.ndim:  # one value per row
            u = u[:, None]
        np.testing.assert_allclose(g * (u if u.ndim else u.item()), xt.grad.numpy(), rtol=1e-10,
                                   atol=1e-14)


@pytest.mark.parametrize("spec", BROADCAST, ids=lambda s: s.name)
def test_weight_through_dask(spec):
    da = pytest.importorskip("dask.array")
    import fastloss.dask as fd

    x, y = _data(spec, (90, 4))
    kw = {"label_smoothing": 0.1} if "label_smoothing" in spec.param_names else {}
    for w in (RNG.random((90, 1)), RNG.random((90, 4)), RNG.random(4)):
        for reduction in ("mean", "none"):
            v, g = getattr(fastloss, spec.name)(x, y, weight=w, reduction=reduction,
                                                return_grad=True, **kw)
            dv, dg = getattr(fd, spec.name)(da.from_array(x, chunks=25), da.from_array(y, chunks=25),
                                            weight=w, reduction=reduction, return_grad=True, **kw)
            np.testing.assert_allclose(np.asarray(dv.compute()), v, rtol=1e-13)
            np.testing.assert_array_equal(dg.compute(), g)


@pytest.mark.parametrize("spec", BROADCAST, ids=lambda s: s.name)
def test_bad_weight_and_smoothing_are_named(spec):
    x, y = _data(spec, (6, 4))
    fn = getattr(fastloss, spec.name)
    out = np.full_like(x, 7.0)
    with pytest.raises(ValueError, match=r"weight of shape \(5, 1\) does not broadcast"):
        fn(x, y, weight=np.ones((5, 1)), out=out)
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        fn(x, y, weight=-np.ones((6, 1)), out=out)
    if "label_smoothing" in spec.param_names:
        with pytest.raises(ValueError, match="label_smoothing"):
            fn(x, y, label_smoothing=1.5, out=out)
    assert (out == 7.0).all()
