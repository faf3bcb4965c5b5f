"""Accuracy of the polynomial math in _vmath.h, in every ISA build that this CPU runs.

The reference is mpmath-free: float64 results are compared with the same
function evaluated in extended precision (np.longdouble, 80-bit on x86-64),
over arguments that span every binade plus the special values.
"""

import functools

import numpy as np
import pytest

from fastloss import _dispatch, _launch

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


@functools.lru_cache(maxsize=None)
def _reference(name):
    """The arguments of ``name`` and its long double values (shared by every level)."""
    x = _args(name, np.random.default_rng(1))
    with np.errstate(all="ignore"):
        return x, FUNCS[name][0](x.astype(np.longdouble))


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
    bound = FUNCS[name][2]
    x, ref = _reference(name)
    out = np.empty_like(x)
    simd.vmath(name, x, out)
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


# ---- the float32 set (_vmathf.h): float64 in and out, float32 polynomials ----
# function -> (reference, argument domain, max relative error in units of 2^-24)
FUNCS32 = {
    "log": (np.log, None, 2.2),
    "log1p": (np.log1p, (-0.999, 1e6), 3.6),   # float32 arguments, and float64 ones in [0, 1]
}
U32 = 2.0 ** -24


def _rel_err32(got, ref):
    """Relative error in units of 2^-24 (float32's half-ulp at 1)."""
    return np.abs(got - ref) / np.abs(ref) / U32


def _args32(name, rng):
    if name == "log":
        # every binade of float64 (subnormals too), and values near 1
        x = np.abs(rng.uniform(-1, 1, 300_000) * np.exp2(rng.integers(-1074, 1024, 300_000)))
        x = np.concatenate([x, rng.uniform(0.5, 2.0, 100_000)])
        x = x[x != 0]
        with np.errstate(over="ignore"):   # beyond float32: inf, dropped
            x32 = x.astype(np.float32).astype(np.float64)
        return np.concatenate([x, x32[np.isfinite(x32) & (x32 != 0)]])
    # log1p32 rounds its argument to float32. The kernels pass float32 data, or
    # float64 values >= 0 (exp(-|x|), log-cosh's em^2 / (2 + 2 em)), where that
    # rounding costs at most one unit.
    x32 = np.concatenate([rng.uniform(-0.999, 1e6, 200_000), rng.uniform(-0.999, 1.0, 100_000),
                          np.exp2(rng.uniform(-60, 0, 100_000)) * rng.choice([-1, 1], 100_000)])
    x64 = np.concatenate([rng.uniform(0, 1, 100_000), np.exp2(rng.uniform(-80, 30, 100_000))])
    return np.concatenate([x32.astype(np.float32).astype(np.float64), x64])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", sorted(FUNCS32))
def test_float32_set_relative_error(level, name):
    """Accurate to float32 precision; log over float64's whole range."""
    simd = _dispatch.load_level("_simd", level)
    ref_f, _, bound = FUNCS32[name]
    x = _args32(name, np.random.default_rng(3))
    out = np.empty_like(x)
    simd.vmath32(name, x, out)
    with np.errstate(all="ignore"):
        ref = ref_f(x.astype(np.longdouble)).astype(np.float64)
    keep = np.isfinite(ref) & (np.abs(ref) > 1e-300)
    err = _rel_err32(out[keep], ref[keep])
    assert err.max() <= bound, (name, float(err.max()), x[keep][np.argmax(err)])


SPECIAL32 = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 1.0, -1.0, -0.5, 1e300,
                      -1e300, 1e-20, -1e-20, 88.8, 1e38, 3e38])


def _expdiff_args(rng):
    """Pairs x <= m of float32 values: softmax rows at several scales (x - m is
    rarely a float32 there, so the TwoSum correction matters), and differences
    down to -110, through float32's subnormal range to 0."""
    parts = []
    for scale in (1.0, 30.0, 1e3):
        a = (rng.standard_normal(100_000) * scale).astype(np.float32)
        b = (rng.standard_normal(100_000) * scale).astype(np.float32)
        parts.append((np.minimum(a, b), np.maximum(a, b)))
    m = rng.uniform(-50, 50, 100_000).astype(np.float32)
    parts.append(((m.astype(np.float64) - rng.uniform(0, 110, 100_000)).astype(np.float32), m))
    x = np.concatenate([p[0] for p in parts])
    m = np.concatenate([p[1] for p in parts])
    return x, m


EXPDIFF_BOUND = 1.3   # units of 2^-24 over normal float32 results; measured 1.28
TINY32 = float(np.finfo(np.float32).smallest_subnormal)


