"""fastloss losses over Dask arrays, chunk by chunk.

``fastloss.dask.<loss>(input, target, ...)`` takes the arguments of
``fastloss.<loss>``, with ``input`` (and ``target``, ``sample_weight``) as Dask
or NumPy arrays, and returns lazy Dask results:

- the value (``reduction="mean"``, ``"sum"``, ``"batchmean"``) as a 0-d Dask
  array. Each chunk computes its loss **sum** and the part of the mean's
  denominator it holds (its element/row count, weight sum, or class-weight sum,
  as the loss defines "mean"); these are combined by a tree reduction
  (``split_every`` children per node) of exact floating-point expansions
  (``math.fsum`` arithmetic), so the result is the correctly rounded sum of the
  chunk sums: deterministic whatever the tree shape, scheduler or completion
  order, and equal to the in-memory value up to the rounding of each chunk sum.
  "mean" divides the global sum by the global denominator.
- with ``return_grad=True``, also the gradient, a Dask array with the chunks
  of ``input``: each chunk's gradient of the loss sum, scaled by the global
  ``1 / denominator`` for "mean" — computed in the same fused call as the sum.
- ``reduction="none"``: the per-element (per-row) losses as a Dask array.
- ``return_accuracy=True`` (cross_entropy): also the total correct count (0-d).

Row-wise losses (cross_entropy, ...) need whole rows in a chunk: the input is
rechunked to one chunk along its class axis. Per-class vectors (``weight``,
``pos_weight``, ``prior``) are passed as NumPy arrays to every chunk.

Threads: each chunk's kernel uses ``n_threads`` OpenMP threads (default: OpenMP's
default in the worker thread). With the threaded scheduler running k tasks at
once on c cores, pass ``n_threads=max(1, c // k)`` so as not to oversubscribe the
cores; ``dask.distributed`` worker processes already get ``OMP_NUM_THREADS=1``
from their nanny.

Needs Dask: ``python -m pip install "dask[array]"``; or, from a source checkout
of fastloss, ``python -m pip install ".[dask]"`` (which adds ``distributed``).
"""

from __future__ import annotations

import inspect
import math

import dask
import dask.array as da
import numpy as np

from . import _api, _docs, _exactsum
from ._api import FUNCTIONS
from ._registry import LOSSES, LossSpec
from ._validation import expand_shared, shared_axes

__all__ = sorted(FUNCTIONS)

_MEAN = ("mean", "batchmean")


def _block_denominator(spec, a, x, t, w, reduction):
    """The part of the "mean" denominator that one block of rows holds.

    Mirrors the in-memory rules of ``fastloss._api`` (``LossSpec.mean_over``).
    """
    if spec.kind == "pointwise":
        rows = x.shape[0] if x.ndim else 1
        row_len = x.size // rows if rows else 1
        per_row = 1 if reduction == "batchmean" else row_len
        return float(rows * per_row) if w is None else float(np.sum(w)) * per_row
    if spec.kind == "rowwise":
        x = _api.as_float_matrix(x, spec.input_name, spec.binary_input, spec.shapes)
        rows = x.shape[:1] + x.shape[2:]  # (N,), or a spatial input's (N, d1, ..., dk)
        ignore_index = a.get("ignore_index")
        kind, tt = _api._class_target(spec, t, x, rows, ignore_index)
        weight = None  # only PyTorch's weighted mean reads the class weights
        if spec.mean_over == "target_weight" and a.get(spec.array_params[0].name) is not None:
            weight = _api._class_vectors(spec, a, x.shape[1], True)[0]
        sw = None if w is None else _api.as_sample_weight(w, x)
        per_row = math.prod(rows[1:])  # positions per sample
        if sw is not None and per_row != 1:
            sw = np.repeat(sw, per_row)
        if kind == "class":
            tt = tt.reshape(-1)
        return _api._denominator(spec, kind, tt, sw, weight, ignore_index, math.prod(rows))
    raise NotImplementedError(f"fastloss.dask: no 'mean' rule for loss kind {spec.kind!r}")


def _run_block(spec, fn, a, reduction, return_grad, want_acc, x, t, w):
    """One fused call on one block: (sum partials, denominator partials, n_correct, grad, none)."""
    kw = dict(a)
    if spec.target != "none":
        kw["target"] = t
    if w is not None:
        kw["sample_weight"] = w
    red = "none" if reduction == "none" else "sum"
    kw["reduction"] = red
    if spec.differentiable:
        kw["return_grad"] = return_grad
    if want_acc:
        kw["return_accuracy"] = True
    res = fn(x, **kw)
    res = res if isinstance(res, tuple) else (res,)
    value, rest = res[0], list(res[1:])
    grad = rest.pop(0) if return_grad else None
    n_correct = int(rest.pop(0)) if want_acc else 0
    if reduction == "none":
        return {"none": value, "grad": grad, "correct": n_correct}
    denom = _block_denominator(spec, a, x, t, w, reduction) if reduction in _MEAN else 0.0
    return {"sum": _exactsum.add([], value), "den": _exactsum.add([], denom),
            "correct": n_correct, "grad": grad, "rows": x.shape[0] if x.ndim else 1}


