"""fastloss losses as PyTorch autograd functions on CPU tensors.

``fastloss.torch.<loss>(input, target, ...)`` takes the arguments of
``fastloss.<loss>`` (tensors or arrays) and returns a tensor that autograd can
differentiate with respect to ``input``. The forward pass makes ONE fused
fastloss call that yields the value and the gradient; the backward pass only
multiplies that stored gradient by the incoming one (a scalar for "mean" and
"sum", an array of the value's shape for "none"). Tensors and arrays share
memory both ways (``Tensor.numpy()``, ``torch.from_numpy``): nothing is copied
for C-contiguous float32/float64 inputs.

Only ``input`` is differentiated (for a loss of several inputs, as
``triplet_margin_loss``, every one of them): a target (or weight) tensor that
requires grad is an error, since its gradient is not computed. Tensors must be
on the CPU.

Needs PyTorch. A CPU build is enough (PyPI's default one can be a multi-GB
CUDA download)::

    python -m pip install torch --index-url https://download.pytorch.org/whl/cpu

From a source checkout of fastloss, ``python -m pip install ".[torch]"``
installs fastloss and, unless one is there already, torch.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import torch

from . import _docs, _linear
from ._api import CALLS, FUNCTIONS, dict_function
from ._registry import LOSSES, REGISTRY, LossSpec
from ._validation import expand_shared, shared_axes

__all__ = sorted(FUNCTIONS) + ["FastlossFunction", "FastlossMultiFunction", "linear_cross_entropy"]

_NOT_HERE = ("return_grad", "return_hessian", "out")
_INPUT_NAME = {spec.name: spec.input_name for spec in LOSSES}


# NumPy idioms in fastloss's error advice, and what a torch user writes instead.
_TORCH_IDIOMS = [
    (re.compile(r"\.astype\(np\.float32\)"), ".float()"),
    (re.compile(r"\.astype\(np\.float64\)"), ".double()"),
    (re.compile(r"\.astype\(np\.int64\)"), ".long()"),
    (re.compile(r"\.astype\(input\.dtype\)"), ".to(input.dtype)"),
    (re.compile(r"\.argmax\(axis=1\)"), ".argmax(dim=1)"),
    (re.compile(r"np\.ascontiguousarray\((\w+)\)"), r"\1.contiguous()"),
    (re.compile(r"np\.empty_like\(input\)"), "torch.empty_like(input)"),
]


def _in_torch_terms(loss: str, e: Exception) -> Exception:
    """``e`` (a validation error of the NumPy API) with its advice in torch's terms."""
    msg = str(e)
    for pattern, torch_idiom in _TORCH_IDIOMS:
        msg = pattern.sub(torch_idiom, msg)
    return type(e)(f"fastloss.torch.{loss}: {msg}")


