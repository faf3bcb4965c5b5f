"""Shared pieces of the test battery: the cases it runs and how it compares."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._data import make_arrays
from fastloss._registry import LOSSES, LossSpec

# Relative tolerance of a fastloss result against the float64 reference.
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
DTYPES = (np.float32, np.float64)


def _fmt(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def loss_params(*, reductions=False, weights=False, all_params=True, torch_only=False):
    """pytest params for every loss and every parameter case it supports.

    Yields ``(spec, params)``, extended by ``reduction`` and/or ``weighted``
    when asked; only combinations the loss supports are generated.
    """
    out = []
    for spec in LOSSES:
        if torch_only and spec.torch is None:
            continue
        cases = spec.cases() if all_params else [spec.defaults]
        for params in cases:
            for red in (spec.reductions if reductions else [None]):
                for w in ((False, True) if weights and spec.sample_weight else (False,)):
                    values = [spec, params] + ([red] if reductions else []) + ([w] if weights else [])
                    ident = f"{spec.name}[{_fmt(params)}]" + (f"-{red}" if reductions else "")
                    ident += "-weighted" if w else ""
                    out.append(pytest.param(*values, id=ident))
    return out


def specs(*, with_target=False):
    return [pytest.param(spec, id=spec.name) for spec in LOSSES
            if not with_target or spec.target != "none"]


def public(spec: LossSpec):
    return getattr(fastloss, spec.name)


def ref(spec: LossSpec):
    return getattr(reference, spec.name)


def arrays_for(spec: LossSpec, shape, dtype, seed=0):
    return make_arrays(spec, shape, dtype, seed=seed)


def as64(arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def assert_close(value, grad, ref_value, ref_grad, dtype):
    """Value within rtol; each gradient element within rtol of the largest one."""
    rtol = RTOL[np.dtype(dtype)]
    ref_value = np.asarray(ref_value, dtype=np.float64)
    np.testing.assert_allclose(np.asarray(value, dtype=np.float64), ref_value, rtol=rtol,
                               atol=rtol * (np.max(np.abs(ref_value), initial=0.0)))
    if grad is not None:
        assert grad.dtype == np.dtype(dtype)
        scale = np.max(np.abs(ref_grad), initial=0.0)
        np.testing.assert_allclose(grad.astype(np.float64), ref_grad, rtol=rtol,
                                   atol=rtol * scale)


def weights_for(spec: LossSpec, n_rows: int, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0, n_rows) if spec.sample_weight else None