def _stats(block):
    return {k: block[k] for k in ("sum", "den", "correct", "rows")}


def _combine(*parts):
    out = {"sum": [], "den": [], "correct": 0, "rows": 0}
    for p in parts:
        out["sum"] = _exactsum.merge(out["sum"], p["sum"])
        out["den"] = _exactsum.merge(out["den"], p["den"])
        out["correct"] += p["correct"]
        out["rows"] += p["rows"]
    return out


def _finalize(stats, reduction, weighted):
    s = _exactsum.total(stats["sum"])
    if reduction not in _MEAN:
        return np.float64(s)
    den = _exactsum.total(stats["den"])
    if weighted and stats["rows"] and den == 0.0 and not math.isnan(s):
        # as the in-memory call: a zero weight sum makes the mean undefined
        return np.float64(math.nan)
    return np.float64(s / den if den else math.nan)


def _grad_block(block, scale):
    g = block["grad"]
    return g if scale == 1.0 else g * g.dtype.type(scale)


def _scale(stats, reduction):
    if reduction not in _MEAN:
        return 1.0
    den = _exactsum.total(stats["den"])
    return 1.0 / den if den else 0.0


def _align(arr, name, x, spatial=False):
    """``arr`` as a Dask array chunked like x (same shape) or like x's rows (shape (N,),
    or (N, d1, ..., dk) for the positions of a spatial (N, C, d1, ..., dk) input)."""
    arr = da.asarray(arr)
    if arr.shape == x.shape:
        return arr.rechunk(x.chunks), "same"
    rows = x.shape[:1] + x.shape[2:] if spatial and x.ndim > 2 else x.shape[:1]
    if arr.shape == rows:
        return arr.rechunk((x.chunks[0],) + tuple((n,) for n in rows[1:])), "rows"
    raise ValueError(f"{name} has shape {arr.shape}; expected {x.shape} or {rows}")