def _cpu_array(name: str, loss: str, t: torch.Tensor, *, differentiable: bool) -> np.ndarray:
    if t.is_cpu and (differentiable or not t.requires_grad):
        try:
            # Shares memory; raises for bfloat16, a conjugate or a negative view (handled
            # below). detach only where needed: it costs 0.4 us of a ~10 us call.
            return (t.detach() if t.requires_grad else t).numpy()
        except (RuntimeError, TypeError):
            pass
    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16 (other dtypes: fastloss's checks)
        raise TypeError(f"fastloss.torch.{loss}: {name} has dtype {t.dtype}; fastloss computes "
                        f"in float32 or float64: pass {name}.float()")
    if not t.is_cpu:
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


def _forward_outputs(ctx, res, dtype):
    """What a forward returns from fastloss's ``(value, grad[, n_correct])``: the value
    as a tensor, and the correct count (return_accuracy=True) as a non-differentiable one."""
    value = res[0]
    if type(value) is np.ndarray:
        value = torch.from_numpy(value)
    else:
        value = torch.scalar_tensor(value, dtype=dtype)
    if len(res) > 2:
        n_correct = torch.tensor(res[2], dtype=torch.int64)
        ctx.mark_non_differentiable(n_correct)
        return value, n_correct
    return value


def _applier(function: type[torch.autograd.Function]):
    """``function.apply`` without ``torch.autograd.Function.apply``'s Python layer.

    Outside functorch transforms that layer only unwraps dead functorch wrappers
    (generically: ~0.9 us) before the C ``apply``; at (32, 10) logits it cost 1.5 of
    the 10 us of a ``cross_entropy`` forward. This does the same for the tensors
    alone. Under a transform the C ``apply`` would fail on an internal assert, and
    ``function.apply``'s error asks for a ``setup_context``: both useless to a user,
    so it is refused here with what to do instead. Private torch names: where one
    is missing, ``function.apply`` itself.
    """
    try:
        c_apply = super(torch.autograd.Function, function).apply
        active = torch._C._are_functorch_transforms_active
        unwrap = torch._C._functorch.unwrap_if_dead
    except AttributeError:  # pragma: no cover - a torch without them
        return function.apply
    tensor = torch.Tensor

    def apply(*args):
        if active():
            raise RuntimeError(
                "fastloss.torch losses do not work under torch.func transforms (vmap, grad, "
                "jacrev, functional_call's transforms, ...): their gradient comes from "
                "fastloss's fused kernel, not from traceable torch operations; use "
                "loss.backward() or torch.autograd.grad(loss, input), or torch.nn.functional "
                "inside the transform")
        return c_apply(*[unwrap(a) if isinstance(a, tensor) else a for a in args])

    return apply


class FastlossFunction(torch.autograd.Function):
    """The one autograd Function behind every loss of ``fastloss.torch``.

    ``apply(loss, input, kwargs, names, *tensors)``: ``loss`` is the loss's name,
    ``kwargs`` its non-tensor arguments and ``names`` the argument names of the
    other tensor arguments (target, sample_weight, ...).
    """

    @staticmethod
    def forward(ctx, loss, input, kwargs, names, *tensors):
        kwargs[_INPUT_NAME[loss]] = _cpu_array("input", loss, input, differentiable=True)
        for name, t in zip(names, tensors):
            kwargs[name] = _cpu_array(name, loss, t, differentiable=False)
        kwargs["return_grad"] = True
        kwargs["out"] = None
        try:
            res = CALLS[loss](kwargs)
        except (TypeError, ValueError) as e:
            raise _in_torch_terms(loss, e) from None
        ctx.fastloss_grad = torch.from_numpy(res[1])
        ctx.fastloss_name = loss
        ctx.fastloss_nones = (None,) * len(tensors)
        return _forward_outputs(ctx, res, input.dtype)

    @staticmethod
    def backward(ctx, grad_output, *_):
        if torch.is_grad_enabled():
            # create_graph=True records this backward pass to differentiate it again, but
            # fastloss computes no second derivative: the stored gradient would enter that
            # graph as a constant and give a wrong answer without an error (once_differentiable
            # does not catch it when grad_output needs no grad).
            raise RuntimeError(
                f"fastloss.torch.{ctx.fastloss_name}: no second derivative; backward with "
                "create_graph=True is not supported (use torch.nn.functional for that)")
        g = ctx.fastloss_grad  # kept: backward may run again with retain_graph=True
        if grad_output.dim():
            # reduction="none": d value[i] / d input[i, ...], one upstream factor per value
            # element; a row-wise loss's values lack the class axis 1 of its input
            if grad_output.dim() < g.dim():
                grad_output = grad_output.unsqueeze(1)
        elif grad_output.item() == 1.0:
            # loss.backward(): the stored gradient itself. ctx keeps a reference, so
            # AccumulateGrad copies it into input.grad instead of taking it over (and
            # never adds into it): a second backward (retain_graph) still finds it intact.
            return (None, g, None, None) + ctx.fastloss_nones
        if grad_output.dtype != g.dtype:
            grad_output = grad_output.to(g.dtype)
        return (None, g * grad_output, None, None) + ctx.fastloss_nones


class FastlossMultiFunction(torch.autograd.Function):
    """The autograd Function of the losses with several differentiable inputs.

    ``apply(loss, kwargs, names, *tensors)``: ``kwargs`` holds the non-tensor
    arguments, ``names`` the argument names of ``tensors``. Every input tensor gets
    its gradient from the one forward call. For reduction="none" a reduced input
    (gaussian_nll_loss's shared var) goes in broadcast to the first input's shape, so
    that backward can weigh each element's derivative before summing it back.
    """

    @staticmethod
    def forward(ctx, loss, kwargs, names, *tensors):
        spec = REGISTRY[loss]
        for name, t in zip(names, tensors):
            kwargs[name] = _cpu_array(name, loss, t, differentiable=name in spec.inputs)
        first = spec.inputs[0]
        shared = {}
        if kwargs["reduction"] == "none":
            x_shape = np.shape(kwargs[first])
            for name in spec.reduced_inputs:
                v = np.asarray(kwargs[name])
                try:
                    axes = shared_axes(v.shape, x_shape, name)
                except ValueError as e:
                    raise _in_torch_terms(loss, e) from None
                if axes:
                    shared[name] = (axes, v.shape)
                    kwargs[name] = expand_shared(v, x_shape, axes)
        kwargs["return_grad"] = True
        kwargs["out"] = None
        try:
            value, grads = CALLS[loss](kwargs)
        except (TypeError, ValueError) as e:
            raise _in_torch_terms(loss, e) from None
        ctx.fastloss_grads = {k: torch.from_numpy(g) for k, g in zip(spec.inputs, grads)}
        ctx.fastloss_names = names
        ctx.fastloss_shared = shared
        ctx.fastloss_name = loss
        if type(value) is np.ndarray:
            return torch.from_numpy(value)
        return torch.scalar_tensor(value, dtype=ctx.fastloss_grads[first].dtype)

    @staticmethod
    def backward(ctx, grad_output):
        if torch.is_grad_enabled():
            raise RuntimeError(
                f"fastloss.torch.{ctx.fastloss_name}: no second derivative; backward with "
                "create_graph=True is not supported (use torch.nn.functional for that)")
        out = [None, None, None]
        for name in ctx.fastloss_names:
            g = ctx.fastloss_grads.get(name)
            if g is not None:
                up = grad_output.to(g.dtype)
                if up.dim() and up.dim() < g.dim():  # "none" of a loss of rows
                    up = up.unsqueeze(-1)
                g = g * up
                if name in ctx.fastloss_shared:
                    axes, shape = ctx.fastloss_shared[name]
                    g = g.sum(dim=axes).reshape(shape)
            out.append(g)
        return tuple(out)


_apply_single = _applier(FastlossFunction)
_apply_multi = _applier(FastlossMultiFunction)


def _multi_call(spec: LossSpec, a: dict):
    first = spec.inputs[0]
    if not isinstance(a[first], torch.Tensor):
        raise TypeError(f"fastloss.torch.{spec.name}: {first} must be a torch.Tensor, "
                        f"got {type(a[first]).__name__}")
    names = tuple(k for k in spec.arrays if isinstance(a[k], torch.Tensor))
    tensors = [a.pop(k) for k in names]
    return _apply_multi(spec.name, a, names, *tensors)


def _call(spec: LossSpec, fn, array_names: tuple[str, ...], a: dict):
    x = a.pop(spec.input_name)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"fastloss.torch.{spec.name}: {spec.input_name} must be a torch.Tensor, "
                        f"got {type(x).__name__}")
    names = []
    tensors = []
    for k in array_names:
        if isinstance(a[k], torch.Tensor):
            names.append(k)
            tensors.append(a.pop(k))
    if not spec.differentiable:  # a metric (accuracy): a plain tensor, no autograd
        kw = {n: _cpu_array(n, spec.name, t, differentiable=False) for n, t in zip(names, tensors)}
        try:
            value = fn(_cpu_array(spec.input_name, spec.name, x, differentiable=True), **a, **kw)
        except (TypeError, ValueError) as e:
            raise _in_torch_terms(spec.name, e) from None
        return torch.from_numpy(value) if isinstance(value, np.ndarray) else torch.tensor(value)
    out = _apply_single(spec.name, x, a, names, *tensors)
    if type(out) is tuple:  # (loss, n_correct as a Python int)
        return out[0], int(out[1])
    return out


