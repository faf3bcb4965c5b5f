"""The battery of the losses with several differentiable inputs (LossSpec.multi_input).

Every loss of that kind in the registry runs here, with every parameter case, reduction,
dtype and accepted shape: against fastloss.reference (float64 and float32), PyTorch
autograd (float64, value and every gradient), finite differences, thread counts, layouts,
``out=`` tuples, the torch and dask wrappers, PyTorch's OpInfo samples, and bad input.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._data import _draw, make_arrays
from helpers import MULTI_INPUT, RTOL

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")
RNG = np.random.default_rng(20261130)


def _ids(spec):
    return spec.name


def _rows(spec):
    return spec.mean_over == "rows"


def _shape_variants(spec):
    """(label, {argument: shape}) of every shape the loss takes: the first input's shapes,
    the shapes a reduced input may have, and a broadcast target."""
    if _rows(spec):
        out = [("batch", (9, 4))] + ([("unbatched", (4,))] if "unbatched" in spec.shapes else [])
        return [(label, {}, s) for label, s in out]
    base = (6, 5)
    out = [("same", {}, base), ("0-d", {}, ()), ("3-d", {}, (3, 2, 4))]
    for name in spec.reduced_inputs:
        out += [(f"{name}-no-last-axis", {name: base[:-1]}, base),
                (f"{name}-1-first", {name: (1,) + base[1:]}, base),
                (f"{name}-1-last", {name: base[:-1] + (1,)}, base),
                (f"{name}-0-d", {name: ()}, (5,))]
    if spec.target == "broadcast":
        out.append(("target-per-column", {"target": base[-1:]}, base))
        out.append(("target-scalar", {"target": ()}, base))
    return out


def _arrays(spec, shape, dtype=np.float64, seed=0, shapes=None):
    """The positional arrays of a call on ``shape``; those named in ``shapes`` (a reduced
    input, a broadcast target) drawn in their own shape."""
    arrays = make_arrays(spec, shape, dtype, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for k, s in (shapes or {}).items():
        i = spec.arrays.index(k)
        arrays[i] = np.asarray(_draw(spec.domains[i], s, rng)).astype(dtype)
    return arrays


def _shared(spec, arrays):
    """Whether an input is shared along an axis (its gradient for reduction "none" is
    then the sum of its per-element derivatives: PyTorch's with an upstream of ones)."""
    x_shape = np.shape(arrays[spec.arrays.index(spec.inputs[0])])
    return any(np.shape(arrays[spec.arrays.index(k)]) != x_shape for k in spec.reduced_inputs)


def _cases():
    out = []
    for spec in MULTI_INPUT:
        for params in spec.cases():
            for label, shapes, shape in _shape_variants(spec):
                for red in spec.reductions:
                    ident = f"{spec.name}-{','.join(f'{k}={v}' for k, v in params.items())}-{label}-{red}"
                    out.append(pytest.param(spec, params, shapes, shape, red, id=ident))
    return out


CASES = _cases()


def _check(got, want, rtol, atol=0.0):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    scale = np.max(np.abs(want), initial=0.0)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=max(atol, rtol * scale))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,shapes,shape,reduction", CASES)
def test_matches_reference(spec, params, shapes, shape, reduction, dtype):
    arrays = _arrays(spec, shape, dtype, shapes=shapes)
    value, grads = getattr(fastloss, spec.name)(*arrays, reduction=reduction, return_grad=True,
                                                **params)
    ref_value, ref_grads = getattr(reference, spec.name)(*arrays, reduction=reduction, **params)
    rtol = RTOL[np.dtype(dtype)]
    _check(value, ref_value, rtol)
    assert isinstance(grads, tuple) and len(grads) == len(spec.inputs)
    for name, g, r in zip(spec.inputs, grads, ref_grads):
        a = arrays[spec.arrays.index(name)]
        assert g.shape == np.shape(a) and g.dtype == np.dtype(dtype), name
        _check(g, r, rtol, atol=float(np.finfo(dtype).smallest_subnormal))
    if reduction == "none":
        assert value.dtype == np.dtype(dtype)
        assert value.shape == (np.shape(arrays[0])[:-1] if _rows(spec) else np.shape(arrays[0]))
    # the value alone: the same number without the gradients
    v = getattr(fastloss, spec.name)(*arrays, reduction=reduction, **params)
    np.testing.assert_array_equal(v, value)


