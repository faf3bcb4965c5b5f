"""fastloss.linear_cross_entropy: the fused linear layer + cross-entropy, against the
NumPy reference, PyTorch autograd and finite differences; its blocks, threads,
out= buffers and errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import fastloss
from fastloss import _linear, reference
from fastloss.testing import check_grad

pytest.importorskip("scipy")  # its BLAS does the products

_TORCH = importlib.util.find_spec("torch") is not None

OPTIONS = [
    {},
    {"label_smoothing": 0.2},
    {"ignore_index": 2},
    {"class_weight": "w"},
    {"class_weight": "w", "ignore_index": 2, "label_smoothing": 0.1},
    {"sample_weight": "s"},
    {"sample_weight": "s", "class_weight": "w", "label_smoothing": 0.3},
]


def make(n=37, h=11, v=29, dtype=np.float64, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h)).astype(dtype)
    w = (rng.standard_normal((v, h)) / np.sqrt(h)).astype(dtype)
    b = rng.standard_normal(v).astype(dtype) if bias else None
    t = rng.integers(0, v, n)
    t[::5] = 2  # rows that ignore_index=2 skips
    return x, w, t, b


def resolve(opts, v, n, seed=1):
    rng = np.random.default_rng(seed)
    out = dict(opts)
    if opts.get("class_weight") == "w":
        out["class_weight"] = rng.uniform(0.2, 2.0, v)
    if opts.get("sample_weight") == "s":
        out["sample_weight"] = rng.uniform(0.0, 3.0, n)
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("chunk_size", [None, 1, 8])
def test_matches_reference_float64(reduction, opts, bias, chunk_size):
    x, w, t, b = make(bias=bias)
    kw = resolve(opts, w.shape[0], x.shape[0])
    value, grads = fastloss.linear_cross_entropy(x, w, t, b, reduction=reduction, return_grad=True,
                                                 chunk_size=chunk_size, **kw)
    ref_value, ref_grads = reference.linear_cross_entropy(x, w, t, b, reduction=reduction, **kw)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12, atol=1e-14)
    assert len(grads) == len(ref_grads) == (3 if bias else 2)
    for g, r in zip(grads, ref_grads):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)
    # value only: the same value
    v_only = fastloss.linear_cross_entropy(x, w, t, b, reduction=reduction, chunk_size=chunk_size, **kw)
    np.testing.assert_array_equal(v_only, value)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_float32_within_stated_bounds(reduction):
    # float32 products (BLAS) and float32 logits: values within 1e-5 relative, gradients
    # within 1e-4 of their largest entry, of the float64 reference on the float32 data.
    x, w, t, b = make(n=200, h=64, v=300, dtype=np.float32)
    value, grads = fastloss.linear_cross_entropy(x, w, t, b, reduction=reduction, return_grad=True,
                                                 label_smoothing=0.1, chunk_size=64)
    ref_value, ref_grads = reference.linear_cross_entropy(x, w, t, b, reduction=reduction,
                                                          label_smoothing=0.1)
    assert abs(value - ref_value) <= 1e-5 * abs(ref_value)
    for g, r in zip(grads, ref_grads):
        assert g.dtype == np.float32
        assert np.max(np.abs(g - r)) <= 1e-4 * np.max(np.abs(r))


@pytest.mark.parametrize("wrt", [0, 1, 3])
def test_gradients_by_finite_differences(wrt):
    x, w, t, b = make(n=6, h=4, v=7)
    names = {0: 0, 1: 1, 3: 2}

    def fn(x, w, t, b):
        value, grads = fastloss.linear_cross_entropy(x, w, t, b, return_grad=True,
                                                     label_smoothing=0.1, chunk_size=4)
        return value, grads[names[wrt]]

    check_grad(fn, x, w, t, b, wrt=wrt, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("chunk_size", [128, 64])  # d_input in panels of rows / of features
@pytest.mark.parametrize("blas_threads", [1, 2])
def test_bit_identical_for_every_n_threads(blas_threads, chunk_size):
    # n_threads runs fastloss's loops; the BLAS keeps its own thread count (held fixed
    # here), which may change the products' last bits (OpenBLAS 1 vs 2 threads does).
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, w, t, b = make(n=300, h=96, v=70_000 // 96, dtype=np.float32, seed=3)
    assert _linear._d_input_split(chunk_size, 96)[0] == ("m" if chunk_size == 128 else "n")
    with threadpoolctl.threadpool_limits(limits=blas_threads, user_api="blas"):
        runs = [fastloss.linear_cross_entropy(x, w, t, b, return_grad=True, n_threads=k,
                                              chunk_size=chunk_size, label_smoothing=0.1)
                for k in (1, 2, 3)]
    for value, grads in runs[1:]:
        assert value == runs[0][0]
        for g, g0 in zip(grads, runs[0][1]):
            assert g.tobytes() == g0.tobytes()


def test_out_buffers_are_overwritten_and_returned():
    x, w, t, b = make()
    bufs = tuple(np.full(a.shape, 7.0) for a in (x, w, b))
    value, grads = fastloss.linear_cross_entropy(x, w, t, b, out=bufs, chunk_size=5)
    assert all(g is o for g, o in zip(grads, bufs))
    ref = fastloss.linear_cross_entropy(x, w, t, b, return_grad=True, chunk_size=5)
    assert value == ref[0]
    for g, r in zip(grads, ref[1]):
        np.testing.assert_array_equal(g, r)


def test_accuracy_and_empty_input():
    x, w, t, b = make(v=5)
    z = x @ w.T + b
    value, n_correct = fastloss.linear_cross_entropy(x, w, t, b, return_accuracy=True, ignore_index=2)
    assert n_correct == fastloss.cross_entropy(z, t, return_accuracy=True, ignore_index=2)[1]
    e = np.empty((0, x.shape[1]))
    v, (dx, dw, db) = fastloss.linear_cross_entropy(e, w, np.empty(0, int), b, return_grad=True)
    assert np.isnan(v) and dx.shape == (0, x.shape[1])
    assert not dw.any() and not db.any()
    assert fastloss.linear_cross_entropy(e, w, np.empty(0, int), reduction="sum") == 0.0


def test_all_rows_ignored_gives_nan_and_zero_gradients():
    x, w, _, b = make()
    t = np.full(x.shape[0], -100)
    v, grads = fastloss.linear_cross_entropy(x, w, t, b, return_grad=True)
    assert np.isnan(v) and not any(g.any() for g in grads)


@pytest.mark.parametrize("case, exc, match", [
    ("mismatched H", ValueError, r"weight has shape \(29, 10\): its rows must have the input's 11"),
    ("target out of range", ValueError, r"target\[3\] = 29 is not a class index in \[0, 29\)"),
    ("target shape", ValueError, r"target of class indices must have shape \(37,\)"),
    ("weight not contiguous", ValueError, r"weight must be a C-contiguous.*ascontiguousarray"),
    ("weight dtype", TypeError, r"weight has dtype float32, input float64"),
    ("bias shape", ValueError, r"bias must have shape \(29,\)"),
    ("out length", TypeError, r"out must be a tuple of 3 arrays \(the gradients of input, weight, bias\)"),
    ("out shape", ValueError, r"out\[1\] \(d_weight\) has shape \(29, 12\), but weight has shape \(29, 11\)"),
    ("out dtype", TypeError, r"out\[0\] \(d_input\) has dtype float32"),
    ("out overlaps weight", ValueError, r"out\[1\] \(d_weight\) overlaps weight"),
    ("empty vocabulary", ValueError, r"weight has no rows"),
    ("chunk_size", ValueError, r"chunk_size must be None or a positive int, got 0"),
])
def test_bad_input_is_named_and_out_untouched(case, exc, match):
    x, w, t, b = make()
    bufs = [np.full(a.shape, 7.0) for a in (x, w, b)]
    kw = {}
    if case == "mismatched H":
        w = w[:, :10].copy()
    elif case == "target out of range":
        t = t.copy()
        t[3] = 29
    elif case == "target shape":
        t = t[:, None]
    elif case == "weight not contiguous":
        w = np.asfortranarray(w)
    elif case == "weight dtype":
        w = w.astype(np.float32)
    elif case == "bias shape":
        b = b[:5]
    elif case == "out length":
        bufs = bufs[:2]
    elif case == "out shape":
        bufs[1] = np.full((29, 12), 7.0)
    elif case == "out dtype":
        bufs[0] = bufs[0].astype(np.float32)
    elif case == "out overlaps weight":
        bufs[1] = w
    elif case == "empty vocabulary":
        w, b = w[:0], b[:0]
    elif case == "chunk_size":
        kw["chunk_size"] = 0
    before = [buf.copy() for buf in bufs]
    with pytest.raises(exc, match=match):
        fastloss.linear_cross_entropy(x, w, t, b, out=tuple(bufs), **kw)
    for buf, old in zip(bufs, before):
        np.testing.assert_array_equal(buf, old)


# PyTorch has no row weights (sample_weight is checked against the reference above).
TORCH_OPTIONS = [o for o in OPTIONS if "sample_weight" not in o]


@pytest.mark.skipif(not _TORCH, reason="PyTorch comparison: torch is not installed")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", TORCH_OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_matches_pytorch_autograd(reduction, opts, bias):
    import torch
    import torch.nn.functional as F

    import fastloss.torch as flt

    x, w, t, b = make(bias=bias)
    kw = resolve(opts, w.shape[0], x.shape[0])
    cw = kw.pop("class_weight", None)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, w) + ((b,) if bias else ())]
    ours = [a.detach().clone().requires_grad_() for a in tensors]
    tt = torch.tensor(t)
    ref = F.cross_entropy(F.linear(*tensors), tt, reduction=reduction,
                          weight=None if cw is None else torch.tensor(cw), **kw)
    got = flt.linear_cross_entropy(ours[0], ours[1], tt, ours[2] if bias else None,
                                   reduction=reduction, class_weight=cw, chunk_size=8, **kw)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-14)
    # "none": an upstream gradient of both signs (the backward's recompute path)
    up = torch.linspace(-1.0, 2.0, x.shape[0], dtype=torch.float64) if reduction == "none" else None
    (ref * up).sum().backward() if up is not None else ref.backward()
    (got * up).sum().backward() if up is not None else (2.0 * got).backward()
    scale = 1.0 if up is not None else 2.0
    for a, o in zip(tensors, ours):
        torch.testing.assert_close(o.grad, scale * a.grad, rtol=1e-10, atol=1e-13)
