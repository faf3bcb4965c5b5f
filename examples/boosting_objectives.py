"""Gradient boosting with fastloss objectives: XGBoost and LightGBM.

``fastloss.boosting.xgboost_objective(name, **options)`` and ``lightgbm_objective`` turn a
fastloss loss into a custom objective: each round, one fused call gives the per-sample
gradient and Hessian. On synthetic scikit-learn data, three models per library:

1. binary logistic: the fastloss objective (``binary_cross_entropy_with_logits``) trains
   the same booster as the built-in one (``binary:logistic``, LightGBM's ``binary``); the
   largest difference of their margins is printed;
2. sigmoid focal loss on an imbalanced problem (5% positives), an objective neither
   library has, next to the built-in logistic loss: test average precision and log-loss;
3. softmax cross-entropy with label smoothing and class weights (neither of which the
   built-in multiclass objectives take) on an imbalanced 4-class problem, next to the
   built-in multiclass objective: test accuracy, balanced accuracy and log-loss.

A custom objective has no link function: XGBoost gets ``base_score=0`` (a margin of 0),
LightGBM starts from a raw score of 0 (the built-ins here get ``boost_from_average=False``
to start from the same place), and the predictions are raw margins to which we apply the
sigmoid / softmax.

    python examples/boosting_objectives.py

Needs xgboost, lightgbm and scikit-learn besides fastloss. The CPU-only build of XGBoost,
xgboost-cpu, is enough (the xgboost package pulls a ~350 MB CUDA library on Linux; on
macOS, where there is no xgboost-cpu, install xgboost):

    python -m pip install xgboost-cpu lightgbm scikit-learn   # or: -r requirements/examples.txt
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

# How to install each optional dependency, by the name it is imported as.
INSTALL = {"xgboost": "xgboost-cpu  (on macOS: xgboost)", "lightgbm": "lightgbm",
           "sklearn": "scikit-learn"}


def exit_for_missing(exc):
    """Run as a script, a missing optional dependency ends with one line (which one, how to
    install it) instead of a traceback; imported (as the tests do), the ImportError propagates."""
    name = (exc.name or "").partition(".")[0]
    if __name__ != "__main__" or name not in INSTALL:
        raise exc
    sys.exit(f"{os.path.basename(__file__)}: cannot import {name} ({exc}); "
             f"install it with: python -m pip install {INSTALL[name]}")


try:
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.datasets import make_classification
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
except ImportError as exc:
    exit_for_missing(exc)

from fastloss.boosting import lightgbm_objective, xgboost_objective


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Boosters:
    """Train XGBoost and LightGBM the same way, with a built-in or a fastloss objective,
    and return the raw margins of the test rows."""

    def __init__(self, rounds, n_threads):
        self.rounds = rounds
        self.xgb_params = {"tree_method": "hist", "max_depth": 4, "eta": 0.1,
                           "nthread": n_threads}
        self.lgb_params = {"num_leaves": 15, "learning_rate": 0.1, "num_threads": n_threads,
                           "boost_from_average": False, "verbose": -1}

    def xgboost(self, X, y, X_test, objective, **params):
        """``objective``: a built-in objective's name or a fastloss objective."""
        p = {**self.xgb_params, **params}
        obj = None
        if isinstance(objective, str):
            p["objective"] = objective
            if objective == "binary:logistic":  # a probability: 0.5 is the margin 0
                p["base_score"] = 0.5
        else:
            obj = objective
        booster = xgb.train(p, xgb.DMatrix(X, label=y), self.rounds, obj=obj)
        return booster.predict(xgb.DMatrix(X_test), output_margin=True).astype(np.float64)

    def lightgbm(self, X, y, X_test, objective, **params):
        p = {**self.lgb_params, **params, "objective": objective}
        booster = lgb.train(p, lgb.Dataset(X, label=y), self.rounds)
        return booster.predict(X_test, raw_score=True)


