"""Row-wise inputs in PyTorch's other shapes: (N, C, d1, ..., dk) (a row of C scores per
position) and unbatched (C,) rows, for the losses whose registry entry lists them
(``LossSpec.shapes``): against the float64 reference, PyTorch autograd and PyTorch's
own OpInfo sample inputs, in every layout, bit-identical for every thread count."""

from __future__ import annotations

import sys
import types
import unittest

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._data import make_class_vectors
from fastloss._registry import LOSSES, REGISTRY
from helpers import SINGLE_INPUT

RNG = np.random.default_rng(2024)
SPATIAL = [s for s in LOSSES if "spatial" in s.shapes]
UNBATCHED = [s for s in SINGLE_INPUT if "unbatched" in s.shapes]
SHAPES = [(3, 5, 4), (2, 4, 3, 5), (2, 3, 1, 4, 3), (1, 21, 9, 7), (2, 100, 3, 5)]


def _target(spec, x, ignore=True):
    rows = x.shape[:1] + x.shape[2:]
    t = RNG.integers(0, x.shape[1], rows)
    if ignore and "ignore_index" in spec.param_names:
        t.flat[:: 5] = -100
    return t


def _options(spec, c):
    """The spec's parameter cases with its per-class vectors filled in for c classes."""
    vectors = make_class_vectors(spec, c, seed=3)
    out = []
    for case in spec.cases()[:3]:
        case = dict(case)
        for a in spec.array_params:
            if a.required or len(out) == 1:
                case[a.name] = vectors[a.name]
        out.append(case)
    return out


def _layouts(x):
    """x in other layouts: name, array (same values)."""
    yield "C", x
    yield "F", np.asfortranarray(x)
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
    big[..., ::2] = x
    yield "strided", big[..., ::2]
    rev = np.ascontiguousarray(x[:, ::-1])
    yield "negative class stride", rev[:, ::-1]
    if x.ndim >= 4:  # two spatial axes swapped in memory: no (B, C, S) view, copied
        sw = np.ascontiguousarray(np.swapaxes(x, 2, 3))
        yield "swapped", np.swapaxes(sw, 2, 3)