def _tree(parts, split_every):
    while len(parts) > 1:
        parts = [dask.delayed(_combine, pure=True)(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def _run_multi_block(fn, kw, return_grad, *arrays):
    """One fused call of a loss of several inputs on one block (the arrays in
    signature order): its loss sum (or losses) and its gradients."""
    res = fn(*arrays, return_grad=return_grad, **kw)
    value, grads = res if return_grad else (res, None)
    if kw["reduction"] == "none":
        return {"none": value, "grads": grads}
    return {"sum": _exactsum.add([], value), "den": [], "correct": 0, "rows": 0, "grads": grads}


def _multi_call(spec, fn, a, reduction, split_every):
    """A loss of several differentiable inputs (kind "multi"): the inputs, target and
    reduced inputs broadcast to the first input's shape and chunked like it (whole rows
    for a loss of rows); a reduced input's gradient is summed back to its shape. The
    "mean" denominator is the number of losses, known from the shapes."""
    first, *rest = spec.inputs
    x = da.asarray(a.pop(first))
    rows = spec.mean_over == "rows"
    if x.ndim == 0 or (rows and x.ndim != 2):
        raise ValueError(f"fastloss.dask.{spec.name}: {first} must be " + (
            "(N, D), with a batch axis (one unbatched row is fastloss's to take)" if rows
            else "an array with at least one axis") + f", got shape {x.shape}")
    if rows:
        x = x.rechunk({1: -1})
    arrays, shared = {first: x}, {}
    for name in rest:
        v = da.asarray(a.pop(name))
        axes = shared_axes(v.shape, x.shape, name) if name in spec.reduced_inputs else ()
        if axes:
            shared[name] = (axes, v.shape)
            v = expand_shared(v, x.shape, axes)  # (NumPy's functions dispatch to Dask's)
        elif v.shape != x.shape:
            raise ValueError(f"fastloss.dask.{spec.name}: {name} has shape {v.shape}, but {first} "
                             f"has shape {x.shape}")
        arrays[name] = v.rechunk(x.chunks)
    if "target" in spec.arrays:
        t = da.asarray(a.pop("target"))
        if rows:
            if t.shape != x.shape[:1]:
                raise ValueError(f"fastloss.dask.{spec.name}: target must have shape "
                                 f"{x.shape[:1]}, got {t.shape}")
            t = t.rechunk((x.chunks[0],))
        else:
            if spec.target == "broadcast":
                t = da.broadcast_to(t, x.shape)
            elif t.shape != x.shape:
                raise ValueError(f"fastloss.dask.{spec.name}: target has shape {t.shape}, but "
                                 f"{first} has shape {x.shape}")
            t = t.rechunk(x.chunks)
        arrays["target"] = t
    return_grad = bool(a.pop("return_grad", False))
    kw = dict(a, reduction="none" if reduction == "none" else "sum")
    delayed = {k: v.to_delayed() for k, v in arrays.items()}
    run = dask.delayed(_run_multi_block, pure=True)
    blocks = {}
    for idx in np.ndindex(x.numblocks):
        blocks[idx] = run(fn, kw, return_grad, *(
            delayed[k][idx[:1] if rows and k == "target" else idx] for k in spec.arrays))
    n = math.prod(x.shape[:-1] if rows else x.shape)
    if reduction == "none":
        pick = dask.delayed(lambda b: b["none"], pure=True)
        if rows:
            value = da.concatenate([da.from_delayed(pick(blocks[(i, 0)]), shape=(c,), dtype=x.dtype)
                                    for i, c in enumerate(x.chunks[0])])
        else:
            value = _assemble(x, lambda idx: da.from_delayed(
                pick(blocks[idx]), shape=tuple(c[i] for c, i in zip(x.chunks, idx)), dtype=x.dtype))
        scale = 1.0
    else:
        stats = _tree([dask.delayed(_stats, pure=True)(b) for b in blocks.values()], split_every)
        mean = reduction == "mean"
        value = da.from_delayed(dask.delayed(lambda s: np.float64(
            (_exactsum.total(s["sum"]) / n if n else math.nan) if mean
            else _exactsum.total(s["sum"])), pure=True)(stats), shape=(), dtype=np.float64)
        scale = 1.0 / n if mean and n else 1.0
    if not return_grad:
        return value
    grads = []
    for k, name in enumerate(spec.inputs):
        pick = dask.delayed(lambda b, k: b["grads"][k] * b["grads"][k].dtype.type(scale), pure=True)
        g = _assemble(x, lambda idx: da.from_delayed(
            pick(blocks[idx], k), shape=tuple(c[i] for c, i in zip(x.chunks, idx)), dtype=x.dtype))
        if name in shared:  # summed over the axis its input is shared along
            axes, shape = shared[name]
            g = g.sum(axis=axes).reshape(shape)
        grads.append(g)
    return value, tuple(grads)


def _call(spec, fn, sig, args, kwargs):
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"fastloss.dask.{spec.name}(): {e}") from None
    bound.apply_defaults()
    a = dict(bound.arguments)
    reduction = a.pop("reduction")
    split_every = int(a.pop("split_every"))
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}")
    if reduction not in spec.reductions:
        raise ValueError(f"reduction must be one of {spec.reductions}, got {reduction!r}")
    if spec.multi_input:
        return _multi_call(spec, fn, a, reduction, split_every)
    x = da.asarray(a.pop(spec.input_name))
    if x.ndim == 0:
        raise ValueError(f"fastloss.dask.{spec.name}: {spec.input_name} must have at least one axis")
    if spec.kind == "rowwise" and x.ndim == 1 and not spec.binary_input:
        raise ValueError(f"fastloss.dask.{spec.name}: {spec.input_name} must have a batch axis, "
                         f"(N, C); one unbatched (C,) row is fastloss.{spec.name}'s to take")
    target = a.pop("target", None)
    w = a.pop("sample_weight", None)
    return_grad = bool(a.pop("return_grad", False))
    want_acc = bool(a.pop("return_accuracy", False))
    elem = None  # a weight per element (ArrayParam.broadcast): chunked like x below
    for p in spec.array_params:
        v = a.get(p.name)
        if p.broadcast and v is not None and np.ndim(v) and np.shape(v) != x.shape[-1:]:
            elem = (p.name, da.broadcast_to(da.asarray(v), x.shape))
            a[p.name] = None
    for k, v in list(a.items()):  # per-class vectors are small: give each chunk the array
        if isinstance(v, da.Array):
            a[k] = v.compute()
    if spec.kind != "pointwise":  # whole rows per chunk
        x = x.rechunk({i: -1 for i in range(1, x.ndim)})
    elif x.ndim > 1 and any(a.get(n) is not None for n in spec.array_param_names):
        x = x.rechunk({x.ndim - 1: -1})  # per-column vectors (pos_weight) need whole last axes
    tgt = _align(target, "target", x, "spatial" in spec.shapes) if spec.target != "none" else None
    wgt = _align(w, "sample_weight", x) if w is not None else None
    if wgt is not None and wgt[1] != "rows":
        raise ValueError(f"sample_weight must have shape ({x.shape[0]},)")

    xd = x.to_delayed()
    td = None if tgt is None else tgt[0].to_delayed()
    wd = None if wgt is None else wgt[0].to_delayed()
    ed = None if elem is None else elem[1].rechunk(x.chunks).to_delayed()
    run = dask.delayed(_run_block, pure=True)
    blocks = {}
    for idx in np.ndindex(x.numblocks):
        t_b = None if td is None else (td[idx] if tgt[1] == "same"
                                       else td[(idx[0],) + (0,) * (td.ndim - 1)])
        w_b = None if wd is None else wd[idx[0]]
        a_b = a if ed is None else {**a, elem[0]: ed[idx]}
        blocks[idx] = run(spec, fn, a_b, reduction, return_grad, want_acc, xd[idx], t_b, w_b)

    extra = []
    if reduction == "none":
        probe = _probe_shape(spec, fn, a, x, tgt, w is not None)
        def value_block(idx):
            if probe == "same":
                shape = tuple(c[i] for c, i in zip(x.chunks, idx))
            else:
                shape = (x.chunks[0][idx[0]],) + tuple(probe[1:])
            return da.from_delayed(dask.delayed(lambda b: b["none"], pure=True)(blocks[idx]),
                                   shape=shape, dtype=x.dtype)
        if probe == "same":
            value = _assemble(x, value_block)
        else:
            value = da.concatenate([value_block((i,) + (0,) * (x.ndim - 1))
                                    for i in range(x.numblocks[0])], axis=0)
        scale = 1.0
        if want_acc:
            correct = _tree([dask.delayed(lambda b: {"sum": [], "den": [], "rows": 0,
                                                     "correct": b["correct"]})(b)
                             for b in blocks.values()], split_every)
            extra.append(da.from_delayed(dask.delayed(lambda s: np.int64(s["correct"]))(correct),
                                         shape=(), dtype=np.int64))
    else:
        stats = _tree([dask.delayed(_stats, pure=True)(b) for b in blocks.values()], split_every)
        value = da.from_delayed(dask.delayed(_finalize, pure=True)(stats, reduction, w is not None),
                                shape=(), dtype=np.float64)
        scale = dask.delayed(_scale, pure=True)(stats, reduction)
        if want_acc:
            extra.append(da.from_delayed(dask.delayed(lambda s: np.int64(s["correct"]))(stats),
                                         shape=(), dtype=np.int64))
    result = [value]
    if return_grad:
        gb = dask.delayed(_grad_block, pure=True)
        result.append(_assemble(x, lambda idx: da.from_delayed(
            gb(blocks[idx], scale), shape=tuple(c[i] for c, i in zip(x.chunks, idx)), dtype=x.dtype)))
    result += extra
    return tuple(result) if len(result) > 1 else value


