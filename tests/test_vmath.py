"""Accuracy of the polynomial math in _vmath.h, in every ISA build that this CPU runs.

The reference is mpmath-free: float64 results are compared with the same
function evaluated in extended precision (np.longdouble, 80-bit on x86-64),
over arguments that span every binade plus the special values.
"""

import numpy as np
import pytest

from fastloss import _dispatch

LEVELS = _dispatch.AVAILABLE_LEVELS
HAVE_LD = np.finfo(np.longdouble).nmant > 52

# function -> (reference in long double, argument domain, max ulp allowed)
FUNCS = {
    "exp": (np.exp, (-760.0, 720.0), 1.5),
    "expm1": (np.expm1, (-60.0, 720.0), 2.5),
    "log": (np.log, None, 1.5),
    "log1p": (np.log1p, None, 2.5),
    "tanh": (np.tanh, (-30.0, 30.0), 3.0),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-750.0, 750.0), 3.0),
    "log1pexp": (lambda x: np.logaddexp(np.longdouble(0), x), (-750.0, 750.0), 3.0),
}


def _args(name, rng):
    parts = [rng.uniform(-1, 1, 200_000) * np.exp2(rng.integers(-1074, 1024, 200_000))]
    dom = FUNCS[name][1]
    if dom is not None:
        parts.append(rng.uniform(*dom, 200_000))
    parts.append(rng.uniform(-3, 3, 100_000))
    parts.append(rng.uniform(-1e-6, 1e-6, 20_000))
    x = np.concatenate(parts)
    x = x[np.isfinite(x)]
    if name == "log":
        x = np.abs(x)
    if name == "log1p":
        x = np.maximum(x, -1 + 1e-16)
    return x


def _ulp_err(got, ref):
    ref64 = ref.astype(np.float64)
    spacing = np.spacing(np.abs(ref64)).astype(np.longdouble)
    spacing = np.maximum(spacing, np.longdouble(np.finfo(np.float64).smallest_subnormal))
    err = np.abs(got.astype(np.longdouble) - ref) / spacing
    same = (got == ref64) | (np.isnan(got) & np.isnan(ref64))
    return np.where(same, 0, err)


@pytest.mark.skipif(not HAVE_LD, reason="needs an extended-precision long double")
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_max_ulp(level, name):
    simd = _dispatch.load_level("_simd", level)
    ref_f, _, bound = FUNCS[name]
    x = _args(name, np.random.default_rng(1))
    out = np.empty_like(x)
    simd.vmath(name, x, out)
    with np.errstate(all="ignore"):
        ref = ref_f(x.astype(np.longdouble))
    with np.errstate(over="ignore"):
        finite = np.isfinite(ref.astype(np.float64))
    assert np.array_equal(np.isfinite(out), finite), x[np.isfinite(out) != finite][:5]
    err = _ulp_err(out[finite], ref[finite])
    assert err.max() <= bound, (name, float(err.max()), x[finite][np.argmax(err)])


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-310, 2.2250738585072014e-308,
                    709.78, 709.79, -745.1, -745.2, -1.0, -0.5, 1e300, -1e300, 1.0, 1e-20, -1e-20])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log1p", "tanh"])
def test_special_values_match_numpy(level, name):
    simd = _dispatch.load_level("_simd", level)
    out = np.empty_like(SPECIAL)
    simd.vmath(name, SPECIAL, out)
    with np.errstate(all="ignore"):
        ref = getattr(np, name)(SPECIAL)
    # exact at the special values: inf, nan, zeros with their sign, subnormals
    np.testing.assert_array_max_ulp(out[np.isfinite(ref)], ref[np.isfinite(ref)], maxulp=2)
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    assert np.array_equal(out[np.isinf(ref)], ref[np.isinf(ref)])
    zero = ref == 0
    assert np.array_equal(np.signbit(out[zero]), np.signbit(ref[zero]))


@pytest.mark.parametrize("level", LEVELS)
def test_sigmoid_softplus_tails(level):
    simd = _dispatch.load_level("_simd", level)
    x = np.array([-np.inf, -800.0, -40.0, 0.0, 40.0, 800.0, np.inf, np.nan])
    s = np.empty_like(x)
    sp = np.empty_like(x)
    simd.vmath("sigmoid", x, s)
    simd.vmath("log1pexp", x, sp)
    np.testing.assert_array_equal(s[[0, 1, 3, 5, 6]], [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(s[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-15)
    np.testing.assert_array_equal(sp[[0, 1, 5, 6]], [0.0, 0.0, 800.0, np.inf])
    assert np.isnan(s[-1]) and np.isnan(sp[-1])


@pytest.mark.parametrize("level", LEVELS)
def test_levels_bit_identical(level):
    """Every ISA build computes exactly what the baseline build computes."""
    base = _dispatch.load_level("_simd", "baseline")
    simd = _dispatch.load_level("_simd", level)
    x = _args("exp", np.random.default_rng(2))
    for name in FUNCS:
        xx = np.abs(x) if name == "log" else x
        a, b = np.empty_like(xx), np.empty_like(xx)
        base.vmath(name, xx, a)
        simd.vmath(name, xx, b)
        assert a.tobytes() == b.tobytes(), name
