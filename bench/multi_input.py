"""The losses of several differentiable inputs (registry kind "multi"), value + every gradient.

    python bench/multi_input.py [--threads 1 2] [--dtype float32] [--cases minibatch big 1e7]

For every such loss in the registry, on a cache-sized minibatch and on a big array:
fastloss with ``out=`` (a tuple of preallocated gradient buffers) against PyTorch's
forward + backward (every input requiring grad) at the same thread count, and the
bandwidth floor of the bytes the call must move (every array read once, every gradient
written once): a triad's time per byte, from the same run, times those bytes. Force a
SIMD level with FASTLOSS_SIMD=baseline|avx2|avx512 (one process per level). Best of 5
calls, three rounds interleaved. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

# (label, shape): one loss per element, or per row of D = 64 features
SIZES = {"elements": [("minibatch", (64, 64)), ("big", (1000, 1000)), ("1e7", (10000, 1000))],
         "rows": [("minibatch", (256, 64)), ("big", (16384, 64)), ("1e7", (156250, 64))]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--cases", nargs="+", default=["minibatch", "big"],
                    help="of minibatch, big (10**6 elements per array), 1e7")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F

    import fastloss
    from fastloss import _dispatch
    from fastloss._data import differentiated, make_arrays
    from impls import bytes_moved, grad_buffers
    from linear_ce import best

    simd = _dispatch.load("_simd")
    dtype = np.dtype(args.dtype)
    print(f"{dtype}, value + every gradient; best of 5 calls, 3 rounds interleaved; "
          f"SIMD level {_dispatch.SIMD_LEVEL}; PyTorch {torch.__version__}")
    print(f"{'loss':<24}{'case':<10}{'shape':<14}{'thr':>4}{'fastloss us':>12}{'PyTorch us':>11}"
          f"{'speed-up':>9}{'x floor':>8}")
    for spec in (s for s in fastloss.REGISTRY.values() if s.multi_input):
        for label, shape in SIZES["rows" if spec.mean_over == "rows" else "elements"]:
            if label not in args.cases:
                continue
            arrays = make_arrays(spec, shape, dtype, seed=0)
            bufs = grad_buffers(spec, arrays)
            fn = getattr(fastloss, spec.name)
            ts = [torch.from_numpy(a) for a in arrays]
            diff = differentiated(spec)
            x = arrays[0].reshape(-1)
            g = np.empty_like(x)
            per_byte_bytes = 3 * x.nbytes  # a triad moves three arrays of x's size
            for nt in args.threads:
                torch.set_num_threads(nt)

                def ours():
                    fn(*arrays, out=bufs, n_threads=nt)

                def theirs():
                    a = [t.detach().requires_grad_() if d else t for t, d in zip(ts, diff)]
                    getattr(F, spec.torch)(*a).backward()

                def floor():
                    simd.triad(x, x, g, nt)

                fns = {"ours": ours, "torch": theirs, "floor": floor}
                for f in fns.values():
                    f()
                t = {k: float("inf") for k in fns}
                for _ in range(3):
                    for k, f in fns.items():
                        t[k] = min(t[k], best(f, 5))
                floor_s = t["floor"] / per_byte_bytes * bytes_moved(spec, arrays)
                print(f"{spec.name:<24}{label:<10}{str(shape):<14}{nt:>4}{t['ours'] * 1e6:>12.1f}"
                      f"{t['torch'] * 1e6:>11.1f}{t['torch'] / t['ours']:>8.2f}x"
                      f"{t['ours'] / floor_s:>8.1f}")


if __name__ == "__main__":
    main()
