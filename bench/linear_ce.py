"""fastloss.linear_cross_entropy against PyTorch's unfused head and the GEMM floor.

    python bench/linear_ce.py speed [--sizes 4096x256x32000 8192x1024x128000] [--threads 1 2]
    python bench/linear_ce.py memory [--size 8192x1024x128000]

speed: value + every gradient, float32, best of --repeat calls, at each thread count
(fastloss's n_threads, the BLAS's threads through threadpoolctl, torch.set_num_threads),
the implementations interleaved in one process:
  - fastloss: linear_cross_entropy(..., return_grad=True), and the share of its time spent
    in the BLAS products (timed by wrapping fastloss._blas.gemm);
  - PyTorch: F.cross_entropy(F.linear(h, W), y) forward + backward (it materialises the
    (N, V) logits, their softmax and their gradient);
  - floor: three plain GEMMs of the same sizes through the same BLAS (SciPy's, via
    fastloss._blas.gemm): Z = h W^T, Z W and Z^T h.
memory: peak RSS growth of ONE value + gradient call, each implementation in a process
of its own (the inputs made first): fastloss, PyTorch unfused, and fastloss's own
cross_entropy on materialised logits. The growth includes the returned gradients
(d_input and d_weight: the same for all), which the table also lists.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def parse_size(text):
    n, h, v = (int(p) for p in text.lower().split("x"))
    return n, h, v


def inputs(n, h, v, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h), dtype=np.float32)
    w = rng.standard_normal((v, h), dtype=np.float32) / np.float32(np.sqrt(h))
    t = rng.integers(0, v, n)
    return x, w, t


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- memory: one process per implementation ----

def memory_child(impl, n, h, v):
    x, w, t = inputs(n, h, v)
    if impl == "pytorch":
        import torch
        import torch.nn.functional as F

        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        tt = torch.from_numpy(t)
        before = rss_mb()
        F.cross_entropy(F.linear(xt, wt), tt).backward()
    else:
        import fastloss
        from fastloss import _blas

        before = rss_mb()
        if impl == "fastloss":
            fastloss.linear_cross_entropy(x, w, t, return_grad=True)
        else:  # fastloss's cross_entropy on the materialised logits, in place
            z = np.empty((n, v), np.float32)
            _blas.gemm(z, x, w, False, True, 1.0, 0.0)
            fastloss.cross_entropy(z, t, out=z)
            dx, dw = np.empty_like(x), np.empty_like(w)
            _blas.gemm(dx, z, w, False, False, 1.0, 0.0)
            _blas.gemm(dw, z, x, True, False, 1.0, 0.0)
    print(json.dumps({"impl": impl, "growth_mb": rss_mb() - before}))


def memory(size):
    n, h, v = size
    logits_mb = n * v * 4 / 2**20
    grads_mb = (n * h + v * h) * 4 / 2**20
    print(f"(N, H, V) = {size}, float32: logits {logits_mb:.0f} MB, returned gradients "
          f"{grads_mb:.0f} MB")
    print(f"{'implementation':<34}{'peak RSS growth MB':>20}{'beyond the gradients MB':>26}"
          f"{'x logits':>10}")
    for impl, label in (("fastloss", "fastloss.linear_cross_entropy"),
                        ("pytorch", "PyTorch unfused fwd+bwd"),
                        ("materialised", "fastloss cross_entropy, logits")):
        r = subprocess.run([sys.executable, __file__, "_memory_child", impl, str(n), str(h), str(v)],
                           capture_output=True, text=True, check=True)
        growth = json.loads(r.stdout.strip().splitlines()[-1])["growth_mb"]
        extra = growth - grads_mb
        print(f"{label:<34}{growth:>20.0f}{extra:>26.0f}{extra / logits_mb:>10.3f}")


# ---- speed: interleaved in one process ----

def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed(sizes, threads, repeat):
    import threadpoolctl
    import torch
    import torch.nn.functional as F

    import fastloss
    from fastloss import _blas

    _blas.load()  # SciPy's BLAS loaded before threadpoolctl looks for the libraries to limit
    print(f"float32, best of {repeat}; BLAS: SciPy's ({_blas_info(threadpoolctl)}); "
          f"PyTorch {torch.__version__}")
    print(f"{'(N, H, V)':<22}{'thr':>4}{'fastloss s':>12}{'BLAS share':>11}{'PyTorch s':>11}"
          f"{'floor s':>9}{'x floor':>9}{'PyTorch/fastloss':>18}")
    for n, h, v in sizes:
        x, w, t = inputs(n, h, v)
        xt, wt, tt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(t)
        dx, dw = np.empty_like(x), np.empty_like(w)
        for k in threads:
            torch.set_num_threads(k)
            blas_time = [0.0]
            real_gemm = _blas.gemm

            def timed_gemm(*a):
                t0 = time.perf_counter()
                real_gemm(*a)
                blas_time[0] += time.perf_counter() - t0

            def run_fastloss():
                fastloss.linear_cross_entropy(x, w, t, out=(dx, dw), n_threads=k)

            def run_torch():
                a = xt.clone().requires_grad_()
                b = wt.clone().requires_grad_()
                F.cross_entropy(F.linear(a, b), tt).backward()

            def run_floor():
                # The (N, V) product held only while the floor runs (PyTorch needs the
                # memory at the large size); its first touch is not timed.
                z = np.empty((n, v), np.float32)
                z.fill(0.0)  # touched: np.zeros would leave the page faults to the timed part
                t0 = time.perf_counter()
                _blas.gemm(z, x, w, False, True, 1.0, 0.0)
                _blas.gemm(dx, z, w, False, False, 1.0, 0.0)
                _blas.gemm(dw, z, x, True, False, 1.0, 0.0)
                return time.perf_counter() - t0

            with threadpoolctl.threadpool_limits(limits=k, user_api="blas"):
                run_fastloss()  # warm-up (and the BLAS share, below)
                t_fl, t_pt, t_fl2, t_floor = [], [], [], []
                for _ in range(repeat):  # interleaved
                    t_fl.append(best(run_fastloss, 1))
                    t_pt.append(best(run_torch, 1))
                    t_floor.append(run_floor())
                _blas.gemm = timed_gemm
                try:
                    t_fl2.append(best(run_fastloss, 1))
                finally:
                    _blas.gemm = real_gemm
            f, p, fl = min(t_fl), min(t_pt), min(t_floor)
            share = blas_time[0] / t_fl2[0]
            print(f"{str((n, h, v)):<22}{k:>4}{f:>12.3f}{share:>10.0%}{p:>11.3f}{fl:>9.3f}"
                  f"{f / fl:>9.3f}{p / f:>18.2f}", flush=True)


def _blas_info(threadpoolctl):
    for lib in threadpoolctl.threadpool_info():  # scipy.libs: SciPy's own (NumPy's is another)
        if lib.get("user_api") == "blas" and "scipy.libs" in lib.get("filepath", ""):
            return f"{lib.get('internal_api')} {lib.get('version')}, {lib.get('architecture')}"
    return "unknown"


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "_memory_child":
        impl, n, h, v = sys.argv[2], *map(int, sys.argv[3:6])
        return memory_child(impl, n, h, v)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--sizes", nargs="+", type=parse_size,
                    default=[(4096, 256, 32000), (8192, 1024, 128000)])
    sp.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    sp.add_argument("--repeat", type=int, default=3)
    mp = sub.add_parser("memory")
    mp.add_argument("--size", type=parse_size, default=(8192, 1024, 128000))
    a = ap.parse_args(argv)
    if a.mode == "speed":
        speed(a.sizes, a.threads, a.repeat)
    else:
        memory(a.size)


if __name__ == "__main__":
    main()
