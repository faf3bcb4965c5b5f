"""Input checking and coercion, done once in Python before any kernel runs.

Every error names the argument it is about. Kernels trust what leaves here:
C-contiguous, native byte order, float32/float64, matching shapes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _fastpath
from ._registry import LossSpec, Param


def as_array(a: object, name: str) -> np.ndarray:
    """``np.asarray(a)``, with an error that names the argument when NumPy cannot
    make an array of it (ragged nested lists, a torch bfloat16 tensor ...)."""
    try:
        return np.asarray(a)
    except (ValueError, TypeError, RuntimeError) as e:
        err = ValueError if isinstance(e, ValueError) else TypeError
        raise err(_torch_tensor_advice(a, name) or
                  f"{name} cannot be converted to a NumPy array: {e}") from None


def _torch_tensor_advice(a: object, name: str) -> str | None:
    """What to do with a torch tensor that NumPy cannot take (read without importing
    torch: its type's module says what it is)."""
    if type(a).__module__.partition(".")[0] != "torch" or not hasattr(a, "device"):
        return None
    device, dtype = getattr(a, "device"), getattr(a, "dtype", None)
    if getattr(device, "type", "cpu") != "cpu":
        return (f"{name} is a torch tensor on device '{device}'; fastloss computes on the CPU: "
                f"pass {name}.cpu(), or call fastloss.torch's loss of the same name")
    if str(dtype) in ("torch.bfloat16", "torch.float16"):
        return (f"{name} is a torch tensor of dtype {dtype}; fastloss computes in float32 or "
                f"float64: pass {name}.float()")
    if getattr(a, "requires_grad", False):
        return (f"{name} is a torch tensor that requires grad: pass {name}.detach(), or call "
                "fastloss.torch's loss of the same name to differentiate through autograd")
    return None


def _aligned(arr: np.ndarray) -> np.ndarray:
    """``arr``, copied if its elements are not aligned (a buffer received over a
    network can start at any byte): the kernels load whole elements, and vectors
    of them."""
    return arr if arr.flags.aligned else arr.copy(order="K")


def _describe(dtype: np.dtype) -> str:
    return str(dtype) if dtype.isnative else f"{dtype} (non-native byte order)"


def as_float_input(a: object, name: str) -> np.ndarray:
    """The input as a C-contiguous native float32/float64 array (no copy if it is one)."""
    arr = _float_array(a, name)
    return _aligned(np.asarray(arr, dtype=arr.dtype.newbyteorder("="), order="C"))


def as_float_matrix(a: object, name: str, binary_input: bool = False,
                    shapes: tuple[str, ...] = ()) -> np.ndarray:
    """An (N, C) float32/float64 array of any strides (copied only if its byte
    order is not native or a stride is not a multiple of the item size).
    ``binary_input``: an (N,) array is taken as N rows of one binary logit.
    ``shapes`` admits more (returned as they are): "unbatched" a (C,) row,
    "scalar" a 0-d score, "spatial" (N, C, d1, ..., dk)."""
    arr = _float_array(a, name)
    if binary_input and arr.ndim == 1:
        arr = arr[:, None]
    ok = (arr.ndim == 2 or arr.ndim == 1 and "unbatched" in shapes
          or arr.ndim == 0 and "scalar" in shapes or arr.ndim > 2 and "spatial" in shapes)
    if not ok:
        also = ([" or 1-D (N,)"] if binary_input else []) + [
            {"unbatched": " or (C,) (one unbatched row)", "scalar": " or 0-d (one score)",
             "spatial": " or (N, C, d1, ..., dk) (a class score per position)"}[k] for k in shapes]
        raise ValueError(f"{name} must be 2-D (N, C){''.join(also)}, got shape {arr.shape}")
    if arr.ndim > 2 and arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: its class axis (axis 1) is empty")
    if not arr.dtype.isnative or any(st % arr.itemsize for st in arr.strides):
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
    return _aligned(arr)


def _float_array(a: object, name: str) -> np.ndarray:
    arr = as_array(a, name)
    dt = arr.dtype
    if dt.kind != "f" or dt.itemsize not in (4, 8):
        if dt.kind == "c":
            raise TypeError(f"{name} must be real floating point, got complex dtype {dt}")
        if dt.kind in "fbiu" or dt.name == "bfloat16":
            # float16, long double, bfloat16 (ml_dtypes), integer or bool predictions
            to = "np.float64" if dt.kind == "f" and dt.itemsize > 8 else "np.float32"
            raise TypeError(
                f"{name} has dtype {_describe(dt)}; fastloss computes in float32 or float64: "
                f"convert it with {name}.astype({to})"
            )
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {_describe(dt)}")
    return arr


def check_range(x: np.ndarray, name: str, low: float, high: float) -> None:
    """ValueError if an element of x lies outside [low, high] (NaN passes)."""
    if x.size and (x.min() < low or x.max() > high):
        raise ValueError(f"{name} must lie in [{low}, {high}] (e.g. probabilities), "
                         f"got values in [{x.min()}, {x.max()}]")


def as_class_target(a: object, x_shape: tuple, n_classes: int, ignore_index: int | None,
                    accepts_prob: bool = False, rows_shape: tuple | None = None) -> np.ndarray:
    """Class indices of any integer dtype as int64, every one in [0, n_classes) or
    equal to ``ignore_index``; checked in the original dtype, before any conversion
    could wrap a value (a uint64 above 2**63, 2**40 in int64). The shape must be
    ``rows_shape`` (default (N,), N = x_shape[0]); ``x_shape`` (the input's) and
    ``accepts_prob`` (probability rows are the loss's other target) only shape the
    advice of the errors."""
    arr = as_array(a, "target")
    rows_shape = (x_shape[0],) if rows_shape is None else tuple(rows_shape)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int8)
    one_hot = arr.shape == tuple(x_shape) and len(x_shape) == 2 and x_shape[1] > 1
    prob = " (or target.astype(input.dtype) as class probabilities)" if accepts_prob else ""
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and one_hot:
            advice = "one-hot or probability rows take their class indices: target.argmax(axis=1)"
        elif arr.dtype.kind == "f":
            advice = "convert whole-number labels with target.astype(np.int64)"
            if accepts_prob:
                advice += f"; class probabilities need the input's shape {tuple(x_shape)}"
        else:
            advice = "class indices are integers"
        raise TypeError(f"target must hold integer class indices (any integer dtype), got dtype "
                        f"{_describe(arr.dtype)}: {advice}")
    if arr.shape != rows_shape:
        hint = (f": one-hot rows take their class indices with target.argmax(axis=1){prob}"
                if one_hot else "")
        if len(x_shape) > 2:
            hint = (f" (the input's shape without its class axis 1: one index per position)"
                    f"{'; probability targets need the input shape ' + str(tuple(x_shape)) if accepts_prob else ''}")
        elif len(x_shape) < 2:
            hint = " (a 0-d index: the input is one unbatched row)"
        raise ValueError(f"target of class indices must have shape {rows_shape}, got shape "
                         f"{arr.shape}{hint}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = (arr < 0) | (arr >= n_classes)
        if ignore_index is not None:
            bad &= arr != ignore_index
        if bad.any():
            i = np.unravel_index(int(np.flatnonzero(bad)[0]), arr.shape)
            at = "" if not i else f"[{', '.join(str(int(k)) for k in i)}]"
            extra = "" if ignore_index is None else f" and is not ignore_index={ignore_index}"
            raise ValueError(f"target{at} = {arr[i]} is not a class index in [0, {n_classes}){extra}")
    return _aligned(np.ascontiguousarray(arr, dtype=np.int64))


def as_index_rows(a: object, x_shape: tuple, n_classes: int) -> np.ndarray:
    """Rows of class indices (multilabel_margin_loss's target): integers of the input's
    shape, each row's list ending at its first negative entry (-1 by convention);
    every entry before it in [0, n_classes). int64, C-contiguous."""
    arr = as_array(a, "target")
    if arr.dtype.kind not in "iu":
        advice = ("rows of 0/1 labels take their class lists with e.g. "
                  "np.where(y, np.arange(C), -1) sorted so that the -1 come last"
                  if arr.dtype.kind in "fb" else "class indices are integers")
        raise TypeError(f"target must hold integer class indices (any integer dtype), got dtype "
                        f"{_describe(arr.dtype)}: {advice}")
    if arr.shape != tuple(x_shape):
        raise ValueError(f"target must have the input's shape {tuple(x_shape)} (each row: class "
                         f"indices, then -1), got shape {arr.shape}")
    rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim else arr.reshape(1, 1)
    if rows.size and rows.max() >= n_classes:
        neg = rows < 0
        first = np.where(neg.any(axis=1), neg.argmax(axis=1), rows.shape[1])
        bad = (np.arange(rows.shape[1]) < first[:, None]) & (rows >= n_classes)
        if bad.any():
            i = np.unravel_index(int(np.flatnonzero(bad)[0]), arr.shape)
            at = ", ".join(str(int(k)) for k in i)
            raise ValueError(f"target[{at}] = {arr[i]} is not a class index in [0, {n_classes}) "
                             f"(a row's list of classes ends at its first -1)")
    return _aligned(np.ascontiguousarray(arr, dtype=np.int64))


def as_binary_target(a: object, n_rows: int) -> np.ndarray:
    """Float 0/1 targets of binary logits ((N,) or (N, 1)) as class indices 0 / 1."""
    arr = as_array(a, "target")
    if arr.shape not in ((n_rows,), (n_rows, 1)):
        raise ValueError(f"target of binary logits must have shape ({n_rows},), got shape "
                         f"{arr.shape}")
    arr = arr.reshape(-1)
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"target[{i}] = {arr[i]}: binary targets must be 0 or 1 (threshold soft "
                         "targets first, e.g. target > 0.5)")
    return _aligned(arr.astype(np.int64))


