"""``python -m fastloss``: run every registered loss, check it, time it.

Each loss runs on generated data (value and gradient, ``out=`` reused) in
float32 and float64, is compared with ``fastloss.reference`` and timed against
it. Exits with status 1 if any result is outside its tolerance.
"""

from __future__ import annotations

import argparse
import sys
import timeit

import numpy as np

import fastloss
from fastloss import reference
from fastloss._data import make_arrays
from fastloss._registry import LOSSES

# Width of the loss-name column.
W = max(len(spec.name) for spec in LOSSES) + 2

# Relative tolerance against the float64 reference, per dtype.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def max_rel_error(value, grad, ref_value, ref_grad) -> float:
    """Relative error of the value and normwise relative error of the gradient."""
    ev = abs(value - ref_value) / max(abs(ref_value), np.finfo(np.float64).tiny)
    if grad is None:  # a metric
        return float(ev)
    scale = max(np.max(np.abs(ref_grad)), np.finfo(np.float64).tiny)
    eg = np.max(np.abs(grad.astype(np.float64) - ref_grad)) / scale
    return float(max(ev, eg))


def _best_time(fn, repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def run(n: int, repeat: int, names: list[str] | None) -> bool:
    ok = True
    header = f"{'loss':<{W}}{'dtype':<9}{'N':>10}{'fastloss ms':>13}{'NumPy ms':>11}{'speed-up':>10}{'max rel err':>13}"
    print(header)
    print("-" * len(header))
    for spec in LOSSES:
        if names and spec.name not in names:
            continue
        fn = getattr(fastloss, spec.name)
        ref = getattr(reference, spec.name)
        for dtype in (np.float32, np.float64):
            arrays = make_arrays(spec, (n,), dtype)  # rowwise: (n / 10, 10)
            grad = np.empty_like(arrays[0]) if spec.differentiable else None
            kw = {"out": grad} if spec.differentiable else {}
            value = fn(*arrays, **kw)
            value = value[0] if spec.differentiable else value
            ref_value, ref_grad = ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a
                                        for a in arrays])
            err = max_rel_error(value, grad, ref_value, ref_grad)
            t_fast = _best_time(lambda: fn(*arrays, **kw), repeat)
            t_ref = _best_time(lambda: ref(*arrays), repeat)
            good = err <= TOLERANCE[dtype]
            ok &= good
            print(f"{spec.name:<{W}}{np.dtype(dtype).name:<9}{n:>10}{t_fast * 1e3:>13.3f}"
                  f"{t_ref * 1e3:>11.3f}{t_ref / t_fast:>9.1f}x{err:>13.1e}{'' if good else '  FAIL'}")
    print()
    print(f"threads: {fastloss._omp.get_max_threads()}, OpenMP: {fastloss._omp.openmp_version != 0}; "
          "value+grad with out= reused; NumPy = fastloss.reference (float64).")
    print("all results match the reference" if ok else "SOME RESULTS DO NOT MATCH THE REFERENCE")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastloss", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10**6, help="elements per array (default 1e6)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repeats (best is shown)")
    parser.add_argument("--loss", action="append", help="only this loss (repeatable)")
    args = parser.parse_args(argv)
    return 0 if run(args.n, args.repeat, args.loss) else 1


if __name__ == "__main__":
    sys.exit(main())