def _make(spec: LossSpec):
    fn = FUNCTIONS[spec.name]
    base = inspect.signature(fn)
    sig = base.replace(parameters=[p for n, p in base.parameters.items() if n not in _NOT_HERE])
    # The arguments that may be tensors: the target and the array parameters.
    arrays = tuple(n for n in ("target", *spec.array_param_names, "sample_weight")
                   if n in sig.parameters)
    if spec.multi_input:
        loss = dict_function(spec.name, sig, lambda a: _multi_call(spec, a), "fastloss.torch")
    else:
        loss = dict_function(spec.name, sig, lambda a: _call(spec, fn, arrays, a), "fastloss.torch")
    loss.__signature__ = sig  # type: ignore[attr-defined]
    loss.__doc__ = _docs.torch_docstring(spec)
    return loss


globals().update({spec.name: _make(spec) for spec in LOSSES})


class _LinearCrossEntropy(torch.autograd.Function):
    """``fastloss.linear_cross_entropy`` in autograd: forward makes the fused call
    (value and every gradient); backward scales the stored gradients."""

    @staticmethod
    def forward(ctx, input, weight, bias, target, kwargs):
        arrays = [_cpu_array(n, "linear_cross_entropy", t, differentiable=True)
                  for n, t in (("input", input), ("weight", weight))]
        b = None if bias is None else _cpu_array("bias", "linear_cross_entropy", bias,
                                                 differentiable=True)
        t = _cpu_array("target", "linear_cross_entropy", target, differentiable=False)
        try:
            res = _linear.linear_cross_entropy(*arrays, t, b, return_grad=True, **kwargs)
        except (TypeError, ValueError) as e:
            raise _in_torch_terms("linear_cross_entropy", e) from None
        ctx.fastloss_grads = tuple(torch.from_numpy(g) for g in res[1])
        ctx.fastloss_args = (arrays, t, b, kwargs)
        return _forward_outputs(ctx, res, input.dtype)

    @staticmethod
    def backward(ctx, grad_output, *_):
        if torch.is_grad_enabled():
            raise RuntimeError("fastloss.torch.linear_cross_entropy: no second derivative; "
                               "backward with create_graph=True is not supported")
        if grad_output.dim() == 0:
            grads = ctx.fastloss_grads
            if grad_output.item() != 1.0:
                grads = tuple(g * grad_output.to(g.dtype) for g in grads)
        else:
            grads = _linear_none_backward(ctx.fastloss_args, grad_output)
        d_bias = grads[2] if len(grads) > 2 else None
        return grads[0], grads[1], d_bias, None, None


