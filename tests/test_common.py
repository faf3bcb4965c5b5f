"""The generic battery: every registered loss, every option, against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastloss import _launch
from fastloss.testing import check_grad

from helpers import (DTYPES, arrays_for, as64, assert_close, evaluate, loss_params, nan_site,
                     none_shape, public, ref, resolve, specs, strided, torch_equivalent, weights_for)


@pytest.mark.parametrize("layout", ["contiguous", "strided", "2d"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted",
                         loss_params(reductions=True, weights=True)
                         + loss_params(reductions=True, weights=True, differentiable=False))
def test_matches_reference(spec, params, reduction, weighted, dtype, layout):
    shape = {"contiguous": (37,), "strided": (11, 7), "2d": (9, 6)}[layout]
    arrays = arrays_for(spec, shape, dtype)
    if layout == "strided":  # every other column of a larger array: not contiguous
        arrays = strided(arrays)
        assert not arrays[0].flags.c_contiguous
    w = weights_for(spec, arrays[0].shape[0]) if weighted else None
    kw = dict(resolve(spec, params, arrays[0]), reduction=reduction)
    if w is not None:
        kw["sample_weight"] = w
    value, grad = evaluate(spec, *arrays, **kw)
    ref_value, ref_grad = ref(spec)(*as64(arrays), **kw)
    assert_close(value, grad, ref_value, ref_grad, dtype)
    assert grad is None or grad.shape == arrays[0].shape
    if reduction == "none":
        assert value.shape == none_shape(spec, arrays[0]) and value.dtype == np.dtype(dtype)
    else:
        assert type(value) is float
        # return_grad=False gives the same value, bit for bit
        assert public(spec)(*arrays, **kw) == value


@pytest.mark.parametrize("spec,params,reduction", [p for p in loss_params(reductions=True)
                                                   if p.values[0].differentiable])
def test_gradient_matches_finite_differences(spec, params, reduction):
    arrays = arrays_for(spec, (4, 3), np.float64, seed=3)
    # the user-facing checker; for "none" it checks d value[i] / d input[i]
    # (the gradient of the sum of the per-element values)
    check_grad(public(spec), *arrays, return_grad=True, reduction=reduction,
               **resolve(spec, params, arrays[0]), step=1e-6, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spec,params,reduction", loss_params(reductions=True, torch_only=True))
def test_matches_pytorch(spec, params, reduction):
    torch = pytest.importorskip("torch")
    arrays = arrays_for(spec, (8, 5), np.float64, seed=4)
    params = resolve(spec, params, arrays[0])
    tarrays, tparams = torch_equivalent(spec, arrays, params)
    xt = torch.tensor(arrays[0], requires_grad=True)
    others = [torch.tensor(a) for a in tarrays[1:]]
    tparams = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in tparams.items()}
    out = getattr(torch.nn.functional, spec.torch)(xt, *others, reduction=reduction, **tparams)
    out.backward(torch.ones_like(out))
    value, grad = public(spec)(*arrays, return_grad=True, reduction=reduction, **params)
    assert_close(value, grad, out.detach().numpy(), xt.grad.numpy(), np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec", specs())
def test_hypothesis_against_reference(spec, dtype):
    finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)

    @settings(max_examples=25, deadline=None)
    @given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9),
           data=st.data())
    def check(shape, data):
        arrays = arrays_for(spec, shape, dtype)
        # keep the loss's input domain (e.g. positive rates); perturb the scale
        scale = data.draw(st.floats(0.01, 100.0))
        arrays[0] = (arrays[0] * scale).astype(dtype) if spec.input_domain == "normal" else arrays[0]
        if spec.target == "real" and spec.target_domain == "normal":
            arrays[1] = data.draw(hnp.arrays(dtype, arrays[1].shape, elements=finite))
        kw = {}
        n_rows = arrays[0].shape[0]
        if spec.sample_weight and data.draw(st.booleans()) and n_rows > 0:
            kw["sample_weight"] = data.draw(
                hnp.arrays(np.float64, (n_rows,), elements=st.floats(0.1, 10.0)))
        reduction = data.draw(st.sampled_from(spec.reductions))
        value, grad = evaluate(spec, *arrays, reduction=reduction, **kw)
        ref_value, ref_grad = ref(spec)(*as64(arrays), reduction=reduction, **kw)
        if reduction == "mean" and arrays[0].size == 0:
            assert np.isnan(value)
        else:
            assert_close(value, grad, ref_value, ref_grad, dtype)

    check()


def _check_thread_counts(spec, params, reduction, weighted, dtype, n_rows, threads, C=3):
    # Rows of C (3 by default), a ragged last chunk; every thread count gives the same bits.
    arrays = arrays_for(spec, (n_rows, C), dtype, seed=5)
    kw = dict(resolve(spec, params, arrays[0]), reduction=reduction)
    if weighted:
        kw["sample_weight"] = weights_for(spec, n_rows)
    results = [public(spec)(*arrays, return_grad=True, n_threads=t, **kw) for t in threads]
    v1, g1 = results[0]
    for v, g in results[1:]:
        if reduction == "none":
            assert np.array_equal(v, v1, equal_nan=True)
        else:
            assert v == v1 or (np.isnan(v) and np.isnan(v1))
        assert np.array_equal(g, g1, equal_nan=True)


# Just above the size where the kernels go parallel (9 chunks of 4096 elements: 2, 3
# and 7 threads split them differently), for every loss and option.
_JUST_PARALLEL_ROWS = _launch.PARALLEL_MIN // 3 + 11


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted",
                         loss_params(reductions=True, weights=True, all_params=False))
def test_bit_identical_across_thread_counts(spec, params, reduction, weighted, dtype):
    _check_thread_counts(spec, params, reduction, weighted, dtype, _JUST_PARALLEL_ROWS,
                         (1, 2, 3, 7))


# The full matrix on 25 chunks, uneven per thread count, for one loss of each kernel
# shape (float32; float64 runs the same loops).
@pytest.mark.parametrize("dtype", [np.float32], ids=["f32"])
@pytest.mark.parametrize("spec,params,reduction,weighted", [
    p for p in loss_params(reductions=True, weights=True, all_params=False)
    if p.values[0].name in ("huber_loss", "binary_cross_entropy_with_logits", "cross_entropy")
    and p.values[2] != "sum"])  # (sum runs the same loops as mean)
def test_bit_identical_across_thread_counts_many_chunks(spec, params, reduction, weighted, dtype):
    _check_thread_counts(spec, params, reduction, weighted, dtype, 100_003, (1, 2, 3, 4, 5, 7, 8))


# The pointwise losses with a lower parallel_min (transcendental math) go parallel from
# there: (3067, 3) is 9201 elements, 3 chunks, the last ragged.
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted", [
    p for p in loss_params(reductions=True, weights=True, all_params=False)
    if p.values[0].parallel_min and p.values[2] != "sum"])
def test_bit_identical_across_thread_counts_parallel_min(spec, params, reduction, weighted,
                                                         dtype):
    assert spec.kind == "pointwise" and spec.parallel_min < 3067 * 3 < _launch.PARALLEL_MIN
    _check_thread_counts(spec, params, reduction, weighted, dtype, 3067, (1, 2, 3))


# The row-wise kernels go parallel from ROWWISE_PARALLEL_MIN logits: just above it,
# (83, 100) is 6 chunks of 16 rows (rows_per_chunk), the last ragged.
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted", [
    p for p in loss_params(reductions=True, weights=True, all_params=False)
    if p.values[0].kind == "rowwise"])
def test_bit_identical_across_thread_counts_rowwise_threshold(spec, params, reduction, weighted,
                                                              dtype):
    n_rows = _launch.ROWWISE_PARALLEL_MIN // 100 + 1
    assert _launch.ROWWISE_PARALLEL_MIN < n_rows * 100 < _launch.PARALLEL_MIN
    _check_thread_counts(spec, params, reduction, weighted, dtype, n_rows, (1, 2, 4), C=100)


@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_out_is_filled_and_returned(spec):
    arrays = arrays_for(spec, (6, 4), np.float32)
    out = np.full_like(arrays[0], np.nan)
    value, grad = public(spec)(*arrays, out=out)
    assert grad is out
    ref_value, ref_grad = ref(spec)(*as64(arrays))
    assert_close(value, out, ref_value, ref_grad, np.float32)


@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_out_may_alias_input(spec):
    arrays = arrays_for(spec, (50_001,), np.float64)
    ref_value, ref_grad = ref(spec)(*as64(arrays))
    x = arrays[0].copy()
    value, grad = public(spec)(x, *arrays[1:], out=x)
    assert grad is x
    assert_close(value, grad, ref_value, ref_grad, np.float64)


@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_out_overlapping_input_with_offset(spec):
    """An out buffer that overlaps the input shifted by one element is handled."""
    arrays = arrays_for(spec, (1000,), np.float64)
    shape = arrays[0].shape
    buf = np.empty(arrays[0].size + 1)
    buf[1:] = arrays[0].ravel()
    x, out = buf[1:].reshape(shape), buf[:-1].reshape(shape)
    ref_value, ref_grad = ref(spec)(*as64([arrays[0]] + arrays[1:]))
    value, grad = public(spec)(x, *arrays[1:], out=out)
    assert_close(value, grad, ref_value, ref_grad, np.float64)


@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_nan_propagates_to_value_and_its_gradient_element_only(spec):
    """... or, for a rowwise loss, its gradient row only."""
    arrays = arrays_for(spec, (40_000,), np.float64)
    site, region = nan_site(spec, arrays, 1234)
    arrays[0][site] = np.nan
    value, grad = public(spec)(*arrays, return_grad=True, reduction=spec.default_reduction)
    assert np.isnan(value)
    assert np.isnan(grad[region]).any()
    others = np.ones(grad.shape, bool)
    others[region] = False
    assert np.isfinite(grad[others]).all()
    none, _ = public(spec)(*arrays, return_grad=True, reduction="none")
    mask = np.ones(none.shape, bool)
    mask[region[:none.ndim]] = False
    assert np.isnan(none[region[:none.ndim]]) and np.isfinite(none[mask]).all()


@pytest.mark.parametrize("spec", specs())
def test_empty_input(spec):
    arrays = arrays_for(spec, (0,), np.float32)
    value, grad = evaluate(spec, *arrays, reduction="sum")
    assert value == 0.0
    assert grad is None or (grad.shape == arrays[0].shape and grad.dtype == np.float32)
    if "mean" in spec.reductions:
        assert np.isnan(public(spec)(*arrays, reduction="mean"))
    none = public(spec)(*arrays, reduction="none")
    assert none.shape == none_shape(spec, arrays[0]) == (0,)


@pytest.mark.slow
@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_float32_value_accurate_at_ten_million(spec):
    arrays = arrays_for(spec, (10**7,), np.float32, seed=7)
    value, _ = public(spec)(*arrays, out=np.empty_like(arrays[0]))
    ref_value, _ = ref(spec)(*as64(arrays))
    assert abs(value - ref_value) <= 1e-6 * abs(ref_value)
