"""Two builds of fastloss side by side, interleaved in one run (prints numbers, asserts nothing).

Each build is a directory that holds an importable ``fastloss`` (an unpacked wheel, or
``src`` after an in-place build). Rounds alternate between the builds, each in a
process of its own (the same package cannot be imported twice), so that drift of
a shared machine hits both alike. Per loss: float32 value+grad with ``out=`` at
10**7 elements (``--n``; (10**6, 10) for the row-wise losses), as a multiple of the same
process's triad floor over the same bytes, at 1 and 2 threads; then the per-call
cost at N = 1.

    python bench/compare_builds.py OLD_DIR NEW_DIR [--rounds 3] [--simd avx2] [--losses a,b] [--n 65536]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_ONE_ROUND = r"""
import json, os, sys, timeit
import numpy as np
import fastloss
from fastloss import _dispatch
from fastloss._data import make_arrays
from fastloss._registry import LOSSES

def best(f, number, repeat):
    f()
    return min(timeit.repeat(f, number=number, repeat=repeat)) / number

N = int(os.environ["FL_COMPARE_N"])
CALLS = max(2, 2 * 10**7 // N)  # per timing: about 2e7 elements
out = {"level": _dispatch.SIMD_LEVEL, "floor": {}, "ratio": {}, "n1": {}}
simd = _dispatch.load("_simd")
x, y = make_arrays(fastloss.REGISTRY["mse_loss"], (N,), np.float32, seed=1)
g = np.empty_like(x)
for nt in (1, 2):
    floor = best(lambda: simd.triad(x, y, g, nt), CALLS + 1, 5)
    out["floor"][nt] = floor
    only = os.environ.get("FL_COMPARE_LOSSES")
    for spec in LOSSES:
        if not spec.differentiable or (only and spec.name not in only.split(",")):
            continue
        if spec.kind == "multi":  # a gradient per input: bench/multi_input.py
            continue
        shape = (N,) if spec.kind == "pointwise" else (N // 10, 10)
        arrays = make_arrays(spec, shape, np.float32, seed=1)
        gg = np.empty_like(arrays[0])
        fn = getattr(fastloss, spec.name)
        t = best(lambda: fn(*arrays, out=gg, n_threads=nt), CALLS, 5)
        out["ratio"][f"{spec.name}|{nt}"] = t / floor
# The other loop bodies: per-element weights, and reduction="none", 1 thread.
sw = np.random.default_rng(2).uniform(0.5, 2.0, N)
for name in ("mse_loss", "huber_loss", "quantile_loss", "binary_cross_entropy_with_logits"):
    if only and name not in only.split(","):
        continue
    arrays = make_arrays(fastloss.REGISTRY[name], (N,), np.float32, seed=1)
    gg = np.empty_like(arrays[0])
    fn = getattr(fastloss, name)
    floor = out["floor"][1]
    out["ratio"][f"{name} sample_weight|1"] = best(lambda: fn(*arrays, out=gg, sample_weight=sw, n_threads=1), CALLS, 5) / floor
    out["ratio"][f"{name} reduction=none|1"] = best(lambda: fn(*arrays, out=gg, reduction="none", n_threads=1), CALLS, 5) / floor
for name in ("mse_loss", "huber_loss", "poisson_nll_loss", "binary_cross_entropy_with_logits"):
    arrays = make_arrays(fastloss.REGISTRY[name], (1,), np.float32)
    gg = np.empty_like(arrays[0])
    fn = getattr(fastloss, name)
    out["n1"][name + " out="] = best(lambda: fn(*arrays, out=gg), 20000, 7)
    out["n1"][name + " return_grad"] = best(lambda: fn(*arrays, return_grad=True), 20000, 7)
    out["n1"][name + " value"] = best(lambda: fn(*arrays), 20000, 7)
print(json.dumps(out))
"""


def run(build: str, simd: str | None, losses: str, n: int) -> dict:
    # absolute: the rounds run from / (so that no fastloss in the working directory is imported)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(build), OMP_WAIT_POLICY="passive", FL_COMPARE_LOSSES=losses,
               FL_COMPARE_N=str(n))
    if simd:
        env["FASTLOSS_SIMD"] = simd
    r = subprocess.run([sys.executable, "-c", _ONE_ROUND], env=env, capture_output=True, text=True,
                       cwd="/", check=True)
    return json.loads(r.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--simd", default=None)
    ap.add_argument("--losses", default="", help="comma-separated subset (default: every loss)")
    ap.add_argument("--n", type=int, default=10**7,
                    help="elements per call (default 10**7, memory-bound; e.g. 65536: cache-resident)")
    a = ap.parse_args()
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(a.rounds):
        for key, path in (("old", a.old), ("new", a.new)):
            runs[key].append(run(path, a.simd, a.losses, a.n))
    level = {k: v[0]["level"] for k, v in runs.items()}
    print(f"SIMD level old {level['old']}, new {level['new']}; {a.n} elements; {a.rounds} interleaved "
          f"rounds; medians")
    for nt in ("1", "2"):
        fl = {k: statistics.median(r["floor"][nt] for r in v) for k, v in runs.items()}
        print(f"\n{nt} thread(s): triad floor old {fl['old'] * 1e6:.1f} us, new {fl['new'] * 1e6:.1f} us")
        print(f"{'loss':<50}{'old x floor':>12}{'new x floor':>12}{'new/old':>9}{'time new/old':>14}")
        for key in runs["old"][0]["ratio"]:
            name, t = key.split("|")
            if t != nt:
                continue
            o = statistics.median(r["ratio"][key] for r in runs["old"])
            n = statistics.median(r["ratio"][key] for r in runs["new"])
            # the same ratio of absolute times (medians of each round's seconds)
            to = statistics.median(r["ratio"][key] * r["floor"][nt] for r in runs["old"])
            tn = statistics.median(r["ratio"][key] * r["floor"][nt] for r in runs["new"])
            print(f"{name:<50}{o:12.2f}{n:12.2f}{n / o:9.2f}{tn / to:14.2f}")
    print("\nper-call cost at N = 1, float32 (us)")
    print(f"{'call':<50}{'old':>8}{'new':>8}")
    for key in runs["old"][0]["n1"]:
        o = statistics.median(r["n1"][key] for r in runs["old"])
        n = statistics.median(r["n1"][key] for r in runs["new"])
        print(f"{key:<50}{o * 1e6:8.2f}{n * 1e6:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