def _check(got, want, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("spec", SPATIAL, ids=lambda s: s.name)
def test_spatial_matches_reference_in_every_layout(spec, shape):
    x0 = RNG.standard_normal(shape)
    t = _target(spec, x0)
    sw = RNG.random(shape[0]) + 0.1
    fn, ref = getattr(fastloss, spec.name), getattr(reference, spec.name)
    hess = {"return_hessian": True} if spec.hessian else {}
    for opts in _options(spec, shape[1]):
        if "ignore_index" in spec.param_names:
            t.flat[::5] = opts["ignore_index"]
        for reduction in spec.reductions:
            want = ref(x0, t, reduction=reduction, sample_weight=sw, **hess, **opts)
            for name, x in _layouts(x0):
                got = fn(x, t, reduction=reduction, sample_weight=sw, return_grad=True, **hess, **opts)
                assert np.shape(got[0]) == np.shape(want[0]), name
                _check(got[0], want[0])
                for g, w in zip(got[1:], want[1:]):
                    _check(g, w)
                    if name in ("C", "F"):  # the gradient comes back in the input's layout
                        assert all(a == b for a, b, n in zip(g.strides, x.strides, x.shape) if n > 1), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("spec", SPATIAL, ids=lambda s: s.name)
def test_spatial_float32_and_threads(spec, dtype):
    # 4 * 12 * 48 * 48 elements: past the size where the kernels run in parallel
    x = RNG.standard_normal((4, 12, 48, 48)).astype(dtype)
    t = _target(spec, x)
    opts = _options(spec, 12)[0]
    fn = getattr(fastloss, spec.name)
    runs = [fn(x, t, return_grad=True, n_threads=n, **opts) for n in (1, 2, 3)]
    for v, g in runs[1:]:
        assert v == runs[0][0]
        np.testing.assert_array_equal(g, runs[0][1])
    want = getattr(reference, spec.name)(x.astype(np.float64), t, **opts)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    _check(runs[0][0], want[0], rtol=rtol)
    np.testing.assert_allclose(runs[0][1], want[1], rtol=rtol, atol=rtol * np.abs(want[1]).max())


def test_spatial_probability_targets_and_accuracy():
    x = RNG.standard_normal((3, 6, 5, 4))
    p = RNG.random(x.shape)
    p /= p.sum(axis=1, keepdims=True)
    for _, xl in _layouts(x):
        for reduction in ("mean", "sum", "none"):
            got = fastloss.cross_entropy(xl, np.asfortranarray(p), reduction=reduction,
                                         label_smoothing=0.1, return_grad=True)
            want = reference.cross_entropy(x, p, reduction=reduction, label_smoothing=0.1)
            _check(got[0], want[0])
            _check(got[1], want[1])
    t = _target(REGISTRY["cross_entropy"], x)
    _, n = fastloss.cross_entropy(x, t, return_accuracy=True)
    valid = t != -100
    assert n == int(np.sum((np.argmax(x, axis=1) == t) & valid))



def test_spatial_out_buffers():
    x = np.asfortranarray(RNG.standard_normal((2, 5, 6, 3)))
    t = _target(REGISTRY["cross_entropy"], x)
    want = reference.cross_entropy(x, t, return_hessian=True)
    g, h = np.empty(x.shape), np.empty(x.shape)
    v, g2, h2 = fastloss.cross_entropy(x, t, out=(g, h))
    assert g2 is g and h2 is h
    _check(v, want[0])
    _check(g, want[1])
    _check(h, want[2])
    y = np.ascontiguousarray(x)
    v, g3 = fastloss.cross_entropy(y.copy(), t, return_grad=True)
    v2, g4 = fastloss.cross_entropy(y, t, out=y)  # out= the input itself
    assert g4 is y and v2 == v
    np.testing.assert_array_equal(y, g3)


@pytest.mark.parametrize("spec", UNBATCHED, ids=lambda s: s.name)
def test_unbatched_row_is_the_batch_of_one(spec):
    c = 6
    x = RNG.standard_normal(c)
    fn = getattr(fastloss, spec.name)
    opts = _options(spec, c)[0]
    if spec.target == "real":
        t = (RNG.random(c) > 0.5).astype(np.float64)
        t_batch = t[None]
    elif spec.target == "index_rows":
        t = np.array([2, 0, -1, 1, 3, 4][:c])
        t_batch = t[None]
    else:
        t = np.array(2)
        t_batch = t[None]
    for reduction in spec.reductions:
        v, g = fn(x, t, reduction=reduction, return_grad=True, **opts)
        vb, gb = fn(x[None], t_batch, reduction=reduction, return_grad=True, **opts)
        assert g.shape == x.shape
        np.testing.assert_array_equal(g, gb[0])
        if reduction == "none":
            assert np.shape(v) == ()
            assert v == vb[0]
        else:
            assert v == vb
        want = getattr(reference, spec.name)(x, t, reduction=reduction, **opts)
        _check(v, want[0])
        _check(g, want[1])


def test_scalar_multi_margin_input():
    for xv, yv in ((0.3, 0), (-2.0, 0)):
        v, g = fastloss.multi_margin_loss(np.array(xv), np.array(yv), return_grad=True)
        assert v == 0.0 and g.shape == () and g == 0.0  # one class: no other class's margin


try:
    import torch
except ImportError:  # the comparisons with PyTorch need it; they say so when skipped
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _torch_value_grad(fn, x, t, up=None, **kw):
    xt = torch.tensor(x, requires_grad=True)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    r = fn(xt, torch.as_tensor(t), **kw)
    (r * (torch.tensor(up) if up is not None else 1.0)).sum().backward()
    return r.detach().numpy(), xt.grad.numpy()


@needs_torch
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", [s.name for s in SPATIAL if s.torch])
def test_spatial_matches_pytorch_autograd(name, shape):
    import torch.nn.functional as F

    spec = next(s for s in SPATIAL if s.name == name)
    x = RNG.standard_normal(shape)
    if name == "nll_loss":
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    t = _target(spec, x)
    w = RNG.random(shape[1]) + 0.2
    extra = [{}, {"weight": w}] + ([{"weight": w, "label_smoothing": 0.2}] if name == "cross_entropy" else [])
    for kw in extra:
        for reduction in ("mean", "sum", "none"):
            up = RNG.standard_normal(shape[:1] + shape[2:]) if reduction == "none" else None
            tv, tg = _torch_value_grad(getattr(F, name), x, t, up, reduction=reduction, **kw)
            v, g = getattr(fastloss, name)(x, t, reduction=reduction, return_grad=True, **kw)
            _check(v, tv, rtol=1e-10, atol=1e-12)
            _check(g * (np.expand_dims(up, 1) if up is not None else 1.0), tg, rtol=1e-10, atol=1e-12)


def _op_db():
    """PyTorch's OpInfo database. Its module imports expecttest (a test dependency of
    PyTorch's own suite) only to subclass its TestCase; without it, a stand-in does."""
    try:
        import expecttest  # noqa: F401
    except ImportError:
        sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase)
    from torch.testing._internal.common_methods_invocations import op_db

    return op_db


