"""The public loss functions, built from the registry.

Each public function validates its arguments here, in Python, then makes one
call into a compiled kernel with the GIL released. Nothing here loops over data.

Per-call cost matters for small inputs, so the public functions are generated
plain Python functions with their real signatures (no ``Signature.bind``), and
the common call (contiguous native float arrays, ``out=`` given, default
parameters) is recognised by cheap identity checks; everything else goes
through the general path, which validates and raises the named errors.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from . import _dispatch, _docs, _omp, _threads
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
_ndarray = np.ndarray
_may_share_memory = np.may_share_memory
_get_max_threads = _omp.get_max_threads


def _fast_pointwise(spec, kernels, x, target, reduction, out, n_threads, args):
    """The common hot call, checked with cheap identity/attribute tests only:
    C-contiguous native float ndarrays of one dtype and shape, ``out`` given,
    no sample_weight. Returns None when any condition fails; the caller then
    takes the general path, which validates everything and raises the errors."""
    if type(x) is not _ndarray or type(out) is not _ndarray:
        return None
    dt = x.dtype
    kernel = kernels.get(dt)  # native float32/float64 only: other dtypes miss
    if kernel is None or out.dtype is not dt or out.shape != x.shape:
        return None
    of = out.flags
    xf = x.flags
    if not (xf.c_contiguous and of.c_contiguous and of.writeable):
        return None
    if target is not None:
        if type(target) is not _ndarray or target.dtype is not dt or target.shape != x.shape:
            return None
        tf = target.flags
        if not tf.c_contiguous:
            return None
    if n_threads is None and not _threads._in_forked_child:
        nt = _get_max_threads()
    else:
        nt = resolve_n_threads(n_threads)  # validates (and raises) like the general path
    n = x.size
    if not n or (reduction != "mean" and reduction != "sum") or reduction not in spec.reductions:
        return None
    # Aliasing: out may be x (or target) exactly; any other overlap needs a copy.
    # Two distinct arrays that both own their memory cannot overlap (cheap
    # identity test); views get NumPy's bounds check.
    own_out = of.owndata and out.base is None
    if out is not x and not (own_out and xf.owndata and x.base is None) \
            and _may_share_memory(out, x):
        return None
    if target is not None and out is not target \
            and not (own_out and tf.owndata and target.base is None) \
            and _may_share_memory(out, target):
        return None
    if x.ndim != 1:
        x = x.reshape(-1)
        g = out.reshape(-1)
        if target is not None:
            target = target.reshape(-1)
    else:
        g = out
    if reduction == "mean":
        if target is None:
            total = kernel(x, g, None, None, 1, 1.0 / n, nt, *args)
        else:
            total = kernel(x, target, g, None, None, 1, 1.0 / n, nt, *args)
        return (total / n, out)
    if target is None:
        total = kernel(x, g, None, None, 1, 1.0, nt, *args)
    else:
        total = kernel(x, target, g, None, None, 1, 1.0, nt, *args)
    return (total, out)


def _pointwise_call(spec, kernels, x, target, reduction, sample_weight, return_grad, out,
                    n_threads, pvals):
    if out is not None and sample_weight is None:
        args = spec_default_args(spec, pvals)
        if args is not None:
            r = _fast_pointwise(spec, kernels, x, target, reduction, out, n_threads, args)
            if r is not None:
                return r
    x = as_float_input(x, spec.input_name)
    reduction = check_reduction(reduction, spec)
    args = [check_param(p, v) for p, v in zip(spec.params, pvals)]
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


_DEFAULT_ARGS: dict[str, tuple] = {}


def spec_default_args(spec, pvals):
    """The kernel's float arguments when every parameter is passed as its
    default object (the usual case: no check needed), else None."""
    d = _DEFAULT_ARGS.get(spec.name)
    if d is None:
        return None
    defaults, args = d
    if len(pvals) != len(defaults):
        return None
    for v, dv in zip(pvals, defaults):
        if v is not dv:
            return None
    return args


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


def _generated_function(spec: LossSpec, sig: inspect.Signature, body: str, namespace: dict):
    """A plain Python function with ``sig`` as its real signature (no
    ``Signature.bind`` per call: Python binds the arguments itself, and its
    TypeErrors name the function)."""
    defaults = {}
    parts = []
    for i, p in enumerate(sig.parameters.values()):
        if p.kind is p.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        if p.default is p.empty:
            parts.append(p.name)
        else:
            defaults[f"_d{i}"] = p.default
            parts.append(f"{p.name}=_d{i}")
    src = f"def {spec.name}({', '.join(parts)}):\n{body}"
    ns = dict(namespace, **defaults)
    exec(compile(src, f"<fastloss.{spec.name}>", "exec"), ns)
    return ns[spec.name]


def _make_pointwise(spec: LossSpec):
    module = _dispatch.load("_pointwise")
    kernels = {dt: getattr(module, f"{spec.name}_{sfx}") for dt, sfx in _SUFFIX.items()}
    sig = _signature(spec)
    _DEFAULT_ARGS[spec.name] = (
        tuple(p.default for p in spec.params),
        tuple(check_param(p, p.default) for p in spec.params),
    )
    pnames = "".join(f"{p.name}, " for p in spec.params)
    body = (
        f"    return _call(_spec, _kernels, {spec.input_name}, "
        f"{'target' if spec.target != 'none' else 'None'}, reduction, "
        f"{'sample_weight' if spec.sample_weight else 'None'}, return_grad, out, n_threads, "
        f"({pnames}))\n"
    )
    loss = _generated_function(
        spec, sig, body, {"_call": _pointwise_call, "_spec": spec, "_kernels": kernels}
    )
    loss.__qualname__ = spec.name
    loss.__module__ = "fastloss"
    loss.__doc__ = _docs.docstring(spec)
    return loss


_FACTORIES = {"pointwise": _make_pointwise}

#: name -> public function, for every registered loss.
FUNCTIONS = {spec.name: _FACTORIES[spec.kind](spec) for spec in LOSSES}
