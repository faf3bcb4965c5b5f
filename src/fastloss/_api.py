"""The public loss functions, built from the registry.

Each public function validates its arguments here, in Python, then makes one
call into a compiled kernel with the GIL released. Nothing here loops over data.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from . import _dispatch, _docs
from ._registry import LOSSES, LossSpec
from ._threads import resolve_n_threads
from ._validation import (
    as_float_input,
    as_real_like,
    as_sample_weight,
    check_out,
    check_param,
    check_reduction,
    separate_from_out,
)

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _pointwise_call(spec, kernels, x, target, reduction, sample_weight, return_grad, out,
                    n_threads, params):
    x = as_float_input(x, spec.input_name)
    reduction = check_reduction(reduction, spec)
    args = [check_param(p, params[p.name]) for p in spec.params]
    nt = resolve_n_threads(n_threads)
    arrays = [x]
    if spec.target != "none":
        arrays.append(as_real_like(target, "target", x))
    w = None if sample_weight is None else as_sample_weight(sample_weight, x)
    grad = None
    if out is not None:
        return_grad = True
        grad = check_out(out, x)
        arrays = [separate_from_out(grad, a) for a in arrays]
    elif return_grad:
        grad = np.empty_like(x)

    n = x.size
    row_len = n // x.shape[0] if x.ndim and x.shape[0] else 1
    denom = float(n) if w is None else float(w.sum()) * row_len
    if reduction == "mean" and w is not None and n and denom == 0.0:
        raise ValueError("sample_weight sums to zero: reduction='mean' is undefined")
    gscale = 1.0 / denom if reduction == "mean" and n else 1.0
    loss_out = np.empty_like(x) if reduction == "none" else None

    total = 0.0
    if n:
        flat = [a.reshape(-1) for a in arrays]
        total = kernels[x.dtype](
            *flat,
            None if grad is None else grad.reshape(-1),
            None if loss_out is None else loss_out.reshape(-1),
            w, row_len, gscale, nt, *args,
        )
    if reduction == "none":
        value = loss_out
    elif reduction == "mean":
        value = total / denom if n else math.nan
    else:
        value = total
    return (value, grad) if return_grad else value


def _signature(spec: LossSpec) -> inspect.Signature:
    P = inspect.Parameter
    params = [P(spec.input_name, P.POSITIONAL_OR_KEYWORD)]
    if spec.target != "none":
        params.append(P("target", P.POSITIONAL_OR_KEYWORD))
    if spec.family == "penalty":
        params += [P(p.name, P.POSITIONAL_OR_KEYWORD, default=p.default) for p in spec.params]
    params.append(P("reduction", P.KEYWORD_ONLY, default=spec.default_reduction))
    if spec.sample_weight:
        params.append(P("sample_weight", P.KEYWORD_ONLY, default=None))
    params += [
        P("return_grad", P.KEYWORD_ONLY, default=False),
        P("out", P.KEYWORD_ONLY, default=None),
        P("n_threads", P.KEYWORD_ONLY, default=None),
    ]
    if spec.family != "penalty":
        params += [P(p.name, P.KEYWORD_ONLY, default=p.default) for p in spec.params]
    return inspect.Signature(params)


def _make_pointwise(spec: LossSpec):
    module = _dispatch.load("_pointwise")
    kernels = {dt: getattr(module, f"{spec.name}_{sfx}") for dt, sfx in _SUFFIX.items()}
    sig = _signature(spec)

    def loss(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{spec.name}(): {e}") from None
        bound.apply_defaults()
        a = bound.arguments
        return _pointwise_call(
            spec, kernels, a[spec.input_name], a.get("target"), a["reduction"],
            a.get("sample_weight"), a["return_grad"], a["out"], a["n_threads"], a,
        )

    loss.__name__ = loss.__qualname__ = spec.name
    loss.__module__ = "fastloss"
    loss.__signature__ = sig
    loss.__doc__ = _docs.docstring(spec)
    return loss


_FACTORIES = {"pointwise": _make_pointwise}

#: name -> public function, for every registered loss.
FUNCTIONS = {spec.name: _FACTORIES[spec.kind](spec) for spec in LOSSES}
