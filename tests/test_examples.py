"""Every script in examples/ runs (fast settings) and does what it says."""

from __future__ import annotations

import ast
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIGURE = ROOT / "docs" / "digits_training.png"

# The pip name of each third-party module the examples import (besides numpy and fastloss,
# which every install has). A new one must be added here, so that the tests below see to it
# that its example's docstring and the requirements name it.
PIP_NAMES = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "torch": "torch",
             "dask": "dask", "distributed": "distributed",
             # XGBoost's CPU-only build (requirements/examples.txt; xgboost itself on macOS)
             "xgboost": "xgboost-cpu", "lightgbm": "lightgbm"}
# Left out of requirements/examples.txt on purpose (its default PyPI build can be a multi-GB
# CUDA download): torch_model.py must say how to install it when it is missing.
NOT_IN_REQUIREMENTS = {"torch"}


def load(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")


def test_examples_are_all_tested():
    tested = {"digits_softmax_regression", "logistic_regression_l2", "numpy_mlp_huber",
              "torch_model", "dask_log_loss", "lm_head_linear_cross_entropy",
              "boosting_objectives"}
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


def test_lm_head_linear_cross_entropy():
    pytest.importorskip("torch")
    pytest.importorskip("scipy")
    r = load("lm_head_linear_cross_entropy")["main"](vocab=500, hidden=32, steps=12, batch=256,
                                                      quiet=True)
    # the same training run both ways: the curves agree to float32 rounding and fall
    np.testing.assert_allclose(r["fused"], r["plain"], rtol=2e-5)
    assert r["fused"][-1] < r["fused"][0] - 0.5
    assert r["logits_mb"] == 256 * 500 * 4 / 2**20


def test_torch_model():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    r = load("torch_model")["main"](epochs=2, quiet=True)
    h = r["history"]
    assert h[-1, 0] < h[0, 0] and h[-1, 3] > 0.85
    assert r["grad_diff"] < 1e-12


def test_boosting_objectives():
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    pytest.importorskip("sklearn")
    r = load("boosting_objectives")["main"](rows=3000, rounds=30, quiet=True)
    # the fastloss objective trains the built-in binary logistic booster
    assert r["binary_max_abs_diff"]["xgboost"] < 1e-4
    assert r["binary_max_abs_diff"]["lightgbm"] < 1e-4
    builtin = {"XGBoost": "multi:softprob", "LightGBM": "multiclass"}
    for lib in ("XGBoost", "LightGBM"):
        assert r["focal"][lib, "sigmoid_focal_loss"]["average_precision"] > 0.3
        ours, theirs = r["multiclass"][lib, "cross_entropy"], r["multiclass"][lib, builtin[lib]]
        assert ours["accuracy"] > 0.75
        # the class weights trade accuracy on the large classes for the small ones
        assert ours["balanced_accuracy"] > theirs["balanced_accuracy"]


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


def optional_imports(path):
    """The top-level third-party modules that an example imports anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.partition(".")[0])
    return sorted(names - set(sys.stdlib_module_names) - {"__future__", "numpy", "fastloss"})


def requirement_names(path):
    names = set()
    for line in path.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.partition("#")[0])
        if m:
            names.add(re.sub(r"[-_.]+", "-", m.group(1)).lower())
    return names


OPTIONAL = [(p.stem, mod) for p in sorted(EXAMPLES.glob("*.py")) for mod in optional_imports(p)]


def run_example(name, *args, cwd, block=None):
    """Run an example as a script in a fresh interpreter (the environment, PYTHONPATH included,
    is inherited), with the module ``block`` made unimportable."""
    path = str(EXAMPLES / f"{name}.py")
    boot = (f"import runpy, sys; sys.modules[{block!r}] = None; " if block else "import runpy, sys; ")
    boot += f"sys.argv = [{path!r}, *{list(args)!r}]; runpy.run_path({path!r}, run_name='__main__')"
    return subprocess.run([sys.executable, "-c", boot], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_digits_without_out_writes_no_file(tmp_path):
    pytest.importorskip("sklearn")
    before = FIGURE.stat().st_mtime_ns, FIGURE.read_bytes()
    r = run_example("digits_softmax_regression", "--epochs", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "epoch   2" in r.stdout
    assert list(tmp_path.rglob("*")) == []
    assert (FIGURE.stat().st_mtime_ns, FIGURE.read_bytes()) == before


def test_digits_out_writes_there_and_says_so(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    png = tmp_path / "x.png"
    r = run_example("digits_softmax_regression", "--epochs", "2", "--out", str(png), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in r.stdout
    assert sorted(tmp_path.rglob("*")) == [png]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.py")))
def test_example_docstring_names_what_it_needs(name):
    path = EXAMPLES / f"{name}.py"
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert "Needs" in doc, f"{name}'s docstring does not say what it needs"
    required = requirement_names(ROOT / "requirements" / "examples.txt")
    for mod in optional_imports(path):
        assert mod in PIP_NAMES, f"{name} imports {mod}: add its pip name to PIP_NAMES"
        pip = PIP_NAMES[mod]
        assert re.search(rf"\b{re.escape(pip)}\b", doc), f"{name}'s docstring does not name {pip}"
        assert "pip install" in doc
        if mod in NOT_IN_REQUIREMENTS:
            assert pip not in required  # its missing-dependency message is tested below
        else:
            assert pip in required, f"{pip} ({name}) is missing from requirements/examples.txt"


def test_torch_model_without_torch_says_how_to_install_it(tmp_path):
    assert ("torch_model", "torch") in OPTIONAL
    r = run_example("torch_model", cwd=tmp_path, block="torch")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("torch_model.py: cannot import torch")
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in r.stderr
