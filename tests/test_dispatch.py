"""Runtime ISA dispatch: every built level gives bit-identical losses and gradients."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss
from fastloss import _dispatch, reference
from fastloss._data import make_arrays
from fastloss._dispatch_levels import is_x86_64
from helpers import smooth_binary

LEVELS = _dispatch.AVAILABLE_LEVELS


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


def _import_with_cpu_features(change):
    """Import fastloss in a fresh process after `change` (code) edited NumPy's CPU
    feature dict `f`: (returncode, stderr, the level chosen)."""
    code = ("try:\n    import numpy._core._multiarray_umath as m\n"
            "except ImportError:  # NumPy 1\n    import numpy.core._multiarray_umath as m\n"
            "f = m.__cpu_features__\n" + change + "\n"
            "import fastloss, fastloss._dispatch as d\n"
            "print(d.SIMD_LEVEL)")
    env = {k: v for k, v in os.environ.items() if k != "FASTLOSS_SIMD"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return r.returncode, r.stderr, r.stdout.strip()


def test_cpu_without_the_baseline_features_is_refused_at_import():
    """The x86-64 baseline kernels are built for x86-64-v2: on a CPU without SSE4.2
    importing fastloss raises ImportError naming what is missing, instead of a kernel
    stopping the process on an illegal instruction. Elsewhere the check does not apply."""
    rc, err, level = _import_with_cpu_features('f["SSE42"] = False; f["POPCNT"] = False')
    if is_x86_64():
        assert rc != 0 and "ImportError" in err, err
        assert "x86-64-v2" in err and "SSE42, POPCNT" in err, err
    else:
        assert rc == 0 and level == "baseline", err


def test_cpu_features_unknown_means_the_baseline():
    """Where NumPy reports no CPU features, fastloss assumes the baseline (not
    AVX2 or AVX-512, not a refusal)."""
    rc, err, level = _import_with_cpu_features("f.clear()")
    assert rc == 0 and level == "baseline", err


# Every loss, dtype and parameter case through the public API, hashed: run once per
# SIMD level (FASTLOSS_SIMD caps the level chosen at import). The float32 results of
# the losses named in argv[3] are also saved, to the .npz argv[2].
_HASH_ALL = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import fastloss
from fastloss._data import make_arrays
from fastloss._registry import LOSSES
from helpers import resolve
out = {}
keep = set(sys.argv[3].split(","))
saved = {}


class Hash:  # a sha256 that also keeps the arrays it hashes, for the losses in keep
    def __init__(self, key):
        self.h, self.key = hashlib.sha256(), key
        self.arrays = saved.setdefault(key, []) if key.split("-")[0] in keep else None

    def update(self, a):
        if self.arrays is not None:
            self.arrays.append(np.array(a))
        self.h.update(a.tobytes())

    def hexdigest(self):
        return self.h.hexdigest()


for spec in LOSSES:
    fn = getattr(fastloss, spec.name)
    for dtype in (np.float32, np.float64):
        arrays = make_arrays(spec, (20_011,), dtype, seed=3)
        for params in spec.cases():
            kw = resolve(spec, params, arrays[0])
            if spec.differentiable:
                kw["return_grad"] = True
            key = f"{spec.name}-{np.dtype(dtype).name}-{params}"
            h = Hash(key)
            for r in spec.reductions:
                res = fn(*arrays, reduction=r, **kw)
                for part in (res if isinstance(res, tuple) else (res,)):
                    for p in (part if isinstance(part, tuple) else (part,)):  # several grads
                        h.update(np.asarray(p))
            out[key] = h.hexdigest()
    if spec.float32_lanes:  # 0/1 targets (float32 lanes) and both kinds mixed in chunks
        x, y = make_arrays(spec, (20_011,), np.float32, seed=4)[:2]
        lo = -1.0 if spec.target_domain == "sign" else 0.0  # labels that take the float32 lanes
        hard = np.where(np.arange(y.size) % 3 == 0, 1.0, lo).astype(np.float32)
        soft = np.linspace(-0.9, 0.9, y.size, dtype=np.float32)
        mixed = np.where(np.arange(y.size) % 7 == 0, soft, hard).astype(np.float32)
        mixed[:9000] = hard[:9000]
        for name, t in (("hard", hard), ("mixed", mixed)):
            key = f"{spec.name}-float32-{name}"
            h = Hash(key)
            for params in spec.cases():
                kw = resolve(spec, params, x)
                for part in fn(x, t, return_grad=True, **kw):
                    h.update(np.asarray(part))
            out[key] = h.hexdigest()
np.savez(sys.argv[2], keys=json.dumps(list(saved)),
         **{f"a{i}_{j}": a for i, arrays in enumerate(saved.values()) for j, a in enumerate(arrays)})
print(json.dumps({"level": fastloss._dispatch.SIMD_LEVEL, "hashes": out}))
"""

