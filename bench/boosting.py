"""fastloss.boosting benchmarks: objective calls, the Hessian's cost, boosting rounds.

Benchmarks, not tests: nothing here asserts a time. Three parts:

(a) ``objective``: one objective call on N binary-logistic predictions (float64): the
    fastloss objective as XGBoost and as LightGBM call it (a stand-in dataset object:
    no library needed), the bare kernel call (``out=(g, h)``), the NumPy objective a
    user writes (``p = 1 / (1 + exp(-x)); g = p - y; h = p * (1 - p)``) and
    scikit-learn's ``HalfBinomialLoss.gradient_hessian`` (preallocated outputs,
    ``n_threads``); 1 and 2 threads.
(b) ``hessian``: value + gradient + Hessian (``out=(g, h)``) against value + gradient
    (``out=g``) for every pointwise loss with a Hessian and cross_entropy, N elements,
    float32 and float64, the two calls interleaved. Its first rows are the same-run
    bandwidth floors: ``_simd.triad`` with the traffic of value + gradient (``floor``:
    read x, y; write g; ``floor-x``: read x; write g) and, with ``h``, of value +
    gradient + Hessian (one more output stream). A loss whose value + gradient is
    store-bound (mse_loss, l2_penalty) cannot pay less than its floor's ratio.
(c) ``rounds``: wall time of 100 boosting rounds (XGBoost ``hist``, LightGBM) on ROWS
    rows of 20 features with the fastloss objective, the NumPy one and the built-in
    binary logistic objective, the booster and the objective on the same thread count.

As pytest-benchmark (``pip install .[bench,boosting]``; the options are bench/conftest.py's:
N from ``--sizes``, ``--dtypes``, ``--threads``; ROWS = min(10**5, the largest size)):

    PYTHONPATH=src python -m pytest bench/boosting.py -q --sizes 1000000 --threads 1,2 \\
        --benchmark-group-by=group

As a script, printing the three tables (median of ``--repeat`` timings):

    PYTHONPATH=src python bench/boosting.py [--n 1000000] [--rows 100000] [--rounds 100] \\
        [--threads 1 2] [--repeat 5] [--parts objective hessian rounds]
"""

from __future__ import annotations

import os

# Several OpenMP runtimes share this process (fastloss's, scikit-learn's, XGBoost's,
# LightGBM's): with the default active wait, one library's idle workers spin after each
# call and take the cores from the next (bench/conftest.py sets the same for pytest).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import fastloss  # noqa: E402
from fastloss import _dispatch  # noqa: E402
from fastloss._data import make_arrays  # noqa: E402
from fastloss.boosting import lightgbm_objective, xgboost_objective  # noqa: E402

BCE = "binary_cross_entropy_with_logits"
FLOOR = "floor"  # part (b)'s bandwidth floors (_simd.triad), not losses: read x, y
FLOOR_X = "floor-x"  # read x only (y = x: its second read hits the cache), as the penalties
# Part (b): the floors, every pointwise loss with a Hessian (the registry's order), and
# cross_entropy.
HESSIAN_LOSSES = (FLOOR, FLOOR_X, *(s.name for s in fastloss.REGISTRY.values()
                                     if s.kind == "pointwise" and s.hessian), "cross_entropy")
OBJECTIVE_IMPLS = ("fastloss-xgboost", "fastloss-lightgbm", "fastloss-kernel", "numpy",
                   "sklearn")
ROUNDS_IMPLS = ("fastloss", "numpy", "builtin")


class _Data:
    """A stand-in training set: what both objectives read (labels, weights), so that part
    (a) needs neither library. ``label``/``weight`` are the attributes a LightGBM Dataset
    has; XGBoost's ``get_weight`` returns an empty array when there are none."""

    def __init__(self, label, weight=None):
        self.label, self.weight = label, weight

    def get_label(self):
        return self.label

    def get_weight(self):
        return np.empty(0, np.float32) if self.weight is None else self.weight


def binary_data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), rng.integers(0, 2, n).astype(np.float64)


def numpy_objective(x, y):
    """The binary logistic objective as a user writes it in NumPy."""
    p = 1.0 / (1.0 + np.exp(-x))
    return p - y, p * (1.0 - p)