def main(rows=8000, rounds=100, n_threads=1, quiet=False):
    say = (lambda *a: None) if quiet else print
    fit = Boosters(rounds, n_threads)
    result = {}
    start = time.perf_counter()

    # 1. binary logistic: the fastloss objective reproduces the built-in booster
    X, y = make_classification(rows, 20, n_informative=8, random_state=0)
    X, X_te, y, y_te = train_test_split(X, y.astype(np.float64), test_size=0.25, random_state=0)
    bce = "binary_cross_entropy_with_logits"
    ours_x = fit.xgboost(X, y, X_te, xgboost_objective(bce, n_threads=n_threads), base_score=0.0)
    ours_l = fit.lightgbm(X, y, X_te, lightgbm_objective(bce, n_threads=n_threads))
    diff_x = np.max(np.abs(ours_x - fit.xgboost(X, y, X_te, "binary:logistic")))
    diff_l = np.max(np.abs(ours_l - fit.lightgbm(X, y, X_te, "binary")))
    result["binary_max_abs_diff"] = {"xgboost": float(diff_x), "lightgbm": float(diff_l)}
    say("1. binary logistic, fastloss objective vs the built-in one: max |margin difference| "
        f"XGBoost {diff_x:.1e}, LightGBM {diff_l:.1e}")

    # 2. sigmoid focal loss on an imbalanced problem (5% positives)
    X, y = make_classification(rows, 20, n_informative=6, weights=[0.95], flip_y=0.02,
                               class_sep=0.8, random_state=1)
    X, X_te, y, y_te = train_test_split(X, y.astype(np.float64), test_size=0.25, stratify=y,
                                        random_state=1)
    focal = {"alpha": 0.75, "gamma": 2.0, "n_threads": n_threads}
    margins = {
        ("XGBoost", "binary:logistic"): fit.xgboost(X, y, X_te, "binary:logistic"),
        ("XGBoost", "sigmoid_focal_loss"): fit.xgboost(
            X, y, X_te, xgboost_objective("sigmoid_focal_loss", **focal), base_score=0.0),
        ("LightGBM", "binary"): fit.lightgbm(X, y, X_te, "binary"),
        ("LightGBM", "sigmoid_focal_loss"): fit.lightgbm(
            X, y, X_te, lightgbm_objective("sigmoid_focal_loss", **focal)),
    }
    say(f"2. imbalanced binary ({y.mean():.1%} positives), sigmoid focal loss "
        f"(alpha={focal['alpha']}, gamma={focal['gamma']}) vs the built-in logistic loss:")
    result["focal"] = {}
    for (lib, name), m in margins.items():
        ap = average_precision_score(y_te, m)
        ll = log_loss(y_te, sigmoid(m), labels=[0, 1])
        result["focal"][lib, name] = {"average_precision": ap, "log_loss": ll}
        say(f"   {lib:8s} {name:19s} test average precision {ap:.4f}   log-loss {ll:.4f}")

    # 3. softmax cross-entropy, label smoothing and class weights, 4 imbalanced classes
    X, y = make_classification(rows, 20, n_informative=10, n_classes=4, n_clusters_per_class=1,
                               weights=[0.55, 0.25, 0.15, 0.05], random_state=2)
    X, X_te, y, y_te = train_test_split(X, y.astype(np.float64), test_size=0.25, stratify=y,
                                        random_state=2)
    counts = np.bincount(y.astype(np.int64), minlength=4)
    class_weight = len(y) / (4 * counts)  # "balanced" class weights
    ce = {"label_smoothing": 0.05, "weight": class_weight, "n_threads": n_threads}
    margins = {
        ("XGBoost", "multi:softprob"): fit.xgboost(X, y, X_te, "multi:softprob", num_class=4,
                                                   base_score=0.0),
        ("XGBoost", "cross_entropy"): fit.xgboost(X, y, X_te, xgboost_objective(
            "cross_entropy", **ce), num_class=4, base_score=0.0),
        ("LightGBM", "multiclass"): fit.lightgbm(X, y, X_te, "multiclass", num_class=4),
        ("LightGBM", "cross_entropy"): fit.lightgbm(X, y, X_te, lightgbm_objective(
            "cross_entropy", **ce), num_class=4),
    }
    say(f"3. 4 classes ({', '.join(f'{c / len(y):.0%}' for c in counts)}), cross_entropy with "
        f"label_smoothing={ce['label_smoothing']} and class weights "
        f"{np.round(class_weight, 2).tolist()} vs the built-in multiclass objective:")
    result["multiclass"] = {}
    for (lib, name), m in margins.items():
        pred = m.argmax(axis=1)
        acc = float(np.mean(pred == y_te))
        bal = balanced_accuracy_score(y_te, pred)
        ll = log_loss(y_te, softmax(m), labels=[0, 1, 2, 3])
        result["multiclass"][lib, name] = {"accuracy": acc, "balanced_accuracy": bal,
                                           "log_loss": ll}
        say(f"   {lib:8s} {name:15s} test accuracy {acc:.4f}   balanced accuracy {bal:.4f}   "
            f"log-loss {ll:.4f}")
    say(f"({time.perf_counter() - start:.1f} s)")
    return result


if __name__ == "__main__":
    main()