_apply_linear = _applier(_LinearCrossEntropy)


def _linear_none_backward(args, grad_output):
    """reduction="none": the gradients of sum_i g_i l_i, recomputed with the upstream
    factors g_i as row weights (its positive and negative parts in turn: row weights
    are non-negative)."""
    arrays, t, b, kwargs = args
    g = grad_output.detach().to(torch.float64).numpy()
    sw = kwargs.get("sample_weight")
    base = np.ones(g.shape) if sw is None else np.asarray(sw, dtype=np.float64)
    kw = {**kwargs, "reduction": "sum", "return_accuracy": False}
    total = None
    for sign, part in ((1.0, np.maximum(g, 0.0)), (-1.0, np.maximum(-g, 0.0))):
        if not part.any():
            continue
        kw["sample_weight"] = part * base
        grads = _linear.linear_cross_entropy(*arrays, t, b, return_grad=True, **kw)[1]
        grads = [torch.from_numpy(sign * x if sign < 0 else x) for x in grads]
        total = grads if total is None else [a + c for a, c in zip(total, grads)]
    if total is None:
        total = [torch.zeros(x.shape, dtype=x.dtype) for x in (*arrays, *(() if b is None else (b,)))]
    return total


def linear_cross_entropy(input, weight, target, bias=None, *, class_weight=None,
                         ignore_index=-100, label_smoothing=0.0, reduction="mean",
                         sample_weight=None, return_accuracy=False, chunk_size=None,
                         n_threads=None):
    """``fastloss.linear_cross_entropy`` on CPU tensors, differentiable with respect to
    ``input``, ``weight`` and ``bias`` through autograd: what a training loop calls
    instead of ``F.cross_entropy(F.linear(input, weight, bias), target)``, without the
    (N, V) logits.

    Arguments as ``fastloss.linear_cross_entropy`` (without return_grad and out);
    ``class_weight`` and ``sample_weight`` may be tensors or arrays. Returns a tensor:
    a scalar for "mean"/"sum", the (N,) row losses for "none" (whose backward
    recomputes the gradients with the upstream factors as row weights); with
    return_accuracy=True, the pair (loss, n_correct).

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> import fastloss.torch as flt
    >>> g = torch.Generator().manual_seed(0)
    >>> h = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> W = torch.randn(10, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> y = torch.tensor([1, 3, 5, 7, 9, 0])
    >>> loss = flt.linear_cross_entropy(h, W, y, label_smoothing=0.1)
    >>> loss.backward()
    >>> h2, W2 = h.detach().clone().requires_grad_(), W.detach().clone().requires_grad_()
    >>> ref = F.cross_entropy(F.linear(h2, W2), y, label_smoothing=0.1)
    >>> ref.backward()
    >>> bool(torch.isclose(loss, ref)), torch.allclose(h.grad, h2.grad), torch.allclose(W.grad, W2.grad)
    (True, True, True)
    """
    for name, value in (("input", input), ("weight", weight), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"fastloss.torch.linear_cross_entropy: {name} must be a "
                            f"torch.Tensor, got {type(value).__name__}")
    kwargs = {"ignore_index": ignore_index, "label_smoothing": label_smoothing,
              "reduction": reduction, "return_accuracy": return_accuracy,
              "chunk_size": chunk_size, "n_threads": n_threads,
              "class_weight": _maybe_array("class_weight", class_weight),
              "sample_weight": _maybe_array("sample_weight", sample_weight)}
    out = _apply_linear(input, weight, bias, target, kwargs)
    if type(out) is tuple:
        return out[0], int(out[1])
    return out


def _maybe_array(name, value):
    if isinstance(value, torch.Tensor):
        return _cpu_array(name, "linear_cross_entropy", value, differentiable=False)
    return value
