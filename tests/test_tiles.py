"""The 8-row tiles of the softmax losses (rows of at most 16 classes; float32 rows of
class targets up to 111 classes, 63 at the x86-64 baseline: rows8_f32_c).

Their rows reach the tile through register transposes when the class stride is 1
(_tile8.h: 8x8 float32 blocks, 4x4 float64 ones) and through scalar loops otherwise;
both feed the same tile math, so the results must agree bit for bit. The tile also decides
top-1 accuracy (the target is the first maximal logit, NaN skipped)."""

import numpy as np
import pytest

import fastloss

# 17-111: float32 tiles of several 8x8 blocks and a masked remainder (64-111: the row
# path at the x86-64 baseline); 112 and float64 beyond 16: the row path, which must
# agree across layouts too.
CLASSES = [2, 3, 7, 8, 9, 10, 15, 16, 17, 24, 33, 47, 48, 49, 63, 64, 100, 111, 112]
TILE_LOSSES = ["cross_entropy", "softmax_focal_loss", "cross_entropy_with_prior"]


def _prior(name, C):
    """The loss's required class vector, if it has one."""
    if name != "cross_entropy_with_prior":
        return {}
    p = np.linspace(1.0, 2.0, C)
    return {"prior": p / p.sum()}


def _layouts(x):
    """The same logits as a contiguous array, as rows of a wider array (row
    stride > C: transposes) and with class stride 2 (scalar loads)."""
    n, c = x.shape
    wide = np.full((n, c + 5), np.nan, x.dtype)
    wide[:, :c] = x
    every2 = np.full((n, 2 * c), np.nan, x.dtype)
    every2[:, ::2] = x
    return {"contiguous": x, "wide rows": wide[:, :c], "class stride 2": every2[:, ::2]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", CLASSES)
@pytest.mark.parametrize("name", TILE_LOSSES)
def test_tile_layouts_agree_bitwise(name, C, dtype):
    rng = np.random.default_rng(C)
    n = 203  # 25 tiles and 3 rows on the row path
    x = (rng.standard_normal((n, C)) * 4).astype(dtype)
    y = rng.integers(0, C, n)
    w = rng.random(n).astype(dtype)
    for kw in ({}, {"sample_weight": w}, {"reduction": "none"}):
        if name == "cross_entropy":
            kw = {**kw, "label_smoothing": 0.1} if "reduction" in kw else kw
        kw = {**kw, **_prior(name, C)}
        results = {k: getattr(fastloss, name)(v, y, return_grad=True, **kw)
                   for k, v in _layouts(x).items()}
        v0, g0 = results["contiguous"]
        for layout, (v, g) in results.items():
            np.testing.assert_array_equal(v, v0, err_msg=layout)
            np.testing.assert_array_equal(g, g0, err_msg=layout)
        ref_v, ref_g = getattr(fastloss.reference, name)(x, y, **kw)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(v0, ref_v, rtol=tol, atol=tol)
        np.testing.assert_allclose(g0, ref_g, rtol=tol, atol=tol * np.abs(ref_g).max())


def _top1_rule(x, y):
    """1 where y is the first index of the row maximum, NaN entries skipped
    (a row without a number has the maximum -inf)."""
    out = np.zeros(len(y), bool)
    for i, row in enumerate(x.astype(np.float64)):
        finite_or_inf = np.where(np.isnan(row), -np.inf, row)
        m = finite_or_inf.max()
        hits = np.flatnonzero(row == m)
        out[i] = len(hits) > 0 and hits[0] == y[i]
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [3, 10, 16, 40])
def test_tile_top1_ties_infinities_nan(C, dtype):
    rng = np.random.default_rng(3)
    n = 160
    x = rng.integers(-2, 3, (n, C)).astype(dtype)  # many ties
    y = rng.integers(0, C, n)
    x[8:16] = -np.inf                      # a whole tile of -inf rows
    y[8:16] = np.arange(8) % C
    x[16:24, 0] = np.nan                   # NaN first, the rest ties or lower
    x[24:32] = np.nan
    x[24:32, 1] = -np.inf                  # only NaN and -inf
    y[24:32] = np.arange(8) % 2
    x[32:40, :] = 1.0                      # all tied: correct only for class 0
    y[32:40] = np.arange(8) % C
    x[40:48, C - 1] = np.inf
    y[40:48] = C - 1
    for layout, xl in _layouts(x).items():
        correct = fastloss.cross_entropy(xl, y, return_accuracy=True)[-1]
        assert correct == int(_top1_rule(x, y).sum()), layout
        # row by row: each row alone takes the row path
        rows = sum(int(fastloss.cross_entropy(xl[i:i + 1], y[i:i + 1], return_accuracy=True)[-1])
                   for i in range(n))
        assert rows == correct, layout


@pytest.mark.parametrize("C", [10, 17, 40, 48, 63, 100, 111])
@pytest.mark.parametrize("name", TILE_LOSSES)
def test_tile_hessian_matches_row_path_and_reference(name, C):
    """return_hessian through the float32 tiles: each row's Hessian diagonal equals the
    row path's (the same rows one call each) bit for bit, and the float64 reference's
    closed form to float32 precision."""
    rng = np.random.default_rng(C + 1)
    n = 203
    x = (rng.standard_normal((n, C)) * 3).astype(np.float32)
    y = rng.integers(0, C, n)
    kw = {"reduction": "sum", **_prior(name, C)}
    f = getattr(fastloss, name)
    _, _, h = f(x, y, return_hessian=True, **kw)
    rows = np.concatenate([f(x[i:i + 1], y[i:i + 1], return_hessian=True, **kw)[2]
                           for i in range(n)])
    np.testing.assert_array_equal(h, rows)
    _, _, ref_h = getattr(fastloss.reference, name)(x.astype(np.float64), y, return_hessian=True,
                                                     **kw)
    np.testing.assert_allclose(h, ref_h, rtol=1e-6, atol=1e-6 * np.abs(ref_h).max())
