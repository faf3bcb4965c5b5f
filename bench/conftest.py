"""Options of the benchmark suite (run it with ``pytest bench``; see bench/README.md)."""

import os

# Several OpenMP runtimes share this process (fastloss's and scikit-learn's libgomp,
# PyTorch's own). With the default active wait, one library's idle workers spin for
# ~0.3 s after each call and take the cores from whichever runs next (seen:
# scikit-learn's cross-entropy 1.5x slower right after PyTorch). Passive waiting
# removes that bias; it must be set before any runtime loads, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402


def pytest_addoption(parser):
    g = parser.getgroup("fastloss bench")
    g.addoption("--losses", default="", help="comma-separated loss names (default: every registered loss)")
    g.addoption("--sizes", default="100000,1000000,10000000", help="comma-separated element counts")
    g.addoption("--dtypes", default="float32,float64")
    g.addoption("--threads", default="1,2", help="comma-separated thread counts")
    g.addoption("--impls", default="", help="comma-separated implementations (default: all)")
    g.addoption("--rounds", default=5, type=int, help="timed rounds per case")


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    import fastloss
    from impls import implementations

    opt = metafunc.config.getoption
    names = [s for s in opt("losses").split(",") if s] or list(fastloss.REGISTRY)
    impl_filter = [s for s in opt("impls").split(",") if s]
    cases, ids = [], []
    for name in names:
        spec = fastloss.REGISTRY[name]
        for dt in opt("dtypes").split(","):
            for n in (int(float(s)) for s in opt("sizes").split(",")):
                for nt in (int(s) for s in opt("threads").split(",")):
                    for impl in implementations(spec, np.dtype(dt), nt):
                        if impl_filter and impl not in impl_filter:
                            continue
                        cases.append((name, dt, n, nt, impl))
                        ids.append(f"{name}-{dt}-{n}-t{nt}-{impl}")
    metafunc.parametrize("case", cases, ids=ids)