@needs_torch
def test_pytorch_opinfo_samples():
    """Every sample input of torch's OpInfos for the losses fastloss shares is accepted
    and agrees with torch to 1e-10, except weights fastloss refuses with an error naming
    them: negative weights (fastloss's weights are non-negative)."""
    by_torch = {f"nn.functional.{s.torch}": s for s in LOSSES if s.kind == "rowwise" and s.torch}
    n_checked, refused = 0, []
    for op in _op_db():
        spec = by_torch.get(op.name)
        if spec is None:
            continue
        for sample in op.sample_inputs("cpu", torch.float64, requires_grad=True):
            x = sample.input.detach().numpy()
            args = [a.detach().numpy() if isinstance(a, torch.Tensor) else a for a in sample.args]
            kw = {k: v.detach().numpy() if isinstance(v, torch.Tensor) else v
                  for k, v in sample.kwargs.items()}
            w = kw.get("weight")
            if w is not None and (w < 0).any():
                with pytest.raises(ValueError, match="weight"):
                    getattr(fastloss, spec.name)(x, *args, **kw)
                refused.append(op.name)
                continue
            r = op.op(sample.input, *sample.args, **sample.kwargs)
            up = torch.randn(r.shape, dtype=torch.float64)
            (grad_in,) = torch.autograd.grad((r * up).sum(), sample.input)
            v, g = getattr(fastloss, spec.name)(x, *args, return_grad=True, **kw)
            _check(v, r.detach().numpy(), rtol=1e-10, atol=1e-12)
            u = up.numpy()
            if u.ndim:
                u = u.reshape(u.shape[:1] + (1,) + u.shape[1:]) if g.ndim > u.ndim else u
            _check(g * u, grad_in.numpy(), rtol=1e-10, atol=1e-12)
            n_checked += 1
    assert n_checked >= 60, n_checked
    print(f"{n_checked} samples agree, {len(refused)} refused (their weight)")


# ---- bad input ----

def test_bad_shapes_are_named():
    x = RNG.standard_normal((2, 4, 3, 5))
    with pytest.raises(ValueError, match=r"target of class indices must have shape \(2, 3, 5\)"):
        fastloss.cross_entropy(x, np.zeros((2, 5, 3), np.int64))
    with pytest.raises(ValueError, match="class axis"):
        fastloss.cross_entropy(np.zeros((2, 0, 3)), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"target\[1, 2, 4\] = 7 is not a class index"):
        t = np.zeros((2, 3, 5), np.int64)
        t[1, 2, 4] = 7
        fastloss.cross_entropy(x, t)
    with pytest.raises(ValueError, match="input must be 2-D"):
        fastloss.multi_margin_loss(x, np.zeros((2, 3, 5), np.int64))
    with pytest.raises(ValueError, match="sample_weight needs a batch"):
        fastloss.cross_entropy(x[0, :, 0, 0], np.array(1), sample_weight=np.ones(1))
    with pytest.raises(ValueError, match="0-d index"):
        fastloss.cross_entropy(x[0, :, 0, 0], np.array([1, 2]))
    out = np.zeros((2, 4, 5, 3))
    with pytest.raises(ValueError, match="out has shape"):
        fastloss.cross_entropy(x, np.zeros((2, 3, 5), np.int64), out=out)
    assert not out.any()


def test_spatial_through_dask():
    da = pytest.importorskip("dask.array")
    import fastloss.dask as fd

    x = RNG.standard_normal((9, 5, 4, 3))
    t = _target(REGISTRY["cross_entropy"], x)
    sw = RNG.random(9) + 0.1
    w = RNG.random(5) + 0.5
    for reduction in ("mean", "sum", "none"):
        v, g = fastloss.cross_entropy(x, t, weight=w, sample_weight=sw, reduction=reduction,
                                      return_grad=True)
        dv, dg = fd.cross_entropy(da.from_array(x, chunks=(4, 5, 4, 3)), da.from_array(t, chunks=(4, 4, 3)),
                                  weight=w, sample_weight=da.from_array(sw, chunks=4),
                                  reduction=reduction, return_grad=True)
        np.testing.assert_allclose(np.asarray(dv.compute()), v, rtol=1e-13)
        np.testing.assert_allclose(dg.compute(), g, rtol=1e-13, atol=1e-16)
    with pytest.raises(ValueError, match="batch axis"):
        fd.cross_entropy(da.from_array(x[0, :, 0, 0]), np.array(1))