@pytest.mark.parametrize("level", LEVELS)
def test_expdiff32_relative_error(level):
    """exp(x - m) of float32 x <= m, against exp of the exact difference: within
    EXPDIFF_BOUND relative where the result is a normal float32, within one
    subnormal spacing below (rounded once), 0 where it rounds to 0."""
    simd = _dispatch.load_level("_simd", level)
    x, m = _expdiff_args(np.random.default_rng(3))
    out = np.empty(len(x))
    simd.expdiff32(x, m, out)
    assert np.array_equal(out.astype(np.float32), out)  # a float32 result
    ref = np.exp(x.astype(np.longdouble) - m.astype(np.longdouble)).astype(np.float64)
    normal = ref >= np.finfo(np.float32).tiny
    err = _rel_err32(out[normal], ref[normal])
    assert err.max() <= EXPDIFF_BOUND, (float(err.max()), x[normal][np.argmax(err)],
                                        m[normal][np.argmax(err)])
    sub = ~normal
    assert sub.sum() > 1000
    assert np.abs(out[sub] - ref[sub]).max() <= TINY32


@pytest.mark.parametrize("level", LEVELS)
def test_expdiff32_special_values(level):
    """exp(0) is exactly 1 (the row maximum's term), -inf and differences below
    float32's range give 0, NaN and inf - inf give NaN."""
    simd = _dispatch.load_level("_simd", level)
    big = np.float32(3e38)
    x = np.array([0, -0.0, 7, -np.inf, np.nan, -big, 1, 5, np.inf, -np.inf, -1000, 0, 0], np.float32)
    m = np.array([0, 0, 7, 0, 0, big, np.inf, np.nan, np.inf, -np.inf, 0, 103, 87], np.float32)
    out = np.empty(len(x))
    simd.expdiff32(x, m, out)
    expect = [1, 1, 1, 0, np.nan, 0, 0, np.nan, np.nan, np.nan, 0, np.float32(np.exp(-103.0)),
              np.float32(np.exp(-87.0))]
    np.testing.assert_allclose(out, expect, rtol=2 * U32, atol=TINY32)
    assert out[0] == 1.0 and out[-1] > 0


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["log", "log1p"])
def test_float32_set_special_values(level, name):
    simd = _dispatch.load_level("_simd", level)
    # log1p32's domain is float32's: its callers pass float32 data or values in [0, 1e9].
    x = SPECIAL32[np.abs(SPECIAL32) < 3.4e38] if name == "log1p" else SPECIAL32
    out = np.empty_like(x)
    simd.vmath32(name, x, out)
    with np.errstate(all="ignore"):
        ref = getattr(np, name)(x)
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    assert np.array_equal(out[np.isinf(ref)], ref[np.isinf(ref)])
    fin = np.isfinite(ref) & (np.abs(ref) > 1e-300)
    np.testing.assert_allclose(out[fin], ref[fin], rtol=4 * U32, atol=0)
    zero = ref == 0
    assert np.array_equal(out[zero], ref[zero]) and np.array_equal(np.signbit(out[zero]), np.signbit(ref[zero]))


@pytest.mark.parametrize("level", LEVELS)
def test_float32_set_bit_identical_across_levels(level):
    base = _dispatch.load_level("_simd", "baseline")
    simd = _dispatch.load_level("_simd", level)
    for name in FUNCS32:
        x = _args32(name, np.random.default_rng(4))
        a, b = np.empty_like(x), np.empty_like(x)
        base.vmath32(name, x, a)
        simd.vmath32(name, x, b)
        assert a.tobytes() == b.tobytes(), name
    # fl_expdiff32 uses fmaf: the levels with FMA agree bit for bit, and the x86-64
    # baseline computes it in float64 (FL_F32_LANES; its accuracy: the tests above).
    fma = [lv for lv in LEVELS if lv != "baseline"]
    if level == "baseline" or not fma:
        return
    first = _dispatch.load_level("_simd", fma[0])
    x, m = _expdiff_args(np.random.default_rng(4))
    a, b = np.empty(len(x)), np.empty(len(x))
    first.expdiff32(x, m, a)
    simd.expdiff32(x, m, b)
    assert a.tobytes() == b.tobytes(), "expdiff32"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hessian", [False, True], ids=["grad", "grad+hess"])
def test_triad_floor_writes_its_streams(level, dtype, hessian):
    """The benchmarks' bandwidth floor (3 streams, or 4 with h): g = x + 3 y,
    h = x - y and sum(x), exactly (small integers), over full blocks and a tail and
    over several chunks at 2 threads; overlapping buffers are refused."""
    simd = _dispatch.load_level("_simd", level)
    n = 3 * _launch.CHUNK + 13
    rng = np.random.default_rng(6)
    x = rng.integers(-50, 50, n).astype(dtype)
    y = rng.integers(-50, 50, n).astype(dtype)
    g = np.full(n, np.nan, dtype)
    h = np.full(n, np.nan, dtype) if hessian else None
    total = simd.triad(x, y, g, 2, h=h)
    assert total == float(x.astype(np.float64).sum())
    np.testing.assert_array_equal(g, x + 3 * y)
    if hessian:
        np.testing.assert_array_equal(h, x - y)
        with pytest.raises(ValueError, match="overlap"):
            simd.triad(x, y, g, 1, h=g)
    with pytest.raises(ValueError, match="overlap"):
        simd.triad(x, y, x, 1, h=h)
