"""cross_entropy on a segmentation batch: (N, C, H, W) logits, (N, H, W) class targets.

    python bench/segmentation.py [--shape 16 21 256 256] [--threads 1 2] [--levels avx512 avx2 baseline]

value + gradient, float32, three ways interleaved in one process per SIMD level
(FASTLOSS_SIMD forced in a child process; levels the CPU lacks are skipped):
fastloss on the (N, C, H, W) input as it is (``out=``), fastloss on the same data moved to
(N*H*W, C) and the gradient moved back (the transposed copies a user would otherwise
write), and PyTorch's forward + backward at the same thread count. Prints the best of
5 calls (best of 3 rounds) in ms and the ratios. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def child(shape, n_threads):
    import numpy as np
    import torch
    import torch.nn.functional as F

    import fastloss
    from linear_ce import best as _best  # best of `repeat` calls (bench/ is on sys.path)

    torch.set_num_threads(n_threads)
    n, c, h, w = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, c, (n, h, w))
    g = np.empty_like(x)

    def spatial():
        fastloss.cross_entropy(x, t, out=g, n_threads=n_threads)

    def transposed():
        rows = np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, c)
        _, gr = fastloss.cross_entropy(rows, t.reshape(-1), return_grad=True, n_threads=n_threads)
        np.copyto(g, np.moveaxis(gr.reshape(n, h, w, c), -1, 1))

    X, T = torch.from_numpy(x), torch.from_numpy(t)

    def pytorch():
        xx = X.detach().requires_grad_()
        F.cross_entropy(xx, T).backward()

    fns = {"spatial": spatial, "transposed": transposed, "torch": pytorch}
    for f in fns.values():
        f()
    best = {k: float("inf") for k in fns}
    for _ in range(3):  # rounds, the three interleaved
        for k, f in fns.items():
            best[k] = min(best[k], _best(f, 5))
    from fastloss._config import simd_level

    return {"level": simd_level(), "threads": n_threads, **{k: v * 1e3 for k, v in best.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=4, default=[16, 21, 256, 256])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--levels", nargs="+", default=["avx512", "avx2", "baseline"])
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(tuple(a.shape), a.child)))
        return
    print(f"cross_entropy value+grad, float32 {tuple(a.shape)}; best of 5 x 3 rounds, ms")
    print("| level | threads | fastloss (N, C, H, W) | via (N*H*W, C) copies | PyTorch | "
          "PyTorch / fastloss | copies / fastloss |")
    print("|---|---|---|---|---|---|---|")
    for level in a.levels:
        for nt in a.threads:
            env = dict(os.environ, FASTLOSS_SIMD=level)
            p = subprocess.run([sys.executable, __file__, "--shape", *map(str, a.shape),
                                "--child", str(nt)], env=env, capture_output=True, text=True)
            if p.returncode:
                print(f"| {r['level']} | {nt} | (not run: {p.stderr.strip().splitlines()[-1]}) |")
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            print(f"| {r['level']} | {nt} | {r['spatial']:.3g} | {r['transposed']:.3g} | {r['torch']:.3g} | "
                  f"{r['torch'] / r['spatial']:.2f} | {r['transposed'] / r['spatial']:.2f} |")


if __name__ == "__main__":
    main()
