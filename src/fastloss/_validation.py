"""Input checking and coercion, done once in Python before any kernel runs.

Every error names the argument it is about. Kernels trust what leaves here:
C-contiguous, native byte order, float32/float64, matching shapes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._registry import LossSpec, Param


def _describe(dtype: np.dtype) -> str:
    return str(dtype) if dtype.isnative else f"{dtype} (non-native byte order)"


def as_float_input(a: object, name: str) -> np.ndarray:
    """The input as a C-contiguous native float32/float64 array (no copy if it is one)."""
    arr = np.asarray(a)
    dt = arr.dtype
    if dt.kind != "f" or dt.itemsize not in (4, 8):
        if dt.kind == "c":
            raise TypeError(f"{name} must be real floating point, got complex dtype {dt}")
        if dt.kind == "f":
            raise TypeError(
                f"{name} has dtype {dt}; fastloss computes in float32 or float64: "
                f"convert it with {name}.astype(np.float32)"
            )
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {_describe(dt)}")
    return np.asarray(arr, dtype=dt.newbyteorder("="), order="C")


def as_real_like(a: object, name: str, like: np.ndarray) -> np.ndarray:
    """A real-valued array converted to ``like``'s dtype, with ``like``'s shape."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {_describe(arr.dtype)}")
    if arr.shape != like.shape:
        raise ValueError(f"{name} has shape {arr.shape}, but input has shape {like.shape}")
    return np.asarray(arr, dtype=like.dtype, order="C")


def as_sample_weight(a: object, like: np.ndarray) -> np.ndarray:
    """Per-row weights: float64, shape (input.shape[0],), finite and non-negative."""
    if like.ndim == 0:
        raise ValueError("sample_weight needs an input with at least one dimension")
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be real numeric, got dtype {_describe(arr.dtype)}")
    if arr.shape != like.shape[:1]:
        raise ValueError(
            f"sample_weight must have shape ({like.shape[0]},) (one weight per row of input), "
            f"got shape {arr.shape}"
        )
    arr = np.asarray(arr, dtype=np.float64, order="C")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    return arr


def check_out(out: object, like: np.ndarray) -> np.ndarray:
    """Check the preallocated gradient buffer against the input."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != like.dtype:
        raise TypeError(f"out has dtype {_describe(out.dtype)}, but the gradient has dtype {like.dtype}")
    if out.shape != like.shape:
        raise ValueError(f"out has shape {out.shape}, but input has shape {like.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    return out


def separate_from_out(out: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """``arr``, copied if the kernel would read it after writing ``out`` over it.

    Element i of every array is read before grad[i] is written, so ``out``
    being exactly ``arr`` (same start, same layout) is safe; any other overlap
    is not.
    """
    if not np.may_share_memory(out, arr):
        return arr
    same = (
        out.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
        and out.strides == arr.strides
        and out.dtype.itemsize == arr.dtype.itemsize
    )
    return arr if same else arr.copy()


def check_reduction(reduction: object, spec: LossSpec) -> str:
    if not isinstance(reduction, str) or reduction not in spec.reductions:
        raise ValueError(f"reduction must be one of {spec.reductions}, got {reduction!r}")
    return reduction


def check_param(p: Param, value: object) -> float:
    """A loss parameter as the float the kernel takes; bools become 0.0/1.0."""
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