# The losses whose float32 data takes float32-lane math with FMA (_vmathf.h): the
# pointwise ones of the registry's float32_lanes, and the row-wise kernels that call
# fl_expdiff32 (softmax with hard class targets) or the logistic lanes. The x86-64
# baseline has no FMA and gives their float32 data the float64 math instead
# (FL_F32_LANES): its float32 results differ from the FMA levels' by rounding.
F32_FMA_LOSSES = {s.name for s in fastloss.REGISTRY.values() if s.float32_lanes} | {
    "cross_entropy", "cross_entropy_with_prior", "softmax_focal_loss", "multilabel_soft_margin_loss"}


def _hash_run(level, tmp_path):
    import json

    tests_dir = os.path.dirname(os.path.abspath(__file__))
    path = str(tmp_path / f"{level}.npz")
    env = dict(os.environ, FASTLOSS_SIMD=level)
    got = subprocess.run([sys.executable, "-c", _HASH_ALL, tests_dir, path,
                          ",".join(sorted(F32_FMA_LOSSES))],
                         env=env, capture_output=True, text=True, check=True).stdout
    result = json.loads(got)
    assert result["level"] == level
    with np.load(path) as z:
        keys = json.loads(str(z["keys"]))
        arrays = {k: [z[f"a{i}_{j}"] for j in range(len([n for n in z.files
                                                             if n.startswith(f"a{i}_")]))]
                  for i, k in enumerate(keys)}
    return result["hashes"], arrays


def test_levels_bit_identical(tmp_path):
    """The levels with FMA (avx2, avx512) give the same bits for every loss and
    option; the baseline gives them too for float64 data and for every loss without
    float32-lane math, and for the float32 data of those (F32_FMA_LOSSES) results
    within 4 float32 ulp of the FMA levels' (values and gradients, element-wise;
    measured: at most 2)."""
    runs = {level: _hash_run(level, tmp_path) for level in LEVELS}
    fma = [lv for lv in LEVELS if lv != "baseline"]
    ref_level = fma[0] if fma else "baseline"
    first, first_arrays = runs[ref_level]
    assert len(first) > len(fastloss.REGISTRY)
    for level, (hashes, arrays) in runs.items():
        differ = [k for k in first if hashes[k] != first[k]]
        if level != "baseline" or not fma:
            assert not differ, (level, differ[:5])
            continue
        allowed = [k for k in differ if k.split("-")[0] in F32_FMA_LOSSES and "-float32-" in k]
        assert differ == allowed, (level, [k for k in differ if k not in allowed][:5])
        assert differ, "the baseline was expected to take the float64 math for some float32 data"
        for k in differ:
            assert arrays[k], k
            for a, b in zip(arrays[k], first_arrays[k], strict=True):
                if a.dtype.kind != "f":  # a count of correct rows
                    assert np.array_equal(a, b), k
                    continue
                # float32 spacing, also for the float64 value of a float32 call
                a64, b64 = a.astype(np.float64), b.astype(np.float64)
                big = np.maximum(np.abs(a64), np.abs(b64)).astype(np.float32)
                tol = 4 * np.spacing(big).astype(np.float64)
                assert np.all((np.abs(a64 - b64) <= tol) | (np.isnan(a64) & np.isnan(b64))), (
                    k, float(np.max(np.abs(a64 - b64) / np.where(tol > 0, tol, 1))))


def _ulp32(err, scale):
    """err in units of the float32 spacing at |scale|."""
    return np.abs(err) / np.spacing(np.abs(scale).astype(np.float32)).astype(np.float64)


TRANSCENDENTAL = ("poisson_nll_loss", "log_cosh_loss", "binary_cross_entropy",
                  "binary_cross_entropy_with_logits", "sigmoid_focal_loss", "soft_margin_loss", "kl_div")


