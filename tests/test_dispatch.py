"""Runtime ISA dispatch: every built level gives bit-identical losses and gradients."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss
from fastloss import _dispatch, reference
from fastloss._data import make_arrays

LEVELS = _dispatch.AVAILABLE_LEVELS
POINTWISE = [s for s in fastloss.REGISTRY.values() if s.kind == "pointwise"]


def test_level_is_the_best_available():
    assert _dispatch.SIMD_LEVEL in _dispatch.LEVELS
    if not os.environ.get("FASTLOSS_SIMD"):
        assert _dispatch.SIMD_LEVEL == LEVELS[0]
    assert "baseline" in LEVELS


@pytest.mark.parametrize("cap", ["baseline", "avx2"])
def test_env_caps_the_level(cap):
    code = "import fastloss._dispatch as d; print(d.SIMD_LEVEL)"
    env = dict(os.environ, FASTLOSS_SIMD=cap)
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    allowed = _dispatch.LEVELS[_dispatch.LEVELS.index(cap):]
    assert got in allowed and got in LEVELS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", POINTWISE, ids=lambda s: s.name)
def test_levels_bit_identical(spec, dtype):
    n = 20_011
    arrays = make_arrays(spec, (n,), dtype, seed=3)
    results = {}
    for level in LEVELS:
        mod = _dispatch.load_level("_pointwise", level)
        kernel = getattr(mod, f"{spec.name}_{'f32' if dtype == np.float32 else 'f64'}")
        for case in spec.cases():
            args = [float(v) for v in case.values()]
            g = np.empty_like(arrays[0])
            lo = np.empty_like(arrays[0])
            v = kernel(*arrays, g, lo, None, 1, 1.0 / n, 2, *args)
            results.setdefault(str(case), []).append((level, v, g.tobytes(), lo.tobytes()))
    for case, rs in results.items():
        for level, v, g, lo in rs[1:]:
            assert (v, g, lo) == rs[0][1:], (case, level, rs[0][0])


@pytest.mark.parametrize("spec", [fastloss.REGISTRY[n] for n in ("poisson_nll_loss", "log_cosh_loss")],
                         ids=lambda s: s.name)
def test_transcendental_float32_accuracy(spec):
    """float32 data computed in float64 with the polynomial math: value within 1e-6
    relative of the float64 reference, gradient elements within 1 ulp of float32."""
    x, y = make_arrays(spec, (200_003,), np.float32, seed=5)
    for case in spec.cases():
        v, g = getattr(fastloss, spec.name)(x, y, return_grad=True, **case)
        rv, rg = reference.__dict__[spec.name](x, y, **case)
        assert abs(v - rv) <= 1e-6 * abs(rv)
        # The float64 reference gradient rounded to float32 is the best float32 answer.
        err = np.abs(g.astype(np.float64) - rg) / np.spacing(np.abs(rg.astype(np.float32))).astype(np.float64)
        assert err.max() <= 1.0, (case, err.max())