def objective_runner(impl, x, y, n_threads):
    """A zero-argument call of implementation ``impl`` of part (a); None if it cannot run
    at this thread count (NumPy: one thread) or is not installed (scikit-learn)."""
    if impl == "fastloss-xgboost":
        obj, data = xgboost_objective(BCE, n_threads=n_threads), _Data(y)
        return lambda: obj(x, data)
    if impl == "fastloss-lightgbm":  # also writes LightGBM's float32 layout
        obj, data = lightgbm_objective(BCE, n_threads=n_threads), _Data(y.astype(np.float32))
        return lambda: obj(x, data)
    if impl == "fastloss-kernel":
        g, h = np.empty_like(x), np.empty_like(x)
        fn = fastloss.binary_cross_entropy_with_logits
        return lambda: fn(x, y, reduction="sum", out=(g, h), n_threads=n_threads)
    if impl == "numpy":
        return (lambda: numpy_objective(x, y)) if n_threads == 1 else None
    if impl == "sklearn":
        try:
            from sklearn._loss.loss import HalfBinomialLoss  # noqa: PLC0415
        except ImportError:
            return None
        loss, g, h = HalfBinomialLoss(), np.empty_like(x), np.empty_like(x)
        return lambda: loss.gradient_hessian(y_true=y, raw_prediction=x, sample_weight=None,
                                             gradient_out=g, hessian_out=h, n_threads=n_threads)
    raise ValueError(impl)


def hessian_runner(name, dtype, n, with_hessian, n_threads):
    """Part (b): value + gradient (+ Hessian) of ``name`` on n elements, out= reused;
    ``name`` FLOOR: the triad with the same streams (read x, y; write g, and h); FLOOR_X
    the same with y = x (the streams of a loss without a target)."""
    if name in (FLOOR, FLOOR_X):
        x, y = make_arrays(fastloss.REGISTRY["mse_loss"], (n,), np.dtype(dtype))
        y = x if name == FLOOR_X else y
        g, h = np.empty_like(x), np.empty_like(x)
        simd = _dispatch.load("_simd")
        return lambda: simd.triad(x, y, g, n_threads, h=h if with_hessian else None)
    spec = fastloss.REGISTRY[name]
    arrays = make_arrays(spec, (n,), np.dtype(dtype))
    fn = getattr(fastloss, name)
    g, h = np.empty_like(arrays[0]), np.empty_like(arrays[0])
    out = (g, h) if with_hessian else g
    return lambda: fn(*arrays, out=out, n_threads=n_threads)


def rounds_runner(library, impl, rows, rounds, n_threads):
    """Part (c): ``rounds`` boosting rounds, binary logistic, on ``rows`` rows; None if the
    library is not installed."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 20))
    y = (X[:, :5].sum(axis=1) + rng.standard_normal(rows) > 0).astype(np.float64)

    def numpy_obj(preds, data):
        return numpy_objective(preds, data.get_label())

    if library == "xgboost":
        try:
            import xgboost as xgb  # noqa: PLC0415
        except ImportError:
            return None
        d = xgb.DMatrix(X, label=y, nthread=n_threads)
        params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": n_threads}
        if impl == "builtin":
            return lambda: xgb.train({**params, "objective": "binary:logistic",
                                      "base_score": 0.5}, d, rounds)
        obj = xgboost_objective(BCE, n_threads=n_threads) if impl == "fastloss" else numpy_obj
        return lambda: xgb.train({**params, "base_score": 0.0}, d, rounds, obj=obj)
    try:
        import lightgbm as lgb  # noqa: PLC0415
    except ImportError:
        return None
    params = {"num_leaves": 63, "learning_rate": 0.1, "num_threads": n_threads, "verbose": -1,
              "boost_from_average": False}
    ds = lgb.Dataset(X, label=y, free_raw_data=False).construct()
    objective = {"builtin": "binary", "numpy": numpy_obj,
                 "fastloss": lightgbm_objective(BCE, n_threads=n_threads)}[impl]
    return lambda: lgb.train({**params, "objective": objective}, ds, rounds)


# ---- pytest-benchmark ------------------------------------------------------------

def _opt_list(config, name, conv):
    return [conv(s) for s in config.getoption(name).split(",") if s]


def pytest_generate_tests(metafunc):
    """Cases from bench/conftest.py's options (--sizes, --dtypes, --threads)."""
    cfg = metafunc.config
    sizes = [int(float(s)) for s in cfg.getoption("sizes").split(",") if s]
    dtypes = _opt_list(cfg, "dtypes", str)
    threads = _opt_list(cfg, "threads", int)
    if "objective_case" in metafunc.fixturenames:
        cases = [(n, nt, impl) for n in sizes for nt in threads for impl in OBJECTIVE_IMPLS]
        metafunc.parametrize("objective_case", cases, ids=[f"{n}-t{nt}-{i}" for n, nt, i in cases])
    if "hessian_case" in metafunc.fixturenames:
        cases = [(name, dt, n, nt, hess) for name in HESSIAN_LOSSES for dt in dtypes
                 for n in sizes for nt in threads for hess in (False, True)]
        metafunc.parametrize("hessian_case", cases, ids=[
            f"{name}-{dt}-{n}-t{nt}-{'grad+hess' if hess else 'grad'}"
            for name, dt, n, nt, hess in cases])
    if "rounds_case" in metafunc.fixturenames:
        rows = min(10**5, max(sizes))
        cases = [(lib, impl, rows, nt) for lib in ("xgboost", "lightgbm") for nt in threads
                 for impl in ROUNDS_IMPLS]
        metafunc.parametrize("rounds_case", cases,
                             ids=[f"{lib}-{rows}-t{nt}-{impl}" for lib, impl, rows, nt in cases])