def as_class_vector(a: object, name: str, n: int, domain: str = "nonnegative") -> np.ndarray:
    """A per-class vector: shape (n,) (or one value, broadcast), float64, finite,
    non-negative; ``domain="distribution"`` also needs it to sum to 1."""
    arr = as_array(a, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numeric, got dtype {_describe(arr.dtype)}: "
                        f"convert it with {name}.astype(np.float64)")
    if arr.shape != (n,):
        if arr.size != 1 or arr.ndim > 1:
            raise ValueError(f"{name} must have shape ({n},) (one value per class, the input's "
                             f"last axis), got shape {arr.shape}")
        arr = np.broadcast_to(arr.reshape(()), (n,))
    arr = _aligned(np.ascontiguousarray(arr, dtype=np.float64))
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    if domain == "distribution" and n and abs(arr.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1 (a distribution over the classes), sums to {arr.sum()}")
    return arr


def _real_broadcastable(a: object, name: str, like: np.ndarray, convert: str,
                        advice: str = "") -> np.ndarray:
    """``a`` as a real numeric array whose shape broadcasts to ``like``'s (a TypeError
    or ValueError naming ``name`` otherwise; ``convert`` the dtype its advice names)."""
    arr = as_array(a, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numeric, got dtype {_describe(arr.dtype)}: "
                        f"convert it with {name}.astype({convert})")
    try:
        ok = np.broadcast_shapes(arr.shape, like.shape) == like.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} of shape {arr.shape} does not broadcast to the input's shape "
                         f"{like.shape}{advice}")
    return arr


