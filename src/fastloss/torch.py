"""fastloss losses as PyTorch autograd functions on CPU tensors.

``fastloss.torch.<loss>(input, target, ...)`` takes the arguments of
``fastloss.<loss>`` (tensors or arrays) and returns a tensor that autograd can
differentiate with respect to ``input``. The forward pass makes ONE fused
fastloss call that yields the value and the gradient; the backward pass only
multiplies that stored gradient by the incoming one (a scalar for "mean" and
"sum", an array of the value's shape for "none"). Tensors and arrays share
memory both ways (``Tensor.numpy()``, ``torch.from_numpy``): nothing is copied
for C-contiguous float32/float64 inputs.

Only ``input`` is differentiated: a target (or weight) tensor that requires
grad is an error, since its gradient is not computed. Tensors must be on the CPU.

Needs PyTorch: ``pip install fastloss[torch]``.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from ._api import FUNCTIONS
from ._registry import LOSSES, LossSpec

__all__ = sorted(FUNCTIONS) + ["FastlossFunction"]

_NOT_HERE = ("return_grad", "out")


def _cpu_array(name: str, loss: str, t: torch.Tensor, *, differentiable: bool) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(
            f"fastloss.torch.{loss}: {name} is on device '{t.device}'; fastloss computes on "
            f"the CPU: move it with {name}.cpu()"
        )
    if not differentiable and t.requires_grad:
        raise ValueError(
            f"fastloss.torch.{loss}: {name} requires grad, but fastloss only differentiates "
            f"with respect to input; pass {name}.detach() if no gradient is wanted for it"
        )
    t = t.detach()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    return t.numpy()  # shares memory with the tensor


class FastlossFunction(torch.autograd.Function):
    """The one autograd Function behind every loss of ``fastloss.torch``.

    ``apply(fn, input, kwargs, names, *tensors)``: ``fn`` is the fastloss loss,
    ``kwargs`` its non-tensor arguments and ``names`` the argument names of the
    other tensor arguments (target, sample_weight, ...).
    """

    @staticmethod
    def forward(ctx, fn, input, kwargs, names, *tensors):
        loss = fn.__name__
        x = _cpu_array("input", loss, input, differentiable=True)
        kw = dict(kwargs)
        for name, t in zip(names, tensors):
            kw[name] = _cpu_array(name, loss, t, differentiable=False)
        res = fn(x, **kw, return_grad=True)
        value, grad = res[:2]
        ctx.fastloss_grad = torch.from_numpy(grad)
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        else:
            value = torch.tensor(value, dtype=input.dtype)
        if len(res) > 2:  # return_accuracy=True: the correct count, not differentiable
            n_correct = torch.tensor(res[2], dtype=torch.int64)
            ctx.mark_non_differentiable(n_correct)
            return value, n_correct
        return value

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, *_):
        g = ctx.fastloss_grad  # kept: backward may run again with retain_graph=True
        if grad_output.dim():
            # reduction="none": d value[i] / d input[i, ...], one upstream factor per value element
            grad_output = grad_output.reshape(grad_output.shape + (1,) * (g.dim() - grad_output.dim()))
        # always a new tensor: the stored one must not become (and be accumulated into) input.grad
        grad_input = g * grad_output.to(g.dtype)
        return (None, grad_input, None, None) + (None,) * len(ctx.needs_input_grad[4:])


def _make(spec: LossSpec):
    fn = FUNCTIONS[spec.name]
    base = inspect.signature(fn)
    sig = base.replace(parameters=[p for n, p in base.parameters.items() if n not in _NOT_HERE])

    def loss(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"fastloss.torch.{spec.name}(): {e}") from None
        a = dict(bound.arguments)
        x = a.pop(spec.input_name)
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"fastloss.torch.{spec.name}: {spec.input_name} must be a torch.Tensor, "
                            f"got {type(x).__name__}")
        names = tuple(k for k, v in a.items() if isinstance(v, torch.Tensor))
        tensors = [a.pop(k) for k in names]
        if not spec.differentiable:  # a metric (accuracy): a plain tensor, no autograd
            kw = {n: _cpu_array(n, spec.name, t, differentiable=False) for n, t in zip(names, tensors)}
            value = fn(_cpu_array(spec.input_name, spec.name, x, differentiable=True), **a, **kw)
            return torch.from_numpy(value) if isinstance(value, np.ndarray) else torch.tensor(value)
        out = FastlossFunction.apply(fn, x, a, names, *tensors)
        if isinstance(out, tuple):  # (loss, n_correct as a Python int)
            return out[0], int(out[1])
        return out

    loss.__name__ = loss.__qualname__ = spec.name
    loss.__module__ = "fastloss.torch"
    loss.__signature__ = sig  # type: ignore[attr-defined]
    loss.__doc__ = (
        f"``fastloss.{spec.name}`` on CPU tensors, differentiable with respect to "
        f"``{spec.input_name}`` through autograd.\n\nArguments as ``fastloss.{spec.name}`` "
        "(without return_grad and out); tensors or arrays. Returns a tensor of the input's "
        "dtype: a scalar for \"mean\"/\"sum\", the per-element losses for \"none\"; with "
        "return_accuracy=True, the pair (loss, n_correct).\n\n"
        + (fn.__doc__ or "")
    )
    return loss


globals().update({spec.name: _make(spec) for spec in LOSSES})
