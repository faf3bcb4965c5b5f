"""Every script in examples/ runs (fast settings) and does what it says."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")


def test_examples_are_all_tested():
    tested = {"digits_softmax_regression", "logistic_regression_l2", "numpy_mlp_huber",
              "torch_model", "dask_log_loss"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_digits_softmax_regression(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    png = tmp_path / "digits.png"
    hist = load("digits_softmax_regression")["main"](epochs=4, out=png, quiet=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert hist["test_acc"][-1] > 0.9


def test_logistic_regression_l2_matches_sklearn():
    pytest.importorskip("sklearn")
    r = load("logistic_regression_l2")["main"](iters=3000, quiet=True)
    assert r["objective"] <= r["sklearn_objective"] * (1 + 1e-9)
    assert r["coef_diff"] < 1e-4
    assert r["accuracy"] > 0.95


def test_numpy_mlp_huber():
    r = load("numpy_mlp_huber")["main"](steps=600, quiet=True)
    assert r["check_grad_err"] < 1e-7
    assert r["rmse_huber"] < r["rmse_mse"]


def test_torch_model():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    r = load("torch_model")["main"](epochs=2, quiet=True)
    h = r["history"]
    assert h[-1, 0] < h[0, 0] and h[-1, 3] > 0.85
    assert r["grad_diff"] < 1e-12


@pytest.mark.parametrize("cluster", [False, True], ids=["threads", "local-cluster"])
def test_dask_log_loss(cluster):
    pytest.importorskip("dask.array")
    if cluster:
        pytest.importorskip("distributed")
    r = load("dask_log_loss")["main"](rows=60_000, chunk=25_000, cluster=cluster, quiet=True)
    assert r["chunks"] == 3
    assert r["rel"] <= 1e-12
    assert r["n_correct"] == r["n_correct_in_memory"]
    assert np.isfinite(r["value"])
