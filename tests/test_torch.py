"""fastloss.torch: autograd parity with PyTorch, gradcheck for every loss, errors."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss._data import data_arrays, required_kwargs
from fastloss._registry import LOSSES
from helpers import SINGLE_INPUT

try:
    import torch
    import torch.nn.functional as F

    import fastloss.torch as ft
except ImportError:  # every test is collected and skipped, so the summary can count them
    torch = F = ft = None
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch comparison: torch is not installed")

DIFF = [s for s in SINGLE_INPUT if s.differentiable]


def _tensors(spec, shape, dtype=None, seed=0):
    dtype = dtype or torch.float64
    arrays = data_arrays(spec, shape, np.float64, seed=seed)
    x = torch.tensor(arrays[0], dtype=dtype, requires_grad=True)
    others = [torch.tensor(a) if a.dtype.kind != "f" else torch.tensor(a, dtype=dtype)
              for a in arrays[1:]]
    kw = {k: torch.tensor(v, dtype=dtype) for k, v in required_kwargs(spec, shape, seed).items()}
    return x, others, kw


@pytest.mark.parametrize("spec,reduction", [pytest.param(s, r, id=f"{s.name}-{r}")
                                            for s in DIFF for r in s.reductions])
def test_gradcheck_every_loss(spec, reduction):
    x, others, kw = _tensors(spec, (4, 3), seed=1)
    fn = getattr(ft, spec.name)
    assert torch.autograd.gradcheck(lambda x: fn(x, *others, reduction=reduction, **kw), (x,),
                                    eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in DIFF if s.sample_weight])
def test_gradcheck_with_sample_weight_and_none_upstream(spec):
    x, others, kw = _tensors(spec, (5, 3), seed=2)
    w = torch.rand(x.shape[0], dtype=torch.float64) + 0.5
    fn = getattr(ft, spec.name)
    assert torch.autograd.gradcheck(lambda x: fn(x, *others, sample_weight=w, **kw), (x,))
    assert torch.autograd.gradcheck(
        lambda x: fn(x, *others, sample_weight=w, reduction="none", **kw), (x,))


def _model_parity(spec, fl_loss, torch_loss, steps=5):
    torch.manual_seed(0)
    x, others, kw = _tensors(spec, (16, 4), seed=3)
    feats = torch.randn(x.shape[0], 6, dtype=torch.float64)
    results = []
    for loss_fn in (fl_loss, torch_loss):
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(),
                                    torch.nn.Linear(8, x.shape[1])).double()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(steps):
            opt.zero_grad()
            out = model(feats)
            if spec.input_range is not None:
                out = torch.sigmoid(out)
            loss_fn(out, *others, **kw).backward()
            opt.step()
        results.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    return float((results[0] - results[1]).abs().max()), results


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in DIFF
                                  if s.torch and hasattr(F, s.torch)])
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")
def test_training_matches_pytorch_loss(spec):
    diff, (a, b) = _model_parity(spec, getattr(ft, spec.name), getattr(F, spec.torch))
    assert not torch.equal(a, a * 0)  # parameters moved
    assert diff <= 1e-10, diff


def test_reduction_none_takes_elementwise_upstream():
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    y = torch.randn(6, 4, dtype=torch.float64)
    up = torch.randn(6, 4, dtype=torch.float64)
    ft.huber_loss(x, y, reduction="none", delta=0.7).backward(up)
    x2 = x.detach().clone().requires_grad_()
    F.huber_loss(x2, y, reduction="none", delta=0.7).backward(up)
    assert torch.allclose(x.grad, x2.grad, rtol=1e-12, atol=0)
    # row-wise: one upstream value per row, broadcast over the row's classes
    z = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 5, (6,))
    upr = torch.randn(6, dtype=torch.float64)
    ft.cross_entropy(z, t, reduction="none").backward(upr)
    z2 = z.detach().clone().requires_grad_()
    F.cross_entropy(z2, t, reduction="none").backward(upr)
    assert torch.allclose(z.grad, z2.grad, rtol=1e-12, atol=1e-15)


def test_float32_and_zero_copy_forward():
    x = torch.randn(1000, dtype=torch.float32, requires_grad=True)
    y = torch.randn(1000, dtype=torch.float32)
    v = ft.mse_loss(x, y)
    assert v.dtype == torch.float32
    v.backward()
    v2, g2 = fastloss.mse_loss(x.detach().numpy(), y.numpy(), return_grad=True)
    assert v.item() == np.float32(v2)
    assert np.array_equal(x.grad.numpy(), g2)


def test_return_accuracy_gives_count():
    z = torch.randn(20, 4, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 4, (20,))
    loss, n_correct = ft.cross_entropy(z, t, return_accuracy=True)
    assert isinstance(n_correct, int)
    assert n_correct == int((z.argmax(1) == t).sum())
    loss.backward()
    assert z.grad is not None


def test_backward_twice_with_retain_graph():
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, dtype=torch.float64)
    v = ft.mse_loss(x, y)
    v.backward(retain_graph=True)
    g1 = x.grad.clone()
    v.backward(retain_graph=True)
    assert torch.allclose(x.grad, 2 * g1, rtol=1e-15)
    v.backward()  # the stored gradient was not accumulated into by the passes before
    assert torch.allclose(x.grad, 3 * g1, rtol=1e-15)
    # the same through a non-leaf, and with an upstream factor other than 1
    z = torch.randn(5, dtype=torch.float64, requires_grad=True)
    w = ft.mse_loss(z * 2.0, y)
    (3.0 * w).backward(retain_graph=True)
    w.backward()
    assert torch.allclose(z.grad, 4 * 2 * 2 * (2 * z.detach() - y) / 5, rtol=1e-14)


def test_second_derivative_is_refused_not_wrong():
    # fastloss computes no second derivative: with create_graph=True the gradient
    # must not silently differentiate as if the stored gradient were constant.
    x = torch.randn(6, dtype=torch.float64, requires_grad=True)
    y = torch.randn(6, dtype=torch.float64)
    w = torch.randn(6, dtype=torch.float64, requires_grad=True)
    v = ft.mse_loss(x * w, y)
    with pytest.raises(RuntimeError, match="mse_loss: no second derivative.*create_graph"):
        torch.autograd.grad(v, x, create_graph=True)
    (g,) = torch.autograd.grad(ft.mse_loss(x * w, y), x)  # without create_graph: right
    assert torch.allclose(g, 2 * (x * w - y) * w / 6, rtol=1e-14)


def test_errors():
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="target requires grad.*detach"):
        ft.mse_loss(x, y.clone().requires_grad_())
    with pytest.raises(ValueError, match=r"input is on device 'meta'.*\.cpu\(\)"):
        ft.mse_loss(torch.empty(4, 3, device="meta"), y)
    with pytest.raises(ValueError, match=r"target is on device 'meta'"):
        ft.mse_loss(x, torch.empty(4, 3, device="meta"))
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        ft.mse_loss(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="return_grad"):
        ft.mse_loss(x, y, return_grad=True)
    with pytest.raises(TypeError, match="float32 or float64"):
        ft.mse_loss(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64))


def test_torch_func_transforms_are_refused_with_advice():
    # fastloss.torch calls the C apply of autograd.Function directly (fastloss.torch._applier);
    # under a transform that would end in a torch INTERNAL ASSERT, so it is refused first.
    x = torch.randn(4, 3, dtype=torch.float64)
    y = torch.randn(4, 3, dtype=torch.float64)
    h, w = torch.randn(2, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    calls = [
        lambda: torch.func.grad(lambda a: ft.mse_loss(a, y))(x),
        lambda: torch.func.vmap(lambda a, b: ft.mse_loss(a, b))(x, y),
        lambda: torch.func.grad(lambda a: ft.gaussian_nll_loss(a, y, torch.ones(4, 3,
                                                               dtype=torch.float64)))(x),
        lambda: torch.func.grad(lambda a: ft.linear_cross_entropy(h, a, torch.tensor([1, 4])))(w),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match=r"torch\.func transforms.*loss\.backward\(\)"):
            call()
    # and outside a transform afterwards, the same call works and agrees with PyTorch
    xg = x.clone().requires_grad_()
    ft.mse_loss(xg, y).backward()
    assert torch.allclose(xg.grad, 2 * (x - y) / 12, rtol=1e-14)


def test_every_registered_loss_is_exposed():
    for spec in LOSSES:
        fn = getattr(ft, spec.name)
        assert fn.__module__ == "fastloss.torch"


def test_accuracy_metric_is_a_plain_tensor():
    z = torch.randn(10, 3, dtype=torch.float64)
    t = torch.randint(0, 3, (10,))
    a = ft.accuracy(z, t)
    assert float(a) == pytest.approx(fastloss.accuracy(z.numpy(), t.numpy()))