def _assemble(x, make):
    """A Dask array with x's chunks from one lazily computed block per index."""
    def nest(prefix):
        d = len(prefix)
        if d == x.ndim:
            return make(prefix)
        return [nest(prefix + (i,)) for i in range(x.numblocks[d])]
    return da.block(nest(()))


def _probe_shape(spec, fn, a, x, tgt, weighted):
    """"same" if reduction="none" gives one loss per input element, else the value's
    shape for a 1-row input (e.g. (1,) for row-wise losses)."""
    if spec.kind == "pointwise":
        return "same"
    kw = dict(a, reduction="none")
    if tgt is not None:
        t = tgt[0]
        kw["target"] = np.zeros((1,) + t.shape[1:], dtype=t.dtype)
    xs = np.zeros((1,) + x.shape[1:], dtype=x.dtype)
    v = fn(xs, **kw)
    v = v[0] if isinstance(v, tuple) else v
    return "same" if v.shape == xs.shape else (x.shape[0],) + v.shape[1:]


def _make(spec: LossSpec):
    fn = FUNCTIONS[spec.name]
    P = inspect.Parameter
    base = inspect.signature(fn)
    params = [p for n, p in base.parameters.items() if n not in ("out", "return_hessian")]
    params.append(P("split_every", P.KEYWORD_ONLY, default=8))
    sig = base.replace(parameters=params)

    def loss(*args, **kwargs):
        return _call(spec, fn, sig, args, kwargs)

    loss.__name__ = loss.__qualname__ = spec.name
    loss.__module__ = "fastloss.dask"
    loss.__signature__ = sig  # type: ignore[attr-defined]
    loss.__doc__ = _docs.dask_docstring(spec)
    return loss


globals().update({spec.name: _make(spec) for spec in LOSSES})
