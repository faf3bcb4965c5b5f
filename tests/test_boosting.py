"""fastloss.boosting: fastloss losses as custom objectives of XGBoost and LightGBM.

The objectives' gradients and Hessians against the libraries' conventions written
out in NumPy, boosters trained with them against the libraries' built-in
objectives, the errors, and the buffers reused across rounds. The libraries are in
requirements/test.txt; where one is missing its tests are skipped (with the reason).
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys

import numpy as np
import pytest

from fastloss import boosting
from fastloss.boosting import SUPPORTED, lightgbm_objective, xgboost_objective


@pytest.fixture(scope="module")
def xgb():
    return pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def lgb():
    return pytest.importorskip("lightgbm")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _binary(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n) > 0.3).astype(np.float64)
    return X, y, rng.uniform(0.5, 2.0, n)


def _multiclass(n=3000, n_classes=4, seed=0):
    from sklearn.datasets import make_classification  # noqa: PLC0415

    X, y = make_classification(n, 12, n_informative=8, n_classes=n_classes, n_clusters_per_class=1,
                               random_state=seed)
    return X, y.astype(np.float64)


# ---- construction: names and options, checked before the first round ----

def test_import_loads_neither_library():
    code = ("import sys, fastloss.boosting as b\n"
            "b.xgboost_objective('mse_loss'); b.lightgbm_objective('cross_entropy')\n"
            "assert 'xgboost' not in sys.modules and 'lightgbm' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("factory", [xgboost_objective, lightgbm_objective])
def test_unknown_loss_name_lists_the_supported_ones(factory):
    with pytest.raises(ValueError, match=r"unknown loss 'huber'; did you mean 'huber_loss'\? "
                                         r"Supported: mse_loss, .*cross_entropy"):
        factory("huber")
    with pytest.raises(ValueError, match=r"unknown loss 'xyz' Supported: mse_loss"):
        factory("xyz")
    with pytest.raises(ValueError, match=r"'nll_loss' cannot be a boosting objective: .*"
                                         r"use 'cross_entropy'"):
        factory("nll_loss")
    with pytest.raises(ValueError, match="'binary_cross_entropy' cannot be .*probability"):
        factory("binary_cross_entropy")
    with pytest.raises(ValueError, match="'l2_penalty' cannot be .*no target"):
        factory("l2_penalty")
    with pytest.raises(TypeError, match="name must be the name of a fastloss loss"):
        factory(len)


@pytest.mark.parametrize("factory", [xgboost_objective, lightgbm_objective])
def test_options_are_checked_when_the_objective_is_made(factory):
    with pytest.raises(TypeError, match=r"cross_entropy has no option 'smoothing'; its options: "
                                        r"ignore_index, label_smoothing, weight"):
        factory("cross_entropy", smoothing=0.1)
    with pytest.raises(TypeError, match="mse_loss has no option 'delta'; its options: none"):
        factory("mse_loss", delta=1.0)
    with pytest.raises(TypeError, match="'reduction' is set by the objective"):
        factory("mse_loss", reduction="mean")
    with pytest.raises(TypeError, match="'sample_weight' is set by the objective"):
        factory("mse_loss", sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"quantile must be finite and in \[0.0, 1.0\], got 1.5"):
        factory("quantile_loss", quantile=1.5)
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        factory("cross_entropy", weight=[1.0, -1.0, 2.0])
    with pytest.raises(TypeError, match="prior"):  # a required option
        factory("cross_entropy_with_prior")
    with pytest.raises(ValueError, match=r"hessian must be one of \('auto', 'exact', 'unit'\)"):
        factory("mse_loss", hessian="diagonal")
    with pytest.raises((TypeError, ValueError), match="n_threads"):
        factory("mse_loss", n_threads="4")


def test_repr_and_supported():
    assert repr(xgboost_objective("huber_loss", delta=0.5)) == (
        "xgboost_objective('huber_loss', hessian='auto', delta=0.5)")
    assert repr(lightgbm_objective("cross_entropy", hessian="exact", n_threads=1)) == (
        "lightgbm_objective('cross_entropy', hessian='exact', n_threads=1)")
    assert {"mse_loss", "binary_cross_entropy_with_logits", "cross_entropy",
            "sigmoid_focal_loss", "quantile_loss"} <= set(SUPPORTED)
    assert boosting.__all__ == ["SUPPORTED", "lightgbm_objective", "xgboost_objective"]


@pytest.mark.parametrize("fn", [xgboost_objective, lightgbm_objective], ids=lambda f: f.__name__)
def test_docstring_examples_run(fn):
    # (fastloss's doctests in test_docstrings.py list their objects; these are run here, and
    # the lines that need the libraries are marked +SKIP)
    test = doctest.DocTestParser().get_doctest(fn.__doc__, {}, fn.__name__, None, 0)
    assert len(test.examples) >= 4
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


# ---- gradients and Hessians: the libraries' conventions, in NumPy ----

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_xgboost_binary_logistic_and_squared_error(xgb, weighted):
    X, y, w = _binary()
    rng = np.random.default_rng(1)
    predt = rng.normal(size=len(y)).astype(np.float32)  # what XGBoost passes: float32 margins
    d = xgb.DMatrix(X, label=y, weight=w if weighted else None)
    ww = w if weighted else 1.0
    p = _sigmoid(predt.astype(np.float64))
    g, h = xgboost_objective("binary_cross_entropy_with_logits")(predt, d)
    assert g.dtype == h.dtype == np.float32 and g.shape == h.shape == predt.shape
    np.testing.assert_allclose(g, (p - y) * ww, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(h, p * (1 - p) * ww, rtol=2e-6, atol=1e-7)
    g, h = xgboost_objective("mse_loss")(predt, d)  # squared error: (p - y)^2 / 2
    np.testing.assert_allclose(g, (predt - y) * ww, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(h, np.ones_like(predt) * ww, rtol=1e-7)


def test_lightgbm_binary_logistic_with_pos_weight_is_scale_pos_weight(lgb):
    X, y, w = _binary()
    preds = np.random.default_rng(2).normal(size=len(y))  # LightGBM passes float64 scores
    ds = lgb.Dataset(X, label=y, weight=w).construct()
    g, h = lightgbm_objective("binary_cross_entropy_with_logits", pos_weight=3.0)(preds, ds)
    assert g.dtype == h.dtype == np.float32  # what LightGBM trains on, so it converts nothing
    p, ww = _sigmoid(preds), w * np.where(y == 1, 3.0, 1.0)
    np.testing.assert_allclose(g, (p - y) * ww, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h, p * (1 - p) * ww, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_softmax_gradient_and_the_libraries_hessian_factor(library, request):
    mod = request.getfixturevalue("xgb" if library == "xgboost" else "lgb")
    X, y = _multiclass(n=300)
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    C = 4
    scores = np.random.default_rng(4).normal(size=(len(y), C))
    if library == "xgboost":
        data, preds = mod.DMatrix(X, label=y, weight=w), scores.astype(np.float32)
        factory, factor = xgboost_objective, 2.0
    else:  # LightGBM's (N, C) scores: a Fortran-ordered view of its class-major buffer
        data, preds = mod.Dataset(X, label=y, weight=w).construct(), np.asfortranarray(scores)
        factory, factor = lightgbm_objective, C / (C - 1)
    p = _softmax(preds.astype(np.float64))
    onehot = np.eye(C)[y.astype(int)]
    for hessian, f in (("auto", factor), ("exact", 1.0)):
        g, h = factory("cross_entropy", hessian=hessian)(preds, data)
        assert g.shape == h.shape == (len(y), C)
        np.testing.assert_allclose(g, (p - onehot) * w[:, None], rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(h, f * p * (1 - p) * w[:, None], rtol=2e-6, atol=1e-7)
    # class weights and label smoothing: sum_k q_k w_k scales p, as the gradient's formula
    cw, s = np.array([1.0, 2.0, 0.5, 1.5]), 0.1
    q = (1 - s) * onehot + s / C
    g, h = factory("cross_entropy", weight=cw, label_smoothing=s, hessian="exact")(preds, data)
    a = (q * cw).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, (a * p - q * cw) * w[:, None], rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(h, a * p * (1 - p) * w[:, None], rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_unit_hessian_is_the_default_for_l1_quantile_huber(library, request):
    mod = request.getfixturevalue("xgb" if library == "xgboost" else "lgb")
    rng = np.random.default_rng(5)
    X, y, w = rng.normal(size=(200, 3)), rng.normal(size=200), rng.uniform(0.5, 2.0, 200)
    preds = y + rng.normal(scale=2.0, size=200)
    if library == "xgboost":
        data, preds, factory = mod.DMatrix(X, label=y, weight=w), preds.astype(np.float32), \
            xgboost_objective
    else:
        data, factory = mod.Dataset(X, label=y, weight=w).construct(), lightgbm_objective
    d = preds.astype(np.float64) - y.astype(preds.dtype)
    g, h = factory("quantile_loss", quantile=0.9)(preds, data)
    np.testing.assert_allclose(g, np.where(d > 0, 0.1, -0.9) * w, rtol=1e-6)
    np.testing.assert_allclose(h, w, rtol=1e-6)  # LightGBM's quantile, XGBoost's quantileerror
    g, h = factory("l1_loss")(preds, data)
    np.testing.assert_allclose(g, np.sign(d) * w, rtol=1e-6)
    np.testing.assert_allclose(h, w, rtol=1e-6)
    g, h = factory("huber_loss", delta=1.0)(preds, data)  # LightGBM's huber
    np.testing.assert_allclose(g, np.clip(d, -1.0, 1.0) * w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, w, rtol=1e-6)
    g, h = factory("huber_loss", delta=1.0, hessian="exact")(preds, data)
    np.testing.assert_allclose(h, (np.abs(d) < 1.0) * w, rtol=1e-6)
    g, h = factory("binary_cross_entropy_with_logits", hessian="unit")(preds, data)
    np.testing.assert_allclose(h, w, rtol=1e-6)


def test_xgboost_multilabel_is_summed_over_the_labels(xgb):
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(150, 3)), (rng.normal(size=(150, 3)) > 0).astype(np.float64)
    d = xgb.DMatrix(X, label=Y)
    predt = rng.normal(size=Y.shape).astype(np.float32)
    p = _sigmoid(predt.astype(np.float64))
    for name in ("multilabel_soft_margin_loss", "binary_cross_entropy_with_logits"):
        g, h = xgboost_objective(name)(predt, d)
        np.testing.assert_allclose(g, p - Y, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(h, p * (1 - p), rtol=2e-6, atol=1e-7)


# ---- boosters: the fastloss objective trains the built-in objective's model ----

def test_xgboost_binary_logistic_booster_equals_the_builtin(xgb):
    X, y, w = _binary(n=2000)
    d = xgb.DMatrix(X, label=y, weight=w)
    params = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
    # binary:logistic's base_score is a probability (0.5: margin 0); a custom objective's
    # is a margin. Compared on margins: a custom objective has no link function.
    builtin = xgb.train({**params, "objective": "binary:logistic", "base_score": 0.5}, d, 20)
    ours = xgb.train({**params, "base_score": 0.0}, d, 20,
                     obj=xgboost_objective("binary_cross_entropy_with_logits"))
    a, b = (m.predict(d, output_margin=True) for m in (builtin, ours))
    assert np.abs(a).max() > 1.0
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def test_xgboost_poisson_booster_equals_count_poisson(xgb):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(1500, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(np.float64)
    d = xgb.DMatrix(X, label=y, weight=rng.uniform(0.5, 2.0, len(y)))
    params = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
    # count:poisson's Hessian is exp(margin + max_delta_step) and its base_score a rate
    # (1: margin 0)
    builtin = xgb.train({**params, "objective": "count:poisson", "max_delta_step": 0.0,
                         "base_score": 1.0}, d, 20)
    ours = xgb.train({**params, "base_score": 0.0}, d, 20,
                     obj=xgboost_objective("poisson_nll_loss"))
    a, b = (m.predict(d, output_margin=True) for m in (builtin, ours))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def test_lightgbm_binary_and_regression_boosters_equal_the_builtins(lgb):
    X, y, w = _binary(n=2000)
    # A custom objective starts from raw score 0: the built-ins do too without
    # boost_from_average.
    params = {"verbose": -1, "num_leaves": 8, "learning_rate": 0.3, "num_threads": 1,
              "boost_from_average": False}
    ds = lgb.Dataset(X, label=y, weight=w, free_raw_data=False)
    builtin = lgb.train({**params, "objective": "binary"}, ds, 20)
    ours = lgb.train({**params, "objective": lightgbm_objective(
        "binary_cross_entropy_with_logits")}, ds, 20)
    a, b = (m.predict(X, raw_score=True) for m in (builtin, ours))
    assert np.abs(a).max() > 1.0
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)

    t = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + np.random.default_rng(7).normal(size=len(y))
    dr = lgb.Dataset(X, label=t, weight=w, free_raw_data=False)
    for builtin_name, name, options in (("regression", "mse_loss", {}),
                                        ("huber", "huber_loss", {"delta": 0.7})):
        extra = {"alpha": 0.7} if builtin_name == "huber" else {}
        builtin = lgb.train({**params, **extra, "objective": builtin_name}, dr, 20)
        ours = lgb.train({**params, "objective": lightgbm_objective(name, **options)}, dr, 20)
        np.testing.assert_allclose(ours.predict(X), builtin.predict(X), rtol=0, atol=1e-5)


def _log_loss(y, scores):
    p = _softmax(scores)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y.astype(int)], 1e-15, 1))))


def test_xgboost_softmax_matches_multi_softprob(xgb):
    X, y = _multiclass()
    tr, te = slice(0, 2000), slice(2000, None)
    dtr, dte = xgb.DMatrix(X[tr], label=y[tr]), xgb.DMatrix(X[te], label=y[te])
    params = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "num_class": 4, "nthread": 1,
              "base_score": 0.0}
    builtin = xgb.train({**params, "objective": "multi:softprob"}, dtr, 30)
    ours = xgb.train(params, dtr, 30, obj=xgboost_objective("cross_entropy"))
    a, b = (m.predict(dte, output_margin=True) for m in (builtin, ours))
    assert b.shape == (1000, 4)
    assert _log_loss(y[te], b) <= 1.03 * _log_loss(y[te], a)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)  # the same trees


def test_lightgbm_softmax_matches_multiclass(lgb):
    X, y = _multiclass()
    tr, te = slice(0, 2000), slice(2000, None)
    params = {"verbose": -1, "num_leaves": 8, "learning_rate": 0.3, "num_class": 4,
              "num_threads": 1, "boost_from_average": False}
    ds = lgb.Dataset(X[tr], label=y[tr])
    builtin = lgb.train({**params, "objective": "multiclass"}, ds, 30)
    ours = lgb.train({**params, "objective": lightgbm_objective("cross_entropy")}, ds, 30)
    a, b = (m.predict(X[te], raw_score=True) for m in (builtin, ours))
    assert b.shape == (1000, 4)
    assert _log_loss(y[te], b) <= 1.03 * _log_loss(y[te], a)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


# ---- bad input: named errors ----

def test_xgboost_bad_input(xgb):
    X, y = _multiclass(n=60)
    obj = xgboost_objective("cross_entropy")
    predt = np.zeros((60, 4), np.float32)
    with pytest.raises(ValueError, match=r"dtrain has no label: build it with "
                                         r"xgboost.DMatrix\(X, label=y\)"):
        obj(predt, xgb.DMatrix(X))
    bad = y.copy()
    bad[7] = 2.5
    with pytest.raises(ValueError, match=r"dtrain's label\[7\] = 2.5: cross_entropy needs class "
                                         r"indices, whole numbers in \[0, 4\)"):
        obj(predt, xgb.DMatrix(X, label=bad))
    bad[7] = 4
    with pytest.raises(ValueError, match=r"dtrain's label\[7\] = 4.0: .*\[0, 4\)"):
        obj(predt, xgb.DMatrix(X, label=bad))
    d = xgb.DMatrix(X, label=y)
    with pytest.raises(ValueError, match=r"predt has shape \(60,\): cross_entropy needs \(N, C\) "
                                         r"class scores; set num_class=C"):
        obj(np.zeros(60, np.float32), d)
    with pytest.raises(ValueError, match=r"predt has shape \(59, 4\), but dtrain has 60 rows"):
        obj(np.zeros((59, 4), np.float32), d)
    with pytest.raises(TypeError, match="predt must be a numpy.ndarray, got list"):
        obj([0.0] * 60, d)
    with pytest.raises(ValueError, match=r"predt has shape \(60, 4\), but dtrain's label has "
                                         r"shape \(60,\): for class-index labels use "
                                         r"'cross_entropy'"):
        xgboost_objective("binary_cross_entropy_with_logits")(predt, d)


def test_lightgbm_bad_input(lgb):
    X, y = _multiclass(n=60)
    obj = lightgbm_objective("cross_entropy")
    preds = np.zeros((60, 4), order="F")
    with pytest.raises(ValueError, match=r"train_data has no label: build it with "
                                         r"lightgbm.Dataset\(X, label=y\)"):
        obj(preds, lgb.Dataset(X))  # not constructed yet
    # constructed, LightGBM reads back a label of zeros
    with pytest.raises(ValueError, match=r"train_data has no label \(its label is all zeros.*\): "
                                         r"build it with lightgbm.Dataset\(X, label=y\)"):
        obj(preds, lgb.Dataset(X).construct())
    with pytest.raises(ValueError, match=r"train_data has no label"):  # through lightgbm.train
        lgb.train({"objective": obj, "num_class": 4, "verbose": -1}, lgb.Dataset(X), 1)
    bad = y.copy()
    bad[3] = -1
    with pytest.raises(ValueError, match=r"train_data's label\[3\] = -1.0: cross_entropy needs "
                                         r"class indices, whole numbers in \[0, 4\)"):
        obj(preds, lgb.Dataset(X, label=bad).construct())
    with pytest.raises(ValueError, match=r"preds has shape \(60,\): cross_entropy needs \(N, C\) "
                                         r"class scores; set num_class=C in the lightgbm"):
        obj(np.zeros(60), lgb.Dataset(X, label=y).construct())


# ---- buffers: allocated once, the scores never copied ----

class _Spy:
    """Records the array each kernel call reads."""

    def __init__(self, fn):
        self.fn, self.inputs = fn, []

    def __call__(self, x, *args, **kwargs):
        self.inputs.append(x)
        return self.fn(x, *args, **kwargs)


def test_xgboost_buffers_are_reused_and_predictions_not_copied(xgb):
    X, y = _multiclass(n=80)
    d = xgb.DMatrix(X, label=y)
    obj = xgboost_objective("cross_entropy")
    spy = obj._grad_hess = _Spy(obj._grad_hess)
    p1, p2 = (np.random.default_rng(s).normal(size=(80, 4)).astype(np.float32) for s in (0, 1))
    g1, h1 = obj(p1, d)
    g1_copy = g1.copy()
    g2, h2 = obj(p2, d)
    assert g2 is g1 and h2 is h1  # the same arrays every round
    assert not np.array_equal(g1_copy, g2)  # recomputed
    assert spy.inputs[0] is p1 and spy.inputs[1] is p2
    g3, _ = obj(np.zeros((80, 4)), d)  # another dtype: its own buffers
    assert g3 is not g1 and g3.dtype == np.float64


def test_lightgbm_buffers_layout_and_label_cache(lgb):
    X, y = _multiclass(n=80)
    ds = lgb.Dataset(X, label=y).construct()
    obj = lightgbm_objective("cross_entropy")
    spy = obj._grad_hess = _Spy(obj._grad_hess)
    class_major = np.random.default_rng(0).normal(size=4 * 80)
    preds = class_major.reshape(80, 4, order="F")  # as LightGBM 4 hands them
    g1, h1 = obj(preds, ds)
    assert np.shares_memory(spy.inputs[0], class_major)  # read in place
    # float32 and Fortran order: LightGBM's ravel(order="F") is a view, its cast a no-op
    assert g1.dtype == h1.dtype == np.float32 and g1.flags.f_contiguous
    assert np.shares_memory(g1.ravel(order="F"), g1)
    p = _softmax(preds)
    np.testing.assert_allclose(g1, p - np.eye(4)[y.astype(int)], rtol=1e-6, atol=1e-7)
    g2, h2 = obj(preds, ds)
    assert g2 is g1 and h2 is h1
    # the labels are converted once per dataset, and again after set_label
    assert len(obj._datasets) == 1
    (entry,) = obj._datasets.values()
    assert len(entry.targets) == 1
    y2 = (y + 1) % 4
    ds.set_label(y2)
    g3, _ = obj(preds, ds)
    np.testing.assert_allclose(g3, p - np.eye(4)[y2.astype(int)], rtol=1e-6, atol=1e-7)


def test_xgboost_labels_are_read_once_per_dataset(xgb):
    X, y, w = _binary(n=50)
    d = xgb.DMatrix(X, label=y, weight=w)
    calls = []
    real = d.get_label
    d.get_label = lambda: calls.append(1) or real()
    obj = xgboost_objective("binary_cross_entropy_with_logits")
    for _ in range(3):
        obj(np.zeros(50, np.float32), d)
    assert len(calls) == 1
    d2 = xgb.DMatrix(X, label=1 - y)  # another dataset: its own labels
    g, _ = obj(np.zeros(50, np.float32), d2)
    np.testing.assert_allclose(g, 0.5 - (1 - y), rtol=1e-6)


def test_xgboost_cv_alternates_folds(xgb):
    # xgboost.cv calls one objective on every fold's DMatrix in turn
    X, y, _ = _binary(n=600)
    obj = xgboost_objective("binary_cross_entropy_with_logits")
    params = {"tree_method": "hist", "max_depth": 2, "base_score": 0.0, "nthread": 1}
    res = xgb.cv(params, xgb.DMatrix(X, label=y), 5, nfold=3, obj=obj, seed=0,
                 custom_metric=lambda p, d: ("logloss", float(np.mean(
                     np.logaddexp(0, p) - d.get_label() * p))), as_pandas=False)
    losses = res["test-logloss-mean"]
    assert losses[-1] < losses[0] < np.log(2) + 1e-6
    assert len(obj._datasets) == 3


def test_flattened_multiclass_scores_of_older_versions(xgb, lgb):
    # XGBoost < 2 handed multi-class scores as (N * C,) row-major, LightGBM < 4 as (C * N,)
    # class-major; each took the gradients back in the same layout.
    X, y = _multiclass(n=50)
    scores = np.random.default_rng(8).normal(size=(50, 4))
    expected = _softmax(scores) - np.eye(4)[y.astype(int)]
    g, h = xgboost_objective("cross_entropy")(scores.astype(np.float32).ravel(),
                                              xgb.DMatrix(X, label=y))
    assert g.shape == h.shape == (200,)
    np.testing.assert_allclose(g.reshape(50, 4), expected, rtol=2e-6, atol=1e-7)
    g, h = lightgbm_objective("cross_entropy")(scores.T.ravel(),
                                               lgb.Dataset(X, label=y).construct())
    assert g.shape == h.shape == (200,) and g.dtype == np.float32
    np.testing.assert_allclose(g.reshape(4, 50).T, expected, rtol=1e-6, atol=1e-7)
