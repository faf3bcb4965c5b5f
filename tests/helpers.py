"""Shared pieces of the test battery: the cases it runs and how it compares."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._data import make_arrays, make_class_vectors
from fastloss._registry import LOSSES, LossSpec

#: The losses of one differentiable input, which the generic battery runs; those of
#: several (LossSpec.multi_input) have theirs in test_multi_input.py.
SINGLE_INPUT = [s for s in LOSSES if not s.multi_input]
MULTI_INPUT = [s for s in LOSSES if s.multi_input]

# Relative tolerance of a fastloss result against the float64 reference.
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
DTYPES = (np.float32, np.float64)


def _fmt(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


class ClassVector:
    """Placeholder in a parameter case for a per-class vector parameter (class
    weights, pos_weight ...): ``resolve`` turns it into an array of the right
    length for the input at hand."""

    def __repr__(self):
        return "vector"


def cases(spec: LossSpec) -> list[dict]:
    """The spec's parameter cases plus one per optional per-class vector parameter."""
    return spec.cases() + [{**spec.defaults, a.name: ClassVector()}
                           for a in spec.array_params if not a.required]


def resolve(spec: LossSpec, params: dict, x) -> dict:
    """``params`` with every ClassVector replaced by an array of x.shape[-1] entries."""
    n = np.shape(x)[-1] if np.ndim(x) else 1
    vectors = make_class_vectors(spec, n, seed=11)
    return {k: vectors[k] if isinstance(v, ClassVector) else v for k, v in params.items()}


def loss_params(*, reductions=False, weights=False, all_params=True, torch_only=False,
                differentiable=True):
    """pytest params for every loss and every parameter case it supports.

    Yields ``(spec, params)``, extended by ``reduction`` and/or ``weighted``
    when asked; only combinations the loss supports are generated.
    ``all_params=False``: the defaults and the per-class vector cases only. Metrics (no
    gradient) only with ``differentiable=False``.
    """
    out = []
    for spec in SINGLE_INPUT:
        if torch_only and spec.torch is None:
            continue
        if spec.differentiable != differentiable:
            continue
        cases_ = cases(spec) if all_params else [c for c in cases(spec) if c == spec.defaults
                                                 or any(isinstance(v, ClassVector) for v in c.values())]
        for params in cases_:
            for red in (spec.reductions if reductions else [None]):
                for w in ((False, True) if weights and spec.sample_weight else (False,)):
                    values = [spec, params] + ([red] if reductions else []) + ([w] if weights else [])
                    ident = f"{spec.name}[{_fmt(params)}]" + (f"-{red}" if reductions else "")
                    ident += "-weighted" if w else ""
                    out.append(pytest.param(*values, id=ident))
    return out


def specs(*, with_target=False, differentiable=None, targets=None, kinds=None):
    """pytest params of the single-input specs; filters: has a target, is differentiable (None:
    either), target kind in ``targets``, kind in ``kinds``."""
    return [pytest.param(spec, id=spec.name) for spec in SINGLE_INPUT
            if (not with_target or spec.target != "none")
            and (differentiable is None or spec.differentiable == differentiable)
            and (targets is None or spec.target in targets)
            and (kinds is None or spec.kind in kinds)]


def evaluate(spec: LossSpec, *args, **kw):
    """``(value, grad)`` of the public function; grad is None for a metric."""
    if spec.differentiable:
        return public(spec)(*args, return_grad=True, **kw)
    return public(spec)(*args, **kw), None


def none_shape(spec: LossSpec, x) -> tuple:
    """Shape of the reduction="none" value: the input's, or (N,) for rowwise losses."""
    return np.shape(x)[:1] if spec.kind == "rowwise" else np.shape(x)


def strided(arrays):
    """Non-contiguous views equal to ``arrays``: every array of the input's shape
    becomes every other column of a twice wider buffer; others are kept."""
    out = []
    for a in arrays:
        if a.shape == arrays[0].shape and a.ndim == 2:
            buf = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
            buf[:, ::2] = a
            a = buf[:, ::2]
        out.append(a)
    return out


def nan_site(spec: LossSpec, arrays, flat_index: int):
    """Where a NaN is put in the input, and the region of the gradient it may
    reach: the element (pointwise) or its row (rowwise, in the target's column
    for class targets, the only one every rowwise loss reads)."""
    x = arrays[0]
    if spec.kind != "rowwise":
        idx = np.unravel_index(flat_index, x.shape)
        return idx, idx
    row = flat_index // x.shape[1]
    col = int(arrays[1][row]) if arrays[1].ndim == 1 else flat_index % x.shape[1]
    return (row, col), (row,)


def public(spec: LossSpec):
    return getattr(fastloss, spec.name)


def ref(spec: LossSpec):
    return getattr(reference, spec.name)


def arrays_for(spec: LossSpec, shape, dtype, seed=0):
    return make_arrays(spec, shape, dtype, seed=seed)


def as64(arrays):
    """Float arrays as float64; integer arrays (class indices) as they are."""
    return [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a
            for a in arrays]


def assert_close(value, grad, ref_value, ref_grad, dtype):
    """Value (each element, with reduction="none") within rtol of the largest one, and
    each gradient element too, or within the spacing of the dtype's subnormals (a
    float32 result of ~1e-41 holds only ~4 digits: hypothesis found a gradient 7e-5 off
    and a softmax_focal_loss value 2e-5 off, under half a unit of their last place)."""
    rtol = RTOL[np.dtype(dtype)]
    tiny = float(np.finfo(dtype).smallest_subnormal)
    ref_value = np.asarray(ref_value, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(value, dtype=np.float64), ref_value, rtol=rtol,
                               atol=max(rtol * np.max(np.abs(ref_value), initial=0.0), tiny))
    if grad is not None:
        assert grad.dtype == np.dtype(dtype)
        scale = np.max(np.abs(ref_grad), initial=0.0)
        np.testing.assert_allclose(grad.astype(np.float64), ref_grad, rtol=rtol,
                                   atol=max(rtol * scale, tiny))


def weights_for(spec: LossSpec, n_rows: int, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0, n_rows) if spec.sample_weight else None


def torchvision_sigmoid_focal(x, y, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss (torch tensors in, as torchvision writes it)."""
    import torch
    import torch.nn.functional as F

    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def smooth_binary(y, s):
    """Keras's binary label smoothing, written out: y (1 - s) + s / 2."""
    return y * (1 - s) + 0.5 * s


def torch_equivalent(spec: LossSpec, arrays: list, params: dict) -> tuple[list, dict]:
    """The arrays and parameters of the PyTorch call that equals fastloss's: each
    parameter PyTorch lacks (Param.torch False) applied to the arrays by its definition."""
    arrays, params = list(arrays), dict(params)
    for p in spec.params:
        if not p.torch:
            value = params.pop(p.name)
            if p.name != "label_smoothing":
                raise NotImplementedError(f"no PyTorch form of {spec.name}'s {p.name}")
            arrays[1] = smooth_binary(arrays[1], value)
    return arrays, params