def test_objective(benchmark, objective_case):
    import pytest  # noqa: PLC0415

    n, nt, impl = objective_case
    x, y = binary_data(n)
    run = objective_runner(impl, x, y, nt)
    if run is None:
        pytest.skip(f"{impl} does not run here at {nt} threads")
    benchmark.group = f"objective-{n}-t{nt}"
    benchmark.extra_info.update(part="objective", n=n, threads=nt, impl=impl)
    benchmark(run)


def test_hessian(benchmark, hessian_case):
    name, dtype, n, nt, hess = hessian_case
    benchmark.group = f"hessian-{name}-{dtype}-{n}-t{nt}"
    benchmark.extra_info.update(part="hessian", loss=name, dtype=dtype, n=n, threads=nt,
                                impl="grad+hess" if hess else "grad")
    benchmark(hessian_runner(name, dtype, n, hess, nt))


def test_rounds(benchmark, rounds_case):
    import pytest  # noqa: PLC0415

    library, impl, rows, nt = rounds_case
    run = rounds_runner(library, impl, rows, 100, nt)
    if run is None:
        pytest.skip(f"{library} is not installed")
    benchmark.group = f"rounds-{library}-{rows}-t{nt}"
    benchmark.extra_info.update(part="rounds", library=library, rows=rows, threads=nt, impl=impl)
    benchmark.pedantic(run, rounds=3, iterations=1)


# ---- script ----------------------------------------------------------------------

def _median_times(runs, repeat):
    """The median time of each of ``runs``, their calls interleaved (a shared machine's
    drift hits all alike)."""
    for run in runs:
        run()  # warm-up: buffers, caches, thread pools
    times = [[] for _ in runs]
    for _ in range(repeat):
        for run, ts in zip(runs, times):
            t = time.perf_counter()
            run()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def _median_time(run, repeat):
    return _median_times([run], repeat)[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6, help="elements of parts (a) and (b)")
    ap.add_argument("--rows", type=int, default=10**5, help="rows of part (c)")
    ap.add_argument("--rounds", type=int, default=100, help="boosting rounds of part (c)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--parts", nargs="+", default=["objective", "hessian", "rounds"],
                    choices=["objective", "hessian", "rounds"])
    args = ap.parse_args(argv)
    print(f"fastloss {fastloss.__version__}, numpy {np.__version__}; median of "
          f"{args.repeat} runs")

    if "objective" in args.parts:
        x, y = binary_data(args.n)
        print(f"\n(a) one binary-logistic objective call, N = {args.n}, float64 (ms)\n")
        print("| implementation | " + " | ".join(f"{nt} thread(s)" for nt in args.threads) + " |")
        print("|---|" + "---|" * len(args.threads))
        for impl in OBJECTIVE_IMPLS:
            cells = []
            for nt in args.threads:
                run = objective_runner(impl, x, y, nt)
                cells.append("--" if run is None else f"{1e3 * _median_time(run, args.repeat):.3f}")
            print(f"| {impl} | " + " | ".join(cells) + " |")

    if "hessian" in args.parts:
        print(f"\n(b) value + gradient (+ Hessian), N = {args.n} elements (us; ratio = with "
              f"Hessian / without)\n")
        print("| loss | dtype | threads | grad | grad+hess | ratio |")
        print("|---|---|---|---|---|---|")
        for name in HESSIAN_LOSSES:
            for dt in args.dtypes:
                for nt in args.threads:
                    a, b = _median_times([hessian_runner(name, dt, args.n, hess, nt)
                                          for hess in (False, True)], args.repeat)
                    print(f"| {name} | {dt} | {nt} | {1e6 * a:.1f} | {1e6 * b:.1f} | "
                          f"{b / a:.2f} |")

    if "rounds" in args.parts:
        print(f"\n(c) {args.rounds} boosting rounds, binary logistic, {args.rows} rows x 20 "
              f"features (s; the booster and the objective on the same threads)\n")
        print("| library | threads | " + " | ".join(ROUNDS_IMPLS) + " | numpy / fastloss |")
        print("|---|---|" + "---|" * (len(ROUNDS_IMPLS) + 1))
        for library in ("xgboost", "lightgbm"):
            for nt in args.threads:
                times = {}
                for impl in ROUNDS_IMPLS:
                    run = rounds_runner(library, impl, args.rows, args.rounds, nt)
                    if run is None:
                        break
                    times[impl] = _median_time(run, max(1, args.repeat // 2))
                if not times:
                    print(f"| {library} | {nt} | not installed |")
                    continue
                print(f"| {library} | {nt} | " + " | ".join(f"{times[i]:.3f}" for i in ROUNDS_IMPLS)
                      + f" | {times['numpy'] / times['fastloss']:.2f} |")


if __name__ == "__main__":
    main()