def as_element_weight(a: object, name: str, like: np.ndarray) -> np.ndarray:
    """A weight per element of ``like``: any shape that broadcasts to its shape
    (as PyTorch's weight), float64 of that shape, finite and non-negative."""
    arr = _real_broadcastable(a, name, like, "np.float64",
                              f": give one weight per class ({like.shape[-1:]}), per element, "
                              f"or a shape that broadcasts (e.g. (N, 1) per row)")
    arr = np.ascontiguousarray(np.broadcast_to(np.asarray(arr, dtype=np.float64), like.shape))
    if _fastpath.weight_max(arr.reshape(-1)) < 0:
        raise ValueError(f"{name} must be finite and non-negative")
    return _aligned(arr)


def as_real_like(a: object, name: str, like: np.ndarray, like_name: str = "input",
                 shape: bool = True) -> np.ndarray:
    """A real-valued array converted to ``like``'s dtype, C-contiguous, with ``like``'s
    shape (``shape=False``: any shape)."""
    arr = as_array(a, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {_describe(arr.dtype)}: "
                        f"convert it with {name}.astype({like_name}.dtype)")
    if shape and arr.shape != like.shape:
        raise ValueError(f"{name} has shape {arr.shape}, but {like_name} has shape {like.shape}")
    return _aligned(np.asarray(arr, dtype=like.dtype, order="C"))


def as_sample_weight(a: object, like: np.ndarray, pow2: bool = False) -> np.ndarray:
    """Per-row weights: float64, shape (input.shape[0],), finite and non-negative; with
    ``pow2``, scaled as ``pow2_normalized`` does (by the maximum of the same pass)."""
    if like.ndim == 0:
        raise ValueError("sample_weight needs an input with at least one dimension")
    arr = as_array(a, "sample_weight")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be real numeric, got dtype {_describe(arr.dtype)}: "
                        "convert it with sample_weight.astype(np.float64)")
    if arr.shape != like.shape[:1]:
        raise ValueError(
            f"sample_weight must have shape ({like.shape[0]},) (one weight per row of input), "
            f"got shape {arr.shape}"
        )
    arr = _aligned(np.asarray(arr, dtype=np.float64, order="C"))
    m = _fastpath.weight_max(arr)
    if m < 0:
        raise ValueError("sample_weight must be finite and non-negative")
    return _pow2_scaled(arr, m) if pow2 else arr