def _torch_reference(spec, arrays, params, reduction, upstream_seed=0):
    """PyTorch's value and the gradients of sum(value * upstream) for every input."""
    ts = [torch.tensor(a, requires_grad=k in spec.inputs) for k, a in zip(spec.arrays, arrays)]
    r = getattr(F, spec.torch)(*ts, reduction=reduction, **params)
    up = torch.from_numpy(np.random.default_rng(upstream_seed).standard_normal(tuple(r.shape)))
    if reduction == "none" and _shared(spec, arrays):
        up = torch.ones_like(up)
    grads = torch.autograd.grad((r * up).sum(), [t for k, t in zip(spec.arrays, ts)
                                                 if k in spec.inputs])
    shared = reduction == "none" and _shared(spec, arrays)
    return r.detach().numpy(), [g.numpy() for g in grads], None if shared else up.numpy()


def _weighted(spec, grads, up):
    """fastloss's derivatives times PyTorch's upstream gradient (one per loss for
    reduction "none": per row for a loss of rows; None: ones)."""
    if up is None:
        return list(grads)
    return [g * (up[..., None] if _rows(spec) and up.ndim < g.ndim else up) for g in grads]


@needs_torch
@pytest.mark.parametrize("spec,params,shapes,shape,reduction", CASES)
def test_matches_pytorch_autograd(spec, params, shapes, shape, reduction):
    arrays = _arrays(spec, shape, shapes=shapes)
    tv, tgrads, up = _torch_reference(spec, arrays, params, reduction)
    v, g = getattr(fastloss, spec.name)(*arrays, reduction=reduction, return_grad=True, **params)
    _check(v, tv, 1e-10, 1e-12)
    for name, a, b in zip(spec.inputs, _weighted(spec, g, up), tgrads):
        assert a.shape == b.shape, name
        _check(a, b, 1e-10, 1e-12)


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_gradients_match_finite_differences(spec):
    for params in spec.cases():
        arrays = _arrays(spec, (5, 3) if _rows(spec) else (4, 3), seed=3)
        fn = getattr(fastloss, spec.name)
        _, grads = fn(*arrays, reduction="sum", return_grad=True, **params)
        for name, g in zip(spec.inputs, grads):
            i = spec.arrays.index(name)
            for j in range(arrays[i].size):
                if name in spec.nonnegative and arrays[i].flat[j] < params.get("eps", 0.0):
                    continue  # clamped at eps: the gradient is taken at eps, as PyTorch's
                h = 1e-6 * max(1.0, abs(arrays[i].flat[j]))
                plus = [a.copy() for a in arrays]
                minus = [a.copy() for a in arrays]
                plus[i].flat[j] += h
                minus[i].flat[j] -= h
                fd = (fn(*plus, reduction="sum", **params) - fn(*minus, reduction="sum", **params)) / (2 * h)
                assert abs(fd - g.flat[j]) <= 1e-5 * max(1.0, abs(fd)), (name, j, params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_bit_identical_across_thread_counts(spec, dtype):
    shape = (30_011, 7) if _rows(spec) else (70_001, 3)
    arrays = _arrays(spec, shape, dtype, seed=5)
    fn = getattr(fastloss, spec.name)
    for reduction in spec.reductions:
        first = None
        for nt in (1, 2, 3, 4):
            v, grads = fn(*arrays, reduction=reduction, return_grad=True, n_threads=nt)
            got = [np.asarray(v).tobytes()] + [g.tobytes() for g in grads]
            first = first or got
            assert got == first, (reduction, nt)


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_layouts_and_byte_order_give_the_same_answer(spec):
    arrays = _arrays(spec, (9, 4), seed=7)
    fn = getattr(fastloss, spec.name)
    want = fn(*arrays, reduction="none", return_grad=True)
    for make in (lambda a: np.asfortranarray(a), lambda a: a.astype(a.dtype.newbyteorder(">")),
                 lambda a: np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a,
                 lambda a: a[::-1].copy()[::-1]):
        v, grads = fn(*[make(a) for a in arrays], reduction="none", return_grad=True)
        np.testing.assert_array_equal(v, want[0])
        for g, w in zip(grads, want[1]):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_out_tuple_is_filled_and_returned(spec):
    for dtype in (np.float32, np.float64):
        arrays = _arrays(spec, (9, 4), dtype, seed=2)
        fn = getattr(fastloss, spec.name)
        want_v, want_g = fn(*arrays, return_grad=True)
        bufs = tuple(np.full_like(arrays[spec.arrays.index(k)], np.nan) for k in spec.inputs)
        v, grads = fn(*arrays, out=bufs)
        assert v == want_v and all(g is b for g, b in zip(grads, bufs))
        for g, w in zip(grads, want_g):
            np.testing.assert_array_equal(g, w)
        # a buffer that is an input itself: the input is read first (a copy)
        copies = [a.copy() for a in arrays]
        i = spec.arrays.index(spec.inputs[-1])
        alias = tuple(copies[i] if k == spec.inputs[-1] else np.empty_like(copies[spec.arrays.index(k)])
                      for k in spec.inputs)
        v2, grads2 = fn(*copies, out=alias)
        assert v2 == want_v
        for g, w in zip(grads2, want_g):
            np.testing.assert_array_equal(g, w)


def _untouched(spec, arrays, call, match, error=ValueError):
    """``call(out)`` raises ``error`` matching ``match``, and leaves every out buffer as it was."""
    bufs = tuple(np.full(np.shape(arrays[spec.arrays.index(k)]), 7.0) for k in spec.inputs)
    with pytest.raises(error, match=match):
        call(bufs)
    assert all((b == 7.0).all() for b in bufs)


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_bad_out_is_refused_untouched(spec):
    arrays = _arrays(spec, (5, 3))
    fn = getattr(fastloss, spec.name)
    with pytest.raises(TypeError, match=f"out must be a tuple of {len(spec.inputs)}"):
        fn(*arrays, out=np.empty_like(arrays[0]))
    with pytest.raises(TypeError, match=f"out must be a tuple of {len(spec.inputs)}"):
        fn(*arrays, out=(np.empty_like(arrays[0]),))
    good = [np.empty_like(arrays[spec.arrays.index(k)]) for k in spec.inputs]
    for i, k in enumerate(spec.inputs):
        for bad, err, what in ((np.empty((7, 2)), ValueError, "shape"),
                               (good[i].astype(np.float32), TypeError, "dtype"),
                               (np.empty((5, 6))[:, ::2], ValueError, "C-contiguous")):
            out = list(good)
            out[i] = bad
            keep = [o.copy() for o in out]
            with pytest.raises(err, match=rf"out\[{i}\].*{what}"):
                fn(*arrays, out=tuple(out))
            assert all(np.array_equal(o, c, equal_nan=True) for o, c in zip(out, keep))
    if len(good) > 1:
        with pytest.raises(ValueError, match="overlap"):
            fn(*arrays, out=(good[0],) * len(good))


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_bad_input_is_named_and_nothing_written(spec):
    fn = getattr(fastloss, spec.name)
    arrays = _arrays(spec, (5, 3))
    first = spec.inputs[0]
    for name in spec.inputs[1:]:
        i = spec.arrays.index(name)
        bad = list(arrays)
        bad[i] = np.ones((5, 4))  # other row length / shape
        _untouched(spec, arrays, lambda out: fn(*bad, out=out), name)
    if "target" in spec.arrays:
        i = spec.arrays.index("target")
        bad = list(arrays)
        bad[i] = np.ones((4, 3, 2))
        _untouched(spec, arrays, lambda out: fn(*bad, out=out), "target")
        bad[i] = np.array(["a"] * int(np.prod(np.shape(arrays[i])))).reshape(np.shape(arrays[i]))
        _untouched(spec, arrays, lambda out: fn(*bad, out=out), "target", TypeError)
    for name in spec.nonnegative:
        i = spec.arrays.index(name)
        bad = list(arrays)
        bad[i] = bad[i].copy()
        bad[i][1, 2] = -0.5
        _untouched(spec, arrays, lambda out: fn(*bad, out=out), rf"{name}\[1, 2\] = -0.5")
    half = list(arrays)
    half[0] = half[0].astype(np.float16)
    _untouched(spec, arrays, lambda out: fn(*half, out=out), f"{first} has dtype float16", TypeError)
    _untouched(spec, arrays, lambda out: fn(*arrays, out=out, reduction="avg"), "reduction")
    with pytest.raises(ValueError, match="return_hessian"):
        fn(*arrays, return_hessian=True)
    if _rows(spec):
        _untouched(spec, arrays, lambda out: fn(*[np.ones((2, 5, 3)) if k != "target" else a
                                                  for k, a in zip(spec.arrays, arrays)], out=out),
                   f"{first} must be 2-D")
    for p in spec.params:
        if p.type is float and (p.low is not None or p.high is not None):
            v = (p.low - 1.0) if p.low is not None else (p.high + 1.0)
            _untouched(spec, arrays, lambda out: fn(*arrays, out=out, **{p.name: v}), p.name)


def test_triplet_rows_of_other_lengths_are_named():
    a = RNG.standard_normal((4, 3))
    for bad in ("positive", "negative"):
        args = {"anchor": a, "positive": a + 1, "negative": a - 1, bad: RNG.standard_normal((4, 5))}
        with pytest.raises(ValueError, match=rf"{bad} has shape \(4, 5\), but anchor has shape \(4, 3\)"):
            fastloss.triplet_margin_loss(**args)


def test_gaussian_var_shapes_as_pytorch():
    x = RNG.standard_normal((4, 3, 5))
    t = RNG.standard_normal((4, 3, 5))
    for ok in [(4, 3, 5), (4, 3), (4, 3, 1), (4, 1, 5), (1, 3, 5)]:
        v, (gx, gv) = fastloss.gaussian_nll_loss(x, t, np.ones(ok), return_grad=True)
        assert gv.shape == ok
    for bad in [(4, 1, 1), (3, 5), (4, 3, 2), (5,), (1,)]:
        with pytest.raises(ValueError, match=rf"var has shape \({', '.join(map(str, bad))},?\)"):
            fastloss.gaussian_nll_loss(x, t, np.ones(bad))
    # a Python float var: one variance for every element, its gradient a 0-d array
    v, (gx, gv) = fastloss.gaussian_nll_loss(x, t, 0.5, return_grad=True)
    r, (rx, rv) = reference.gaussian_nll_loss(x, t, np.full(x.shape, 0.5))
    assert gv.shape == () and abs(gv - rv.sum()) <= 1e-12 * abs(rv.sum())
    # below eps: clamped, and the gradient taken at eps (torch's clamp under no_grad)
    v, (gx, gv) = fastloss.gaussian_nll_loss(np.array([1.0]), np.array([0.5]), np.array([1e-9]),
                                             reduction="sum", return_grad=True)
    assert v == pytest.approx(0.5 * (np.log(1e-6) + 0.25 / 1e-6))
    assert gv[0] == pytest.approx(0.5 * (1 / 1e-6 - 0.25 / 1e-12))


def test_empty_inputs():
    for spec in MULTI_INPUT:
        arrays = _arrays(spec, (0, 3))
        fn = getattr(fastloss, spec.name)
        v, grads = fn(*arrays, return_grad=True)
        assert np.isnan(v)
        assert fn(*arrays, reduction="sum") == 0.0
        assert all(g.size == 0 for g in grads)


# ---- the wrappers ----

@needs_torch
@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_torch_wrapper_differentiates_every_input(spec):
    import fastloss.torch as flt

    for label, shapes, shape in _shape_variants(spec):
        for red in spec.reductions:
            arrays = _arrays(spec, shape, shapes=shapes, seed=4)
            tv, tgrads, up = _torch_reference(spec, arrays, {}, red, upstream_seed=1)
            ts = [torch.tensor(a, requires_grad=k in spec.inputs) for k, a in zip(spec.arrays, arrays)]
            r = getattr(flt, spec.name)(*ts, reduction=red)
            (r * (torch.ones_like(r) if up is None else torch.from_numpy(up))).sum().backward()
            _check(r.detach().numpy(), tv, 1e-10, 1e-12)
            for g, t in zip(tgrads, [t for k, t in zip(spec.arrays, ts) if k in spec.inputs]):
                _check(t.grad.numpy(), g, 1e-10, 1e-12)
    target = [k for k in spec.arrays if k == "target"]
    if target:  # the target is not differentiated: a target that requires grad is an error
        arrays = _arrays(spec, (5, 3))
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        with pytest.raises(ValueError, match="target requires grad"):
            getattr(flt, spec.name)(*ts)


@pytest.mark.parametrize("spec", MULTI_INPUT, ids=_ids)
def test_dask_wrapper_matches_in_memory(spec):
    da = pytest.importorskip("dask.array")
    import dask
    import fastloss.dask as fd

    for label, shapes, shape in _shape_variants(spec):
        if shape == () or (len(shape) < 2 and _rows(spec)):
            continue
        arrays = _arrays(spec, shape, shapes=shapes, seed=6)
        lazy = [da.from_array(a, chunks=2) if np.ndim(a) else a for a in arrays]
        for red in spec.reductions:
            v, g = getattr(fastloss, spec.name)(*arrays, reduction=red, return_grad=True)
            dv, dg = dask.compute(*getattr(fd, spec.name)(*lazy, reduction=red, return_grad=True))
            np.testing.assert_allclose(np.asarray(dv), v, rtol=1e-13)
            for a, b in zip(dg, g):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ---- PyTorch's own sample inputs ----

@needs_torch
def test_pytorch_opinfo_samples():
    """Every sample of torch's OpInfos for these losses is accepted and agrees with
    torch autograd to 1e-10, the value and every input's gradient."""
    from test_shapes import _op_db

    by_torch = {f"nn.functional.{s.torch}": s for s in MULTI_INPUT if s.torch}
    checked = {name: 0 for name in by_torch}
    for op in _op_db():
        spec = by_torch.get(op.name)
        if spec is None:
            continue
        for sample in op.sample_inputs("cpu", torch.float64, requires_grad=True):
            tensors = [sample.input, *sample.args]
            arrays = [t.detach().numpy() if isinstance(t, torch.Tensor) else t for t in tensors]
            kw = dict(sample.kwargs)
            r = op.op(*tensors, **kw)
            # the inputs that are tensors requiring grad (a float var is neither)
            diff = {k: t for k, t in zip(spec.arrays, tensors) if k in spec.inputs
                    and isinstance(t, torch.Tensor) and t.requires_grad}
            up = torch.randn(r.shape, dtype=torch.float64)
            shared = kw.get("reduction", "mean") == "none" and _shared(spec, arrays)
            if shared:
                up = torch.ones_like(up)
            want = dict(zip(diff, torch.autograd.grad((r * up).sum(), list(diff.values()))))
            v, grads = getattr(fastloss, spec.name)(*arrays, return_grad=True, **kw)
            _check(v, r.detach().numpy(), 1e-10, 1e-12)
            for name, g in zip(spec.inputs, _weighted(spec, grads, None if shared else up.numpy())):
                if name in want:
                    _check(g, want[name].numpy(), 1e-10, 1e-12)
            checked[op.name] += 1
    assert all(n >= 6 for n in checked.values()), checked
    print(f"OpInfo samples that agree: {checked}")
