"""The public loss functions, built from the registry.

Each public function validates its arguments here, in Python, then makes one
call into a compiled kernel with the GIL released. Nothing here loops over data.

Per-call cost matters for small inputs, so the public functions are generated
plain Python functions with their real signatures (no ``Signature.bind``), and
the common call (contiguous native float arrays, ``out=`` given, default
parameters) is recognised in C (``_fastpath``: reads of the array structs);
everything else goes through the general path, which validates and raises the
named errors.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _counts, _dispatch, _docs, _fastpath
from ._registry import LOSSES, REGISTRY, LossSpec
from ._rowlayout import SpatialRows
from ._threads import resolve_n_threads
from ._validation import (
    pow2_normalized,
    as_array,
    as_binary_target,
    as_class_target,
    as_class_vector,
    as_element_weight,
    as_float_input,
    as_float_matrix,
    as_index_rows,
    as_broadcast_like,
    as_real_like,
    as_row_labels,
    as_sample_weight,
    apart_from,
    check_flag,
    check_multi_outs,
    check_nonnegative,
    check_out,
    check_outs,
    check_param,
    check_range,
    check_reduction,
    shared_axes,
    separate_from_out,
)

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _class_vectors(spec, params, n_classes, always):
    """The per-class vector parameters, validated: all None (unless ``always``), or
    all arrays of n_classes entries (the ones not given filled with their fill)."""
    given = {a.name: params[a.name] for a in spec.array_params if params[a.name] is not None}
    if not given and not always:
        return [None] * len(spec.array_params)
    return [as_class_vector(given[a.name], a.name, n_classes, a.domain) if a.name in given
            else np.full(n_classes, a.fill) for a in spec.array_params]


# name -> ((name, default object) of every parameter, then (name, None) of every
# per-class vector; the kernel arguments that follow the arrays in that case).
_DEFAULT_ARGS: dict[str, tuple[tuple, tuple]] = {}


def _default_args(spec, params):
    """The kernel's trailing arguments when every parameter is passed as its
    default object and no per-class vector is given (the usual case: nothing to
    check), else None."""
    expected, args = _DEFAULT_ARGS[spec.name]
    for name, dv in expected:
        if params[name] is not dv:
            return None
    return args


def _want_hessian(spec, a):
    """return_hessian, checked (a bool, and only for a loss with a Hessian)."""
    flag = a.get("return_hessian", False)  # fastloss.torch's calls have none
    if flag is False or not spec.differentiable:
        return False
    if not check_flag("return_hessian", flag):
        return False
    if not spec.hessian:
        raise ValueError(f"return_hessian=True: {spec.name} has no Hessian in fastloss yet; "
                         f"return_grad=True gives its gradient")
    return True


def _smooth_binary_targets(flat, s):
    """Keras's binary label smoothing: the targets become y (1 - s) + s / 2 (a new
    array, computed in float64)."""
    if s == 0:
        return flat
    x, y = flat
    return [x, (y.astype(np.float64) * (1.0 - s) + 0.5 * s).astype(y.dtype)]


#: The parameters the call layer applies (Param.kernel False): name -> f(flat arrays
#: [input, target], value) -> the arrays the kernel takes.
CALL_LAYER_PARAMS = {"label_smoothing": _smooth_binary_targets}


def _element_weights(spec, params, x):
    """(params, weights of x's shape or None): a broadcastable per-class vector
    (ArrayParam.broadcast) given in a shape other than (C,) or a scalar weighs each
    element; it is then taken out of the per-class vectors."""
    for a in spec.array_params:
        v = params.get(a.name)
        if a.broadcast and v is not None and np.ndim(v) and np.shape(v) != x.shape[-1:]:
            return {**params, a.name: None}, as_element_weight(v, a.name, x)
    return params, None


def _pointwise_call(spec, kernels, x, target, reduction, sample_weight, return_grad, out,
                    n_threads, params):
    want_acc = spec.accuracy_option and check_flag("return_accuracy", params["return_accuracy"])
    want_hess = _want_hessian(spec, params)
    if (sample_weight is None and spec.input_range is None and type(return_grad) is bool
            and not want_acc and (spec.hessian or not isinstance(out, tuple))):
        args = _default_args(spec, params)
        if args is not None:
            r = _fastpath.pointwise(kernels, x, target, out, return_grad, reduction, n_threads,
                                    args, spec.reductions, want_hess,
                                    not params.get(_NO_VALUE))
            if r is not None:
                return r
    x = as_float_input(x, spec.input_name)
    reduction = check_reduction(reduction, spec)
    if spec.input_range is not None:
        check_range(x, spec.input_name, *spec.input_range)
    checked = {p.name: check_param(p, params[p.name]) for p in spec.params}
    args = [checked[p.name] for p in spec.kernel_params]
    params, elem_w = _element_weights(spec, params, x)
    args = _class_vectors(spec, params, x.shape[-1] if x.ndim else 1, False) + args
    nt = resolve_n_threads(n_threads)
    arrays = [x]
    if spec.target != "none":
        arrays.append(as_real_like(target, "target", x))
    # "mean": scaled by a power of two (exact; keeps 1/sum(w) finite, see pow2_normalized)
    w = (None if sample_weight is None
         else as_sample_weight(sample_weight, x, pow2=reduction in ("mean", "batchmean")))
    grad, hess = check_outs(out, x, want_hess)
    if out is not None:
        return_grad = True
        # The kernels write through restrict pointers: nothing they read may alias
        # their outputs, but an input (or target) that is the gradient buffer itself
        # (in place; the kernel then stages each chunk's gradient, _pointwise _piece).
        bufs = (grad,) if hess is None else (grad, hess)
        arrays = [separate_from_out(grad, a) if hess is None else apart_from(bufs, a)
                  for a in arrays]
        args = [apart_from(bufs, a) for a in args]
        w, elem_w = (apart_from(bufs, a) for a in (w, elem_w))
    elif return_grad or hess is not None:
        return_grad = True
        grad = np.empty_like(x)

    n = x.size
    row_len = n // x.shape[0] if x.ndim and x.shape[0] else 1
    if reduction == "batchmean":  # divided by the number of rows (of their weights)
        denom = float(x.shape[0] if x.ndim else 1) if w is None else float(w.sum())
    else:
        denom = float(n) if w is None else float(w.sum()) * row_len
    mean = reduction in ("mean", "batchmean")
    if mean and w is not None and n and denom == 0.0:
        raise ValueError(f"sample_weight sums to zero: reduction={reduction!r} is undefined")
    gscale = 1.0 / denom if mean and n else 1.0
    loss_out = np.empty_like(x) if reduction == "none" else None

    # The kernel's weights: per row (row_len elements each), or per element.
    kw, k_row_len = w, row_len
    if elem_w is not None:
        kw, k_row_len = elem_w, 1
        if w is not None:
            kw = elem_w * w.reshape((-1,) + (1,) * (x.ndim - 1))
        kw = kw.reshape(-1)

    total = 0.0
    n_correct = 0
    if n:
        flat = [a.reshape(-1) for a in arrays]
        if want_acc:  # before the kernel: out= may be the input itself
            n_correct = _counts.sign_agreement(flat[0], flat[1], nt)
        for p in spec.params:
            if not p.kernel:
                flat = CALL_LAYER_PARAMS[p.name](flat, checked[p.name])
        total = kernels[x.dtype](
            *flat,
            None if grad is None else grad.reshape(-1),
            None if loss_out is None else loss_out.reshape(-1),
            kw, k_row_len, gscale, nt, *args,
            hess=None if hess is None else hess.reshape(-1),
            value=not (params.get(_NO_VALUE) and hess is not None and loss_out is None),
        )
    if reduction == "none":
        value = loss_out
    elif mean:
        value = total / denom if n else math.nan
    else:
        value = total
    return call_result(value, grad if return_grad else None, n_correct if want_acc else None, hess)


def _class_target(spec, target, x, rows_shape, ignore_index):
    """("class", int64 indices of shape rows_shape) or ("prob"/"real", target array of
    x's shape), x being the input as the caller shaped it."""
    tdt = as_array(target, "target").dtype
    accepts_prob = spec.target == "class_or_prob"
    if accepts_prob and tdt.kind == "f" and np.shape(target) != x.shape:
        raise TypeError(f"target of shape {np.shape(target)} holds class indices, which need an "
                        f"integer dtype, got {tdt}: convert whole-number labels with "
                        f"target.astype(np.int64); probability targets need the input's shape "
                        f"{x.shape}")
    if spec.target == "real" or (accepts_prob and tdt.kind == "f"):
        kind = "real" if spec.target == "real" else "prob"
        return kind, as_real_like(target, "target", x)
    if spec.target == "index_rows":
        return "index", as_index_rows(target, x.shape, x.shape[-1] if x.ndim else 1)
    if spec.binary_input and x.shape[1] == 1 and tdt.kind == "f":
        # binary logits with the float 0/1 targets that binary_cross_entropy_with_logits takes
        return "class", as_binary_target(target, x.shape[0])
    n_classes = x.shape[1] if x.ndim >= 2 else x.size
    n_classes = max(n_classes, 2) if spec.binary_input else n_classes
    if x.ndim < 2 and np.shape(target) == (1,):  # an unbatched row's index, as torch takes it
        target = as_array(target, "target").reshape(())
    return "class", as_class_target(target, x.shape, n_classes, ignore_index, accepts_prob,
                                    rows_shape)


def _denominator(spec, kind, t, sw, class_weight, ignore_index, n_rows):
    """What reduction="mean" divides by (see LossSpec.mean_over); t and sw per row."""
    if kind != "class" or spec.mean_over == "rows":
        d = None
    else:
        d = t != ignore_index if ignore_index is not None else np.ones(t.shape, bool)
        if spec.mean_over == "target_weight" and class_weight is not None:
            d = np.where(d, class_weight[np.where(d, t, 0)], 0.0)
    if d is None:
        return float(n_rows) if sw is None else float(sw.sum())
    return float(np.sum(d, dtype=np.float64)) if sw is None else float(np.dot(sw, d))


def _require_batch(sample_weight, x):
    """sample_weight weighs rows of a batch: not an unbatched row (named error)."""
    if sample_weight is not None and x.ndim < 2:
        raise ValueError("sample_weight needs a batch: the input is one unbatched row; pass "
                         "input[None] and target[None] with sample_weight of shape (1,)")


def _row_mean_call(spec, a, x):
    """A row-wise loss whose row is the mean of a pointwise loss over its C entries
    (LossSpec.row_mean_of), with a weight per element: that loss's call, which checks
    the arguments. Its "mean" over all N C elements is this loss's mean over rows (with
    sample weights too); "sum" and "none" take the weight divided by C, and "none" then
    sums each row."""
    base = REGISTRY[spec.row_mean_of]
    _require_batch(a.get("sample_weight"), x)
    reduction = check_reduction(a["reduction"], spec)
    call = {**_DEFAULTS[base.name], **{k: v for k, v in a.items() if k in _DEFAULTS[base.name]},
            base.input_name: x}
    if reduction != "mean":
        c = x.shape[-1] if x.ndim else 1
        for p in spec.array_params:
            if p.broadcast and a[p.name] is not None:
                call[p.name] = as_array(a[p.name], p.name) / c  # (its checks: base's call)
    res = CALLS[base.name](call)
    if reduction != "none":
        return res
    value, rest = (res[0], res[1:]) if isinstance(res, tuple) else (res, ())
    value = np.asarray(value.sum(axis=-1, dtype=np.float64), dtype=value.dtype)  # per row
    return (value, *rest) if rest else value


def _rowwise_call(spec, kernels, a):
    xin = as_float_matrix(a[spec.input_name], spec.input_name, spec.binary_input, spec.shapes)
    if spec.row_mean_of:
        v = next((a[p.name] for p in spec.array_params if p.broadcast), None)
        if v is not None and np.ndim(v) and np.shape(v) != xin.shape[-1:]:
            return _row_mean_call(spec, a, xin)
    # The rows: (N,) of an (N, C) input, () of an unbatched (C,) row or 0-d score (one
    # row), (N, d1, ..., dk) of an (N, C, d1, ..., dk) input (one per position).
    rows_shape = xin.shape[:1] + xin.shape[2:] if xin.ndim >= 2 else ()
    n_rows = math.prod(rows_shape)
    reduction = check_reduction(a["reduction"], spec)
    params = {p.name: check_param(p, a[p.name]) for p in spec.params}
    n_classes = xin.shape[1] if xin.ndim >= 2 else xin.size
    if "k" in params and params["k"] > max(n_classes, 1):  # top-k needs k classes
        raise ValueError(f"k must be at most the number of classes {n_classes}, got {params['k']}")
    nt = resolve_n_threads(a["n_threads"])
    vectors = _class_vectors(spec, a, n_classes, True)
    ignore_index = params.pop("ignore_index", None)
    kind, t = _class_target(spec, a["target"], xin, rows_shape, ignore_index)
    want_acc = check_flag("return_accuracy", a.get("return_accuracy", False))
    if want_acc and kind != "class":
        raise ValueError("return_accuracy=True needs class-index targets")
    sw = a.get("sample_weight")
    _require_batch(sw, xin)
    sw = None if sw is None else as_sample_weight(sw, xin, pow2=reduction == "mean")
    return_grad = spec.differentiable and a["return_grad"]
    want_hess = _want_hessian(spec, a)
    out = a.get("out")
    grad, hess = check_outs(out, xin, want_hess) if out is not None else (None, None)
    if out is not None and (hess is not None or kind == "index"):
        # The Hessian's row functions (and multilabel_margin_loss's) read the row again
        # after writing the gradient: the input must not overlap either buffer.
        bufs = [b for b in (grad, hess) if b is not None]
        if any(np.may_share_memory(xin, b) for b in bufs):
            xin = xin.copy()
        if kind != "class" and any(np.may_share_memory(t, b) for b in bufs):
            t = t.copy()
    if out is not None:
        return_grad = True
        xin = separate_from_out(grad, xin)
        t = t if kind == "class" else separate_from_out(grad, t)
    elif return_grad or want_hess:
        return_grad = True
    x = xin
    if xin.ndim < 2:
        x = xin.reshape(1, -1)
        t = t.reshape(1, -1) if kind != "class" else t.reshape(1)

    lay = None
    if xin.ndim > 2:
        lay = SpatialRows(x, natural=out is not None)
        if not lay.fits or any(b is not None and not lay.holds(b) for b in (grad, hess)):
            x = np.ascontiguousarray(x)  # a layout no (B, C, S) view describes
            lay = SpatialRows(x, natural=True)
    if return_grad and out is None:  # in the input's layout
        grad = lay.empty(x) if lay else np.empty(xin.shape, x.dtype)
        hess = (lay.empty(x) if lay else np.empty(xin.shape, x.dtype)) if want_hess else None
    if lay:
        kx = lay.view(x)
        kg = None if grad is None else lay.view(grad)
        kh = None if hess is None else lay.view(hess)
        kt = lay.rows(t, np.int64) if kind == "class" else lay.view(t)
        ksw = None if sw is None else lay.row_weights(sw)
    else:
        kx, kt, ksw = x, t, sw
        kg, kh = (None if b is None else b.reshape(x.shape) for b in (grad, hess))

    # PyTorch's weighted mean divides by the target classes' `weight` (if given).
    class_weight = None
    if spec.mean_over == "target_weight" and a.get("weight") is not None:
        i = spec.array_param_names.index("weight")
        if reduction == "mean" and kind == "class":  # sum(w[t] l) / sum(w[t]): scale-free
            vectors[i] = pow2_normalized(vectors[i])
        class_weight = vectors[i]
    denom = _denominator(spec, kind, kt, ksw, class_weight, ignore_index, n_rows)
    if reduction == "mean" and sw is not None and n_rows and not sw.any():
        raise ValueError("sample_weight sums to zero: reduction='mean' is undefined")
    gscale = (1.0 / denom if denom else 0.0) if reduction == "mean" else 1.0
    loss_rows = np.zeros(n_rows, x.dtype) if reduction == "none" else None

    total, correct = 0.0, 0.0
    if x.size:
        targs = (kt, -1 if ignore_index is None else ignore_index) if kind == "class" else (kt,)
        total, correct = kernels[kind, x.dtype](kx, *targs, kg, loss_rows, ksw, gscale, nt,
                                                *vectors, *params.values(), hess=kh)
    elif grad is not None:
        grad[...] = 0
        if hess is not None:
            hess[...] = 0
    if loss_rows is not None:
        loss_rows = lay.unrows(loss_rows) if lay else loss_rows.reshape(rows_shape)
    return rowwise_result(reduction, total, denom, loss_rows, grad if return_grad else None,
                          int(correct) if want_acc else None, hess)


def _multi_inputs(spec, a):
    """The differentiable arrays of a "multi" loss: the first a C-contiguous float32 or
    float64 array, each other converted to its dtype, of its shape (or, for a reduced
    input, a shape shared_axes admits); and {name: shared axes} of the reduced ones."""
    first, *rest = spec.inputs
    x = as_float_input(a[first], first)
    if spec.mean_over == "rows" and not (x.ndim == 2 or x.ndim == 1 and "unbatched" in spec.shapes):
        raise ValueError(f"{first} must be 2-D (N, D): N rows of D features, or 1-D (D,): one "
                         f"unbatched row; got shape {x.shape}")
    xs, axes = [x], {}
    for name in rest:
        if name in spec.reduced_inputs:
            v = as_real_like(a[name], name, x, first, shape=False)
            axes[name] = shared_axes(v.shape, x.shape, name)
        else:
            v = as_real_like(a[name], name, x, first)
        xs.append(v)
    for name, v in zip(spec.inputs, xs):
        if name in spec.nonnegative:
            check_nonnegative(v, name)
    return xs, axes


#: Elements per (A, M, B) row of an input shared along no axis (a reduced input of the
#: full shape): the kernel's tiles vectorise along B, its threads split the rows.
_SHARED_ROW = 1024


def _shared_cuts(x, axes):
    """The (A, M, B) calls of an input with reduced inputs shared along ``axes`` (the
    contiguous axes lo..hi-1 become M): one call; shared along none, the flat elements
    in rows of _SHARED_ROW, and the rest as one more row (a second call)."""
    if axes:
        lo, hi = axes[0], axes[-1] + 1
        return [(None, (math.prod(x.shape[:lo]), math.prod(x.shape[lo:hi]),
                        math.prod(x.shape[hi:])))]
    q, r = divmod(x.size, _SHARED_ROW)
    return ([(slice(0, q * _SHARED_ROW), (q, 1, _SHARED_ROW))] if q else []) + (
        [(slice(q * _SHARED_ROW, x.size), (1, 1, r))] if r else [])


def _kernel_views(spec, xs, kg, t, loss_out, view, reduced=()):
    """One kernel call's arrays: ({name: view} of the inputs and the target, the gradient
    views, the loss view), each ``view(array, is a reduced input)``."""
    return (dict(zip(spec.inputs, (view(v, k in reduced) for k, v in zip(spec.inputs, xs))),
                 target=None if t is None else view(t, False)),
            [g if g is None else view(g, k in reduced) for k, g in zip(spec.inputs, kg)],
            None if loss_out is None else view(loss_out, False))


def _shared_view(cut):
    """The ``view`` of _kernel_views for a cut of _shared_cuts: (A, M, B), or (A, B) for
    a reduced input, C-contiguous (a broadcast target is copied)."""
    part, shape = cut

    def view(v, reduced):
        if part is not None:  # flat elements
            v = v.reshape(-1)[part]
        v = v.reshape((shape[0], shape[2]) if reduced else shape)
        return v if v.flags.c_contiguous else np.ascontiguousarray(v)

    return view


def _multi_call(spec, kernel, a):
    """A loss of several differentiable inputs: ``(value, (grad_1, ..., grad_k))``."""
    xs, axes = _multi_inputs(spec, a)
    x = xs[0]
    reduction = check_reduction(a["reduction"], spec)
    params = [check_param(p, a[p.name]) for p in spec.params]
    _want_hessian(spec, a)  # no Hessian: True is an error
    t = None
    if spec.target == "real":
        t = as_real_like(a["target"], "target", x, spec.inputs[0])
    elif spec.target == "broadcast":
        t = as_broadcast_like(a["target"], "target", x)
    elif spec.target == "row_label":
        t = as_row_labels(a["target"], x)
    nt = resolve_n_threads(a["n_threads"])
    out = a["out"]
    if out is not None:
        grads = check_multi_outs(out, xs, spec.inputs)
        # Rows are read again after their gradients are written: no overlap at all.
        xs = [v.copy() if any(np.may_share_memory(v, g) for g in grads) else v for v in xs]
        if t is not None and any(np.may_share_memory(t, g) for g in grads):
            t = t.copy()
    elif check_flag("return_grad", a["return_grad"]):
        grads = [np.empty_like(v) for v in xs]
    else:
        grads = None

    rows = spec.mean_over == "rows"
    value_shape = x.shape[:-1] if rows else x.shape
    n = math.prod(value_shape)
    loss_out = np.empty(value_shape, x.dtype) if reduction == "none" else None
    gscale = 1.0 / n if reduction == "mean" and n else 1.0
    kg = [None] * len(xs) if grads is None else list(grads)
    if rows:  # (N, D) matrices, a (D,) row as one; targets and losses (N,)
        calls = [_kernel_views(spec, xs, kg, t, loss_out, lambda v, _: v.reshape(
            (-1, x.shape[-1]) if v.shape == x.shape else -1))]
    elif axes:  # (A, M, B) views, the reduced inputs (A, B) shared along M
        calls = [_kernel_views(spec, xs, kg, t, loss_out, _shared_view(cut), axes)
                 for cut in _shared_cuts(x, next(iter(axes.values())))]
    else:  # one shape: flat
        calls = [_kernel_views(spec, xs, kg, t, loss_out, lambda v, _: v.reshape(-1))]
    total = 0.0
    for arrays, g, lo in calls:  # (in a fixed order: the same sum for any thread count)
        total += kernel[x.dtype](*(arrays[name] for name in spec.arrays), *g, lo, gscale, nt,
                                 *params)
    return rowwise_result(reduction, total, n, loss_out, None if grads is None else tuple(grads),
                          None)


def rowwise_result(reduction, total, denom, loss_out, grad, n_correct, hess=None):
    """What a row-wise call (or one of several inputs) returns: the value (the losses for
    "none", the sum or its mean), then the gradient (a tuple of them for several inputs)
    and the Hessian (each if not None), then the correct count (if not None)."""
    if reduction == "none":
        value = loss_out
    elif reduction == "mean":
        value = total / denom if denom else math.nan
    else:
        value = total
    return call_result(value, grad, n_correct, hess)


def call_result(value, grad, n_correct, hess=None):
    """``value``, or the tuple of it and those of ``grad``, ``hess`` and ``n_correct`` given."""
    result = (value,) + tuple(r for r in (grad, hess, n_correct) if r is not None)
    return result if len(result) > 1 else value


def _signature(spec: LossSpec) -> inspect.Signature:
    P = inspect.Parameter
    if spec.multi_input:
        params = [P(name, P.POSITIONAL_OR_KEYWORD) for name in spec.arrays]
    else:
        params = [P(spec.input_name, P.POSITIONAL_OR_KEYWORD)]
        if spec.target != "none":
            params.append(P("target", P.POSITIONAL_OR_KEYWORD))
    positional = spec.param_names if spec.family == "penalty" else spec.positional
    arrays = [P(a.name, P.POSITIONAL_OR_KEYWORD if a.name in positional else P.KEYWORD_ONLY,
                default=P.empty if a.required else None) for a in spec.array_params]
    scalars = [P(p.name, P.POSITIONAL_OR_KEYWORD if p.name in positional else P.KEYWORD_ONLY,
                 default=p.default) for p in spec.params]
    params += [q for q in arrays + scalars if q.kind == P.POSITIONAL_OR_KEYWORD]
    params.append(P("reduction", P.KEYWORD_ONLY, default=spec.default_reduction))
    if spec.sample_weight:
        params.append(P("sample_weight", P.KEYWORD_ONLY, default=None))
    if spec.differentiable:
        params += [P("return_grad", P.KEYWORD_ONLY, default=False),
                   P("return_hessian", P.KEYWORD_ONLY, default=False),
                   P("out", P.KEYWORD_ONLY, default=None)]
    if spec.accuracy_option:
        params.append(P("return_accuracy", P.KEYWORD_ONLY, default=False))
    params.append(P("n_threads", P.KEYWORD_ONLY, default=None))
    params += [q for q in arrays + scalars if q.kind == P.KEYWORD_ONLY]
    return inspect.Signature(params)


def dict_function(name: str, sig: inspect.Signature, call, module: str):
    """A generated plain Python function ``name`` with signature ``sig`` that passes
    its arguments, by name in one dict, to ``call``: Python binds the arguments
    itself (``Signature.bind`` costs ~4 us a call) and its TypeErrors name it."""
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
    arguments = ", ".join(f"{n!r}: {n}" for n in sig.parameters)
    src = f"def {name}({', '.join(parts)}):\n    return _call({{{arguments}}})\n"
    namespace = dict(defaults, _call=call)
    exec(compile(src, f"<{module}.{name}>", "exec"), namespace)
    fn = namespace[name]
    fn.__qualname__ = name
    fn.__module__ = module
    return fn


def _public(spec: LossSpec, call):
    """The public function of ``spec``: a generated function with the real signature
    (dict_function) around ``call`` (kept in CALLS for fastloss.torch, which has the dict)."""
    CALLS[spec.name] = call
    sig = _signature(spec)
    _DEFAULTS[spec.name] = {n: p.default for n, p in sig.parameters.items()}
    loss = dict_function(spec.name, sig, call, "fastloss")
    loss.__doc__ = _docs.docstring(spec)
    return loss


def _make_pointwise(spec: LossSpec):
    module = _dispatch.load("_pointwise")
    kernels = {dt: getattr(module, f"{spec.name}_{sfx}") for dt, sfx in _SUFFIX.items()}
    _DEFAULT_ARGS[spec.name] = (
        tuple((p.name, p.default) for p in spec.params)
        + tuple((a.name, None) for a in spec.array_params),
        (None,) * len(spec.array_params)
        + tuple(check_param(p, p.default) for p in spec.kernel_params),
    )
    return _public(spec, lambda a: _pointwise_call(
        spec, kernels, a[spec.input_name], a.get("target"), a["reduction"],
        a.get("sample_weight"), a["return_grad"], a["out"], a["n_threads"], a,
    ))


def _plan_params(params) -> tuple[tuple, tuple, tuple, tuple]:
    """A fast path's view of scalar parameters: names, default objects, checked defaults,
    and (low, high, low_open, high_open) of the float ones (None: only the default)."""
    inf = math.inf

    def bounds(p):
        if p.type is not float:
            return None
        return (-inf if p.low is None else float(p.low), inf if p.high is None else float(p.high),
                p.low_open, p.high_open)

    return (tuple(p.name for p in params), tuple(p.default for p in params),
            tuple(check_param(p, p.default) for p in params), tuple(bounds(p) for p in params))


def _rowwise_plan(spec: LossSpec, kernels) -> _fastpath.RowwisePlan | None:
    """The C fast path of a row-wise loss's common call (class-index targets)."""
    if "class" not in spec.kernels or spec.binary_input or any(a.required for a in spec.array_params):
        return None
    scalars = [p for p in spec.params if p.name != "ignore_index"]
    ignore = [p for p in spec.params if p.name == "ignore_index"]
    return _fastpath.RowwisePlan(
        {dt: kernels["class", dt] for dt in _SUFFIX}, spec.input_name,
        spec.array_param_names, tuple(float(a.fill) for a in spec.array_params),
        *_plan_params(scalars),
        bool(ignore), ignore[0].default if ignore else None, spec.mean_over != "rows",
        spec.differentiable, bool(spec.hessian))


def _make_rowwise(spec: LossSpec):
    module = _dispatch.load("_rowwise")
    kernels = {(kind, dt): getattr(module, f"{name}_{sfx}")
               for kind, name in spec.kernels.items() for dt, sfx in _SUFFIX.items()}
    KERNELS[spec.name] = kernels
    plan = _rowwise_plan(spec, kernels)
    if plan is None:
        return _public(spec, lambda a: _rowwise_call(spec, kernels, a))
    ROWWISE_PLANS[spec.name] = plan
    name = spec.name

    def call(a):
        r = ROWWISE_PLANS[name](a)
        return _rowwise_call(spec, kernels, a) if r is None else r

    return _public(spec, call)


# A key of the argument dict (never a public argument): the caller wants only the
# gradient and the Hessian (gradient_hessian).
_NO_VALUE = "_no_value"


def gradient_hessian(name: str) -> Callable[..., None]:
    """``f(input, target, grad, hess, *, sample_weight=None, n_threads=None, **params)``:
    writes the gradient and the Hessian's diagonal of loss ``name``'s sum into
    ``grad`` and ``hess`` (the call of ``out=(grad, hess)``, reduction="sum"), and
    returns nothing: a boosting objective's call. The pointwise kernels then skip
    the value (its math is dead code there); the row-wise ones compute it anyway.
    The arguments go through the loss's one call path (the same checks)."""
    spec = REGISTRY[name]
    call = CALLS[name]
    base = _DEFAULTS[name]

    def run(input, target, grad, hess, **kwargs):
        unknown = set(kwargs) - set(base)
        if unknown:
            raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        a = {**base, **kwargs, spec.input_name: input, "target": target, "out": (grad, hess),
             "reduction": "sum", _NO_VALUE: True}
        call(a)

    return run


#: name -> {(target kind, dtype): compiled kernel} of each row-wise loss (for the
#: callers that run a kernel on blocks of their own, as linear_cross_entropy).
KERNELS: dict[str, dict[tuple[str, Any], Any]] = {}

#: name -> the row-wise fast path (tests swap in one that always declines).
ROWWISE_PLANS: dict[str, _fastpath.RowwisePlan] = {}

#: name -> the fast path of a loss of several inputs (likewise).
MULTI_PLANS: dict[str, _fastpath.MultiPlan] = {}


#: name -> the public function's body, taking every argument by name in one dict.
CALLS: dict[str, Callable[[dict[str, Any]], Any]] = {}

#: name -> {argument: default} of the public function (a call's dict, filled).
_DEFAULTS: dict[str, dict[str, Any]] = {}

def _make_multi(spec: LossSpec):
    kernel = getattr(_dispatch.load("_multi"), spec.name)
    kernels = {np.dtype(np.float32): kernel["float"], np.dtype(np.float64): kernel["double"]}
    layout = (_fastpath.Layout.ROWS if spec.mean_over == "rows" else
              _fastpath.Layout.SHARED if spec.reduced_inputs else _fastpath.Layout.FLAT)
    plan = _fastpath.MultiPlan(
        kernels, spec.arrays, tuple(n in spec.inputs for n in spec.arrays),
        tuple(n in spec.reduced_inputs for n in spec.arrays),
        tuple(n in spec.nonnegative for n in spec.arrays), layout, _SHARED_ROW,
        spec.arrays.index("target") if spec.target == "row_label" else -1,
        *_plan_params(spec.params), spec.reductions)
    MULTI_PLANS[spec.name] = plan

    def call(a):
        r = MULTI_PLANS[spec.name](a)
        return _multi_call(spec, kernels, a) if r is None else r

    return _public(spec, call)


_FACTORIES = {"pointwise": _make_pointwise, "rowwise": _make_rowwise, "multi": _make_multi}

#: name -> public function, for every registered loss.
FUNCTIONS = {spec.name: _FACTORIES[spec.kind](spec) for spec in LOSSES}
