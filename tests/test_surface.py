"""What a newcomer meets first: submodules reachable from the package, binary
accuracy from float targets, and errors that say how to fix the call in the
caller's own library."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import fastloss
from fastloss import reference

_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not _TORCH, reason="torch is not installed")


def test_submodules_are_attributes_and_import_nothing_heavy_eagerly():
    code = ("import sys, fastloss\n"
            "assert fastloss.reference.mse_loss([1.0, 2.0], [0.0, 0.0])[0] == 2.5\n"
            "assert fastloss.testing.check_grad.__name__ == 'check_grad'\n"
            "assert 'torch' not in sys.modules and 'dask' not in sys.modules, 'eager import'\n"
            "assert {'dask', 'reference', 'testing', 'torch'} <= set(dir(fastloss))\n"
            "try:\n    fastloss.no_such_thing\nexcept AttributeError as e:\n"
            "    assert 'no_such_thing' in str(e)\nelse:\n    raise SystemExit('no error')\n")
    if importlib.util.find_spec("dask") is not None:
        code += "assert fastloss.dask.mse_loss.__module__ == 'fastloss.dask'\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


# ---- binary accuracy from the float 0/1 targets of binary_cross_entropy_with_logits ----

@pytest.mark.parametrize("shape", [(7,), (7, 1)])
def test_accuracy_takes_float_binary_targets(shape):
    x = np.array([2.0, -1.0, 0.5, -3.0, 0.0, 4.0, -0.25]).reshape(shape)
    y = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).reshape(shape)
    expected = reference.accuracy(x.reshape(-1), y.reshape(-1).astype(np.int64), reduction="sum")[0]
    assert fastloss.accuracy(x, y, reduction="sum") == expected == 4.0
    assert fastloss.accuracy(x, y.astype(np.float32)) == expected / 7


def test_accuracy_rejects_soft_binary_targets_with_advice():
    with pytest.raises(ValueError, match=r"target\[1\] = 0.3: binary targets must be 0 or 1.*> 0.5"):
        fastloss.accuracy(np.zeros(3), np.array([1.0, 0.3, 0.0]))


def test_accuracy_of_one_hot_float_rows_says_argmax():
    with pytest.raises(TypeError, match=r"target.argmax\(axis=1\)"):
        fastloss.accuracy(np.zeros((4, 3)), np.eye(3)[[0, 1, 2, 0]])


def _sign_count(x, y):
    x, y = x.reshape(-1), y.reshape(-1)
    return int(np.sum(np.where(y > 0.5, x > 0, x <= 0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [5, 100_003])
def test_bce_with_logits_counts_correct_signs(dtype, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    x[::7] = 0.0
    x[1] = np.nan
    y = rng.integers(0, 2, n).astype(dtype)
    y[2::11] = 0.5  # a soft target at 0.5 counts as negative
    want = _sign_count(x, y)
    assert want < n - 1  # NaN counts as wrong
    for threads in (1, 2):
        v, n_correct = fastloss.binary_cross_entropy_with_logits(
            x, y, return_accuracy=True, n_threads=threads)
        assert n_correct == want and type(n_correct) is int
    v0, g0 = fastloss.binary_cross_entropy_with_logits(x, y, return_grad=True)
    v1, g1, c1 = fastloss.binary_cross_entropy_with_logits(x, y, return_grad=True, return_accuracy=True)
    assert c1 == want and g0.tobytes() == g1.tobytes()
    assert np.array_equal(v0, v1, equal_nan=True)  # (NaN: x holds one)
    # out= the input itself: counted before the gradient overwrites the logits
    xx = x.copy()
    _, g2, c2 = fastloss.binary_cross_entropy_with_logits(xx, y, out=xx, return_accuracy=True)
    assert g2 is xx and c2 == want and g2.tobytes() == g0.tobytes()


def test_bce_with_logits_accuracy_flag_is_checked():
    with pytest.raises(TypeError, match="return_accuracy must be a bool"):
        fastloss.binary_cross_entropy_with_logits(np.zeros(2), np.zeros(2), return_accuracy=1)


def test_bce_with_logits_accuracy_through_meter_and_dask():
    x = np.array([2.0, -1.0, 0.5, -3.0, 1.5, -0.5])
    y = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    meter = fastloss.Meter()
    for xb, yb in zip(np.split(x, 2), np.split(y, 2)):
        s, n_correct = fastloss.binary_cross_entropy_with_logits(xb, yb, reduction="sum",
                                                                 return_accuracy=True)
        meter.update(s, yb.size, n_correct=n_correct)
    assert meter.accuracy == _sign_count(x, y) / 6
    assert np.isclose(meter.loss, fastloss.binary_cross_entropy_with_logits(x, y))
    da = pytest.importorskip("dask.array")
    import fastloss.dask as fld

    value, n_correct = fld.binary_cross_entropy_with_logits(
        da.from_array(x, chunks=2), da.from_array(y, chunks=2), return_accuracy=True)
    assert int(n_correct.compute()) == _sign_count(x, y)


@needs_torch
def test_bce_with_logits_accuracy_in_torch():
    import torch

    import fastloss.torch as flt

    x = torch.tensor([2.0, -1.0, 0.5, -3.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    loss, n_correct = flt.binary_cross_entropy_with_logits(x, y, return_accuracy=True)
    loss.backward()
    xt = x.detach().clone().requires_grad_()
    torch.nn.functional.binary_cross_entropy_with_logits(xt, y).backward()
    assert n_correct == 3
    assert torch.allclose(x.grad, xt.grad, rtol=1e-12, atol=0)


# ---- dtype and label errors: named argument, and the fix in the caller's library ----

@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_, np.float16, np.longdouble])
def test_non_float_predictions_say_how_to_convert(dtype):
    to = "np.float64" if np.dtype(dtype).itemsize > 8 else "np.float32"
    with pytest.raises(TypeError, match=rf"input has dtype .*convert it with input\.astype\({to}\)"):
        fastloss.mse_loss(np.zeros(3, dtype), np.zeros(3))


def test_one_hot_integer_labels_say_argmax():
    x = np.zeros((4, 3))
    onehot = np.eye(3, dtype=np.int64)[[0, 1, 2, 0]]
    with pytest.raises(ValueError, match=r"one-hot rows.*target\.argmax\(axis=1\).*probabilities"):
        fastloss.cross_entropy(x, onehot)
    with pytest.raises(ValueError, match=r"target\.argmax\(axis=1\)$"):
        fastloss.nll_loss(x, onehot)  # takes no probabilities
    with pytest.raises(TypeError, match=r"target\.astype\(np\.int64\).*input's shape \(4, 3\)"):
        fastloss.cross_entropy(x, np.array([0.0, 1.0, 2.0, 0.0]))


@needs_torch
def test_torch_tensors_the_numpy_api_cannot_take_are_named():
    import torch

    t = np.array([0, 1])
    with pytest.raises(TypeError, match=r"^input is a torch tensor of dtype torch.bfloat16.*input\.float\(\)"):
        fastloss.cross_entropy(torch.zeros(2, 3, dtype=torch.bfloat16), t)
    # meta stands in for a GPU: any device but the CPU
    with pytest.raises(TypeError, match=r"^input is a torch tensor on device 'meta'.*input\.cpu\(\)"):
        fastloss.cross_entropy(torch.zeros(2, 3, device="meta"), t)
    with pytest.raises(TypeError, match=r"^input is a torch tensor that requires grad.*detach\(\)"):
        fastloss.cross_entropy(torch.zeros(2, 3, requires_grad=True), t)
    with pytest.raises(TypeError, match=r"^target is a torch tensor of dtype torch.bfloat16"):
        fastloss.mse_loss(np.zeros(2), torch.zeros(2, dtype=torch.bfloat16))
    # a CPU tensor goes through __array__, as before
    assert fastloss.mse_loss(torch.ones(3, dtype=torch.float64), torch.zeros(3)) == 1.0


@needs_torch
def test_fastloss_torch_advice_is_in_torch_terms():
    import torch

    import fastloss.torch as flt

    t = torch.tensor([0, 1, 2, 0])
    for dtype in ("bfloat16", "float16"):  # (float16: fastloss's own check, in torch terms)
        with pytest.raises(TypeError, match=rf"cross_entropy: input has dtype (torch\.)?{dtype}.*input\.float\(\)"):
            flt.cross_entropy(torch.zeros(4, 3, dtype=getattr(torch, dtype)), t)
    with pytest.raises(TypeError, match=r"target has dtype torch.bfloat16.*target\.float\(\)"):
        flt.mse_loss(torch.zeros(3), torch.zeros(3, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match=r"convert it with input\.float\(\)$"):
        flt.mse_loss(torch.zeros(3, dtype=torch.int64), torch.zeros(3))
    onehot = torch.eye(3, dtype=torch.int64)[t]
    with pytest.raises(ValueError, match=r"target\.argmax\(dim=1\) \(or target\.to\(input\.dtype\)"):
        flt.cross_entropy(torch.zeros(4, 3), onehot)
    with pytest.raises(TypeError, match=r"target\.long\(\)"):
        flt.cross_entropy(torch.zeros(4, 3), t.double())
    with pytest.raises(TypeError, match=r"accuracy: .*target\.argmax\(dim=1\)"):
        flt.accuracy(torch.zeros(4, 3), torch.eye(3)[t])


def test_every_dtype_error_names_a_conversion():
    x = np.zeros(3)
    cases = [
        (lambda: fastloss.mse_loss(x, np.zeros(3, complex)), r"target\.astype\(input\.dtype\)"),
        (lambda: fastloss.mse_loss(x, x, sample_weight=np.zeros(3, complex)),
         r"sample_weight\.astype\(np\.float64\)"),
        (lambda: fastloss.cross_entropy(np.zeros((3, 2)), np.zeros(3, int), weight=np.array(["a", "b"])),
         r"weight\.astype\(np\.float64\)"),
        (lambda: fastloss.mse_loss(x, x, out=np.zeros(3, np.float32)), r"np\.empty_like\(input\)"),
    ]
    for call, advice in cases:
        with pytest.raises(TypeError, match=advice):
            call()