def pow2_normalized(w: np.ndarray) -> np.ndarray:
    """``w`` times the power of two that puts its largest entry in [0.5, 1).

    For a weighted mean, sum(w l) / sum(w), that scaling is exact and changes
    nothing, except that sum(w) can no longer be subnormal (1 / sum(w) was inf,
    and so was the gradient, for sample_weight=[5e-324]: found by tools/fuzz.py)
    or overflow to inf (weights near the float maximum).
    """
    return _pow2_scaled(w, _fastpath.weight_max(w.reshape(-1)))


def _pow2_scaled(w: np.ndarray, m: float) -> np.ndarray:
    # m: the largest weight (<= 0: none positive, or an invalid vector checked elsewhere)
    if m <= 0.0:
        return w
    e = math.frexp(m)[1]
    return np.ldexp(w, -e) if e else w


def check_out(out: object, like: np.ndarray, name: str = "out",
              like_name: str = "input") -> np.ndarray:
    """Check a preallocated gradient buffer ``name`` against the array it is the
    gradient of (``like``, called ``like_name`` in the errors)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != like.dtype:
        raise TypeError(f"{name} has dtype {_describe(out.dtype)}, but the gradient has dtype "
                        f"{like.dtype}: allocate it with np.empty_like({like_name})")
    if out.shape != like.shape:
        raise ValueError(f"{name} has shape {out.shape}, but {like_name} has shape {like.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.aligned:
        raise ValueError(f"{name}'s elements are not aligned in memory: pass a NumPy-allocated "
                         f"buffer, e.g. np.empty_like({like_name})")
    return out


def check_outs(out: object, like: np.ndarray, hessian: bool) -> tuple:
    """The (grad, hess) buffers of ``out=``: (None, None) without ``out``; a pair
    (both checked, not overlapping each other) implies the Hessian, a single
    buffer is the gradient's, and ``hessian`` asks for the Hessian, so that a
    buffer of it is then allocated here if ``out`` gives none."""
    if out is None:
        return None, (np.empty_like(like) if hessian else None)
    if isinstance(out, tuple):
        if len(out) != 2:
            raise TypeError(f"out must be one gradient buffer, or a pair (grad, hess) of "
                            f"buffers, got a tuple of {len(out)}")
        grad = check_out(out[0], like, "out[0]")
        hess = check_out(out[1], like, "out[1]")
        if np.may_share_memory(grad, hess):
            raise ValueError("out[0] (the gradient's buffer) and out[1] (the Hessian's) overlap: "
                             "pass two separate arrays, e.g. np.empty_like(input) twice")
        return grad, hess
    if hessian:
        raise ValueError("return_hessian=True with out= needs a pair of buffers: "
                         "out=(grad, hess), e.g. (np.empty_like(input), np.empty_like(input))")
    return check_out(out, like), None


def separate_from_out(out: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """``arr``, copied if the kernel would read it after writing ``out`` over it.

    ``out`` being exactly ``arr`` (same start, same layout) is safe: the row-wise
    kernels read element i before they write grad[i], and the pointwise ones then
    stage each chunk's gradient in a buffer of their own. Any other overlap is not.
    """
    if not np.may_share_memory(out, arr):
        return arr
    same = (
        out.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
        and out.strides == arr.strides
        and out.dtype.itemsize == arr.dtype.itemsize
    )
    return arr if same else arr.copy()


def apart_from(bufs: tuple, arr: object) -> object:
    """``arr`` (an array the kernel reads, or None), copied if it shares memory with
    any of ``bufs``, even as the buffer itself. The pointwise kernels write through
    restrict-qualified pointers (without them their loops vectorise badly), so nothing
    they read may alias what they write."""
    if isinstance(arr, np.ndarray) and any(np.may_share_memory(arr, b) for b in bufs):
        return arr.copy()
    return arr


def check_reduction(reduction: object, spec: LossSpec) -> str:
    if not isinstance(reduction, str) or reduction not in spec.reductions:
        raise ValueError(f"reduction must be one of {spec.reductions}, got {reduction!r}")
    return reduction


def check_flag(name: str, value: object) -> bool:
    """A bool option (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_param(p: Param, value: object) -> float | int:
    """A loss parameter as the number the kernel takes; bools become 0.0/1.0."""
    if p.type is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{p.name} must be an int, got {type(value).__name__}")
        i = int(value)
        ok = -(2**63) <= i < 2**63 and (not p.choices or i in p.choices)
        ok = ok and (p.low is None or i >= p.low) and (p.high is None or i <= p.high)
        if not ok:
            allowed = f"one of {p.choices}" if p.choices else f"an int in {p.bounds_text()}"
            raise ValueError(f"{p.name} must be {allowed}, got {value!r}")
        return i
    if p.type is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{p.name} must be a bool, got {type(value).__name__}")
        return 1.0 if value else 0.0
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{p.name} must be a real number, got {type(value).__name__}")
    v = float(value)
    ok = math.isfinite(v)
    if ok and p.low is not None:
        ok = v > p.low if p.low_open else v >= p.low
    if ok and p.high is not None:
        ok = v < p.high if p.high_open else v <= p.high
    if not ok:
        raise ValueError(f"{p.name} must be finite and in {p.bounds_text()}, got {value!r}")
    return v


def shared_axes(shape: tuple, x_shape: tuple, name: str) -> tuple[int, ...]:
    """The axes of ``x_shape`` along which an input of ``shape`` is shared (PyTorch's
    homoscedastic var): () for x_shape itself; the last axis for x_shape without it;
    axis k for x_shape with a 1 at k; every axis for a scalar (torch takes a float
    var). Any other shape is a ValueError naming ``name``."""
    shape, x_shape = tuple(shape), tuple(x_shape)
    if shape == x_shape:
        return ()
    if not shape:
        return tuple(range(len(x_shape)))
    if x_shape and shape == x_shape[:-1]:
        return (len(x_shape) - 1,)
    if len(shape) == len(x_shape):
        diff = [k for k, (a, b) in enumerate(zip(shape, x_shape)) if a != b]
        if len(diff) == 1 and shape[diff[0]] == 1:
            return (diff[0],)
    raise ValueError(f"{name} has shape {shape}, but input has shape {x_shape}: {name} needs "
                     f"the input's shape, that shape without its last axis {x_shape[:-1]}, a 1 "
                     f"in place of one axis (one {name} shared along it), or one value")


def expand_shared(v: np.ndarray, x_shape: tuple, axes: tuple[int, ...]) -> np.ndarray:
    """``v`` (shared along ``axes``, as shared_axes says) broadcast to ``x_shape`` (a view)."""
    keep = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return np.broadcast_to(np.reshape(v, keep), x_shape)


def as_broadcast_like(a: object, name: str, like: np.ndarray) -> np.ndarray:
    """A real array in ``like``'s dtype, broadcast (a view) to ``like``'s shape."""
    arr = _real_broadcastable(a, name, like, "input.dtype")
    arr = _aligned(np.asarray(arr, dtype=like.dtype.newbyteorder("=")))
    return np.broadcast_to(arr, like.shape)


def check_multi_outs(out: object, likes: list, names: tuple) -> list:
    """The gradient buffers of a loss with several inputs: ``out`` a tuple of one
    buffer per input, in signature order, each checked against its input and none
    overlapping another."""
    k = len(names)
    if not isinstance(out, tuple) or len(out) != k:
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else type(out).__name__
        raise TypeError(f"out must be a tuple of {k} gradient buffers ({', '.join(names)}, in "
                        f"that order), got {got}")
    bufs = [check_out(o, like, f"out[{i}]", n) for i, (o, like, n) in enumerate(zip(out, likes, names))]
    for i in range(k):
        for j in range(i):
            if np.may_share_memory(bufs[i], bufs[j]):
                raise ValueError(f"out[{j}] and out[{i}] overlap: pass separate arrays, e.g. "
                                 f"np.empty_like({names[j]}) and np.empty_like({names[i]})")
    return bufs


def as_row_labels(a: object, like: np.ndarray) -> np.ndarray:
    """One real label per row of ``like`` ((N, D): shape (N,); a (D,) row: 0-d), as
    float64, C-contiguous."""
    arr = as_array(a, "target")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"target must be real numeric (1 or -1 per row), got dtype "
                        f"{_describe(arr.dtype)}")
    want = like.shape[:-1]
    if arr.shape != want:
        what = "a 0-d label: the inputs are one unbatched row" if not want else "one label per row"
        raise ValueError(f"target must have shape {want} ({what}), got shape {arr.shape}")
    return _aligned(np.ascontiguousarray(arr, dtype=np.float64))


def check_nonnegative(arr: np.ndarray, name: str) -> None:
    """ValueError naming the first negative entry of ``arr`` (NaN passes)."""
    neg = arr < 0
    if neg.any():
        i = np.unravel_index(int(np.argmax(neg)), arr.shape)
        at = f"[{', '.join(str(int(k)) for k in i)}]" if i else ""
        raise ValueError(f"{name} has a negative entry: {name}{at} = {arr[i]}; it must be >= 0")