@pytest.mark.parametrize("spec", [fastloss.REGISTRY[n] for n in TRANSCENDENTAL], ids=lambda s: s.name)
def test_transcendental_float32_accuracy(spec):
    """float32 data, with the float32 polynomials where only the value needs them
    (_vmathf.h): value within 1e-6 relative of the float64 reference, gradient
    elements within 1 ulp of float32 (the float64 reference rounded is 0.5)."""
    x, y = make_arrays(spec, (200_003,), np.float32, seed=5)
    for case in spec.cases():
        v, g = getattr(fastloss, spec.name)(x, y, return_grad=True, **case)
        ry, rcase = y, case
        if case.get("label_smoothing"):  # the smoothed targets are float32 data too
            s = case["label_smoothing"]
            ry = smooth_binary(y.astype(np.float64), s).astype(np.float32)
            rcase = {**case, "label_smoothing": 0.0}
            v0, g0 = getattr(fastloss, spec.name)(x, ry, return_grad=True, **rcase)
            assert v0 == v
            np.testing.assert_array_equal(g0, g)
        rv, rg = reference.__dict__[spec.name](x, ry, **rcase)
        assert abs(v - rv) <= 1e-6 * abs(rv)
        # The float64 reference gradient rounded to float32 is the best float32 answer.
        err = _ulp32(g.astype(np.float64) - rg, rg)
        assert err.max() <= 1.0, (case, err.max())


@pytest.mark.parametrize("shape", [(4099, 10), (1001, 40), (1024, 100), (203, 1000)],
                         ids=["tile", "tile 40", "tile 100 (row at the baseline)", "row"])
@pytest.mark.parametrize("scale", [1.0, 40.0], ids=["unit", "confident"])
def test_softmax_float32_accuracy(shape, scale):
    """cross_entropy on float32 data: exp(x_j - max) in float32 precision
    (fl_expdiff32) where no gradient entry can cancel (class targets without
    smoothing), float64 elsewhere. Value within 1e-6 relative. Gradient
    elements within 2 ulp of float32 against the softmax in float64 written
    without cancellation (p_y - 1 = -sum_{j != y} p_j: the reference's p_y - 1
    is itself 1e-16 off, and rows at scale 40 have p_y - 1 ~ -1e-17). With
    label smoothing p_j - s/C cancels: there the error is within 2 ulp of the
    terms (the exps are stored as float32 before the sum is
    known)."""
    spec = fastloss.REGISTRY["cross_entropy"]
    x, y = make_arrays(spec, shape, np.float32, seed=7)
    x = (x * np.float32(scale)).astype(np.float32)
    z = x.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    rows = np.arange(len(y))
    for case in spec.cases():
        v, g = fastloss.cross_entropy(x, y, return_grad=True, **case)
        rv, rg = reference.cross_entropy(x, y, **case)
        assert abs(v - rv) <= 1e-6 * abs(rv), (case, v, rv)
        keep = y != case["ignore_index"]
        ls = case["label_smoothing"]
        if ls == 0:
            eo = e.copy()
            eo[rows, y] = 0.0
            exact = e / e.sum(axis=1, keepdims=True)
            exact[rows, y] = -eo.sum(axis=1) / e.sum(axis=1)
            exact[~keep] = 0.0
            exact /= keep.sum()
            err = _ulp32(g - exact, exact)
        else:
            # |rg| + 2 s/(C n) bounds both terms, p_j / n and s / (C n)
            err = _ulp32(g - rg, np.abs(rg) + 2 * ls / shape[1] / keep.sum())
        assert err.max() <= 2.0, (case, err.max())


LANES32 = [s for s in fastloss.REGISTRY.values() if s.float32_lanes]


def _sigmoid_exact(z):
    z = np.asarray(z, np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def test_lanes32_registry_matches_the_math():
    # Exactly the losses whose float32 math has float32-lane code.
    assert [s.name for s in LANES32] == ["binary_cross_entropy_with_logits", "soft_margin_loss"]


def test_soft_margin_float32_lanes_accuracy():
    """soft_margin_loss with -1/1 targets in float32 lanes: the gradient
    -y sigmoid(-y x) within 1 ulp of the float64 result rounded, across every
    binade, both tails; the value within 1e-6 relative; other targets take the
    float64 math and agree with the float64 kernel rounded."""
    rng = np.random.default_rng(12)
    mag = np.exp(rng.uniform(np.log(1e-30), np.log(1e3), 200_000))
    x = np.concatenate([mag, -mag, [0.0, 87.0, -87.0, 104.0, -104.0, 800.0, -800.0]]).astype(np.float32)
    y = np.where(rng.random(x.size) < 0.5, 1.0, -1.0).astype(np.float32)
    v, g = fastloss.soft_margin_loss(x, y, reduction="sum", return_grad=True)
    z = (y.astype(np.float64) * x)
    exact = -y * _sigmoid_exact(-z)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    err = np.abs(g.astype(np.float64) - exact.astype(np.float32).astype(np.float64)) / ulp
    assert err.max() <= 1.0, (err.max(), x[err.argmax()], y[err.argmax()])
    rv, _ = reference.soft_margin_loss(x, y, reduction="sum")
    assert abs(v - rv) <= 1e-6 * abs(rv)
    ys = np.float32([0.5, -2.0, 0.0])
    xs = np.float32([3.0, -1.5, 2.0])
    _, gs = fastloss.soft_margin_loss(xs, ys, reduction="sum", return_grad=True)
    _, g64 = fastloss.soft_margin_loss(xs.astype(np.float64), ys.astype(np.float64), reduction="sum",
                                       return_grad=True)
    assert np.array_equal(gs, g64.astype(np.float32))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_with_logits_float32_lanes_accuracy(reduction):
    """float32 data with 0/1 targets runs in float32 lanes (_vmathf.h,
    fl_sigmoid_parts32): each gradient element is (1 - y) sigmoid(x) or -y
    sigmoid(-x) times a scale, within 1 ulp of the float64 result rounded to
    float32 (the float32 best) in both tails, across every binade of x; the
    value within 1e-6 relative."""
    rng = np.random.default_rng(11)
    mag = np.exp(rng.uniform(np.log(1e-30), np.log(1e3), 400_000))
    x = np.concatenate([mag, -mag, [0.0, -0.0, 87.0, -87.0, 88.7, -88.7, 103.0, -103.0,
                                    150.0, -150.0, 708.0, -708.0, 800.0, -800.0]]).astype(np.float32)
    y = (rng.random(x.size) < 0.5).astype(np.float32)
    v, g = fastloss.binary_cross_entropy_with_logits(x, y, reduction=reduction, return_grad=True)
    x64 = x.astype(np.float64)
    scale = 1.0 / x.size if reduction == "mean" else 1.0
    exact = np.where(y == 0, _sigmoid_exact(x64), -_sigmoid_exact(-x64)) * scale
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    err = np.abs(g.astype(np.float64) - exact.astype(np.float32).astype(np.float64)) / ulp
    assert err.max() <= 1.0, (err.max(), x[err.argmax()], y[err.argmax()])
    rv, _ = reference.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    assert abs(v - rv) <= 1e-6 * abs(rv)


def test_bce_with_logits_float32_lanes_extremes():
    """The float32-lane math at the edges: exact tails (no 1 - sigmoid), zeros
    and infinities as the float64 math gives them, NaN only where the input is."""
    x = np.array([-37.0, -100.0, -104.0, 37.0, 0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30],
                 np.float32)
    f = fastloss.binary_cross_entropy_with_logits
    for y in (np.zeros_like(x), np.ones_like(x)):
        _, g = f(x, y, reduction="none", return_grad=True)
        _, g64 = f(x.astype(np.float64), y.astype(np.float64), reduction="none", return_grad=True)
        assert np.array_equal(np.isnan(g), np.isnan(x))
        ok = ~np.isnan(x)
        # float32 lanes and float64 math agree to float32 rounding, signs of zero included
        assert np.array_equal(g[ok], g64[ok].astype(np.float32))
        assert np.array_equal(np.signbit(g[ok]), np.signbit(g64[ok].astype(np.float32)))
    # y = 0, x = -37: the gradient is sigmoid(-37) = 8.53e-17, not 1 - sigmoid(37) = 0,
    # and the value softplus(-37) = 8.53e-17, not -37 + 37 = 0 (float32 and float64)
    for dt in (np.float32, np.float64):
        v, g = f(np.array([-37.0], dt), np.array([0.0], dt), reduction="sum", return_grad=True)
        assert g[0] == dt(_sigmoid_exact(-37.0)) and g[0] > 0
        assert v == pytest.approx(np.log1p(np.exp(-37.0)), rel=1e-6) and v > 0
        # infinite logits: the limits (0, and +inf for the wrong sign), not 0 * inf = NaN
        v, g = f(np.array([np.inf, -np.inf], dt), np.array([1.0, 1.0], dt), reduction="none",
                 return_grad=True)
        assert v[0] == 0 and v[1] == np.inf and g[0] == 0 and g[1] == -1
    _, g = f(np.float32([-100.0]), np.float32([0.0]), reduction="sum", return_grad=True)
    assert g[0] == np.float32(_sigmoid_exact(-100.0))  # a float32 subnormal, rounded once
    # weights and pos_weight scale the one term without a second rounding of it
    xs = np.float32([88.0, 20.0, -3.0])
    _, g = f(xs, np.float32([1, 1, 1]), pos_weight=np.full(3, 10.0), reduction="sum",
             return_grad=True)
    assert np.array_equal(g, (-10.0 * _sigmoid_exact(-xs.astype(np.float64))).astype(np.float32))


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_bce_with_logits_float32_lanes_element_depends_on_its_inputs_only(n_threads):
    """An element's result does not depend on the other targets of its chunk
    (0/1 targets take the float32 lanes, others the float64 math, in every mix)
    nor on the thread count."""
    from fastloss._launch import CHUNK
    rng = np.random.default_rng(2)
    n = 3 * CHUNK + 5
    x = (4 * rng.standard_normal(n)).astype(np.float32)
    hard = (rng.random(n) < 0.5).astype(np.float32)
    soft = rng.random(n).astype(np.float32)
    mixed = np.where(rng.random(n) < 0.3, soft, hard).astype(np.float32)
    f = fastloss.binary_cross_entropy_with_logits
    _, gh = f(x, hard, reduction="sum", return_grad=True, n_threads=n_threads)
    _, gs = f(x, soft, reduction="sum", return_grad=True, n_threads=n_threads)
    _, gm = f(x, mixed, reduction="sum", return_grad=True, n_threads=n_threads)
    is_soft = mixed != hard
    assert np.array_equal(gm[~is_soft], gh[~is_soft])
    assert np.array_equal(gm[is_soft], gs[is_soft])
    _, g1 = f(x, mixed, reduction="sum", return_grad=True, n_threads=1)
    assert np.array_equal(gm, g1)


@pytest.mark.parametrize("C", [10, 16, 40])
def test_multilabel_soft_margin_float32_lanes(C):
    """multilabel_soft_margin_loss shares binary_cross_entropy_with_logits' element
    (_logistic_math.pxd): with 0/1 targets its float32 lanes, gradient elements
    within 1 ulp of the float64 kernel's rounded; other targets the float64 math,
    element by element. The 8-row block path (contiguous rows, C <= 16) and the row
    path (here: a strided view of the same values) give the same bits."""
    rng = np.random.default_rng(C)
    N = 203
    x = (6 * rng.standard_normal((N, C))).astype(np.float32)
    hard = (rng.random((N, C)) < 0.4).astype(np.float32)
    soft = rng.random((N, C)).astype(np.float32)
    mixed = np.where(rng.random((N, C)) < 0.2, soft, hard).astype(np.float32)
    w = rng.uniform(0.5, 2.0, C)
    f = fastloss.multilabel_soft_margin_loss
    for t in (hard, soft, mixed):
        v, g = f(x, t, weight=w, reduction="sum", return_grad=True)
        v64, g64 = f(x.astype(np.float64), t.astype(np.float64), weight=w, reduction="sum",
                     return_grad=True)
        assert abs(v - v64) <= 1e-6 * abs(v64)
        ulp = np.spacing(np.abs(g64).astype(np.float32)).astype(np.float64)
        err = np.abs(g.astype(np.float64) - g64.astype(np.float32).astype(np.float64)) / ulp
        assert err.max() <= 1.0, err.max()
        # the row path, on a column-strided copy of the same values
        xs = np.repeat(x, 2, axis=1)[:, ::2]
        vs, gs = f(xs, t, weight=w, reduction="sum", return_grad=True)
        assert vs == v and np.array_equal(gs, g)
    _, gm = f(x, mixed, reduction="none", return_grad=True)
    _, gh = f(x, hard, reduction="none", return_grad=True)
    _, gsft = f(x, soft, reduction="none", return_grad=True)
    is_soft = mixed != hard
    assert np.array_equal(gm[~is_soft], gh[~is_soft]) and np.array_equal(gm[is_soft], gsft[is_soft])
