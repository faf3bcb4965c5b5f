"""Per-call overhead and OpenMP behaviour probes (quick; prints numbers, asserts nothing).

    python bench/overhead.py            # per-call cost at N=1 and N=1000, and its parts
    python bench/overhead.py --omp      # parallel threshold and libgomp spin after a region
"""

from __future__ import annotations

import os
import subprocess
import sys
import timeit

import numpy as np

import fastloss
from fastloss import _dispatch
from fastloss._data import make_arrays


def per_call(name, n, dtype=np.float32, number=20000, repeat=7):
    spec = fastloss.REGISTRY[name]
    arrays = make_arrays(spec, (n,), dtype)
    g = np.empty_like(arrays[0])
    f = getattr(fastloss, name)
    f(*arrays, out=g)
    return min(timeit.repeat(lambda: f(*arrays, out=g), number=number, repeat=repeat)) / number


def raw_kernel(name, n, dtype=np.float32, number=20000, repeat=7):
    spec = fastloss.REGISTRY[name]
    arrays = make_arrays(spec, (n,), dtype)
    g = np.empty_like(arrays[0])
    k = getattr(_dispatch.load("_pointwise"), f"{name}_{'f32' if dtype == np.float32 else 'f64'}")
    args = [float(v) for v in spec.defaults.values()]
    return min(timeit.repeat(lambda: k(*arrays, g, None, None, 1, 1.0, 1, *args),
                             number=number, repeat=repeat)) / number


def peers(n, number=5000, repeat=5):
    x, y = make_arrays(fastloss.REGISTRY["mse_loss"], (n,), np.float32)
    out = {}

    def np_plain():
        d = x - y
        return (d * d).mean(), 2 * d / n

    out["numpy_plain"] = np_plain
    try:
        import torch
        import torch.nn.functional as F

        xs, ys = torch.from_numpy(x), torch.from_numpy(y)

        def tr():
            xt = xs.detach().requires_grad_()
            v = F.mse_loss(xt, ys)
            v.backward()
            return v

        out["torch"] = tr
    except ImportError:
        pass
    return {k: min(timeit.repeat(f, number=number, repeat=repeat)) / number for k, f in out.items()}


def _best(f, number=20000, repeat=7):
    f()
    return min(timeit.repeat(f, number=number, repeat=repeat)) / number


def rowwise_calls(name, shape, dtype=np.float32):
    """Per-call time of each call form of a row-wise loss, and of its raw kernel."""
    spec = fastloss.REGISTRY[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.integers(0, shape[1], shape[0])
    g = np.empty_like(x)
    f = getattr(fastloss, name)
    k = getattr(_dispatch.load("_rowwise"), f"{spec.kernels['class']}_"
                f"{'f32' if dtype == np.float32 else 'f64'}")
    vectors = [np.full(shape[1], a.fill) for a in spec.array_params]
    params = [float(p.default) for p in spec.params if p.name != "ignore_index"]
    ignore = [-100] if "ignore_index" in spec.param_names else [-1]
    nt = fastloss.get_num_threads() if hasattr(fastloss, "get_num_threads") else 1
    return {
        "out=": _best(lambda: f(x, t, out=g)),
        "return_grad": _best(lambda: f(x, t, return_grad=True)),
        "value": _best(lambda: f(x, t)),
        "raw kernel": _best(lambda: k(x, t, *ignore, g, None, None, 1.0 / shape[0], nt,
                                      *vectors, *params)),
    }


def main_overhead():
    print(f"SIMD level {_dispatch.SIMD_LEVEL}; float32, 1 thread default")
    print("pointwise, value+grad with out= / return_grad=True / value only:")
    for name in ("mse_loss", "huber_loss", "poisson_nll_loss"):
        spec = fastloss.REGISTRY[name]
        f = getattr(fastloss, name)
        for n in (1, 1000):
            t = per_call(name, n)
            k = raw_kernel(name, n)
            arrays = make_arrays(spec, (n,), np.float32)
            rg = _best(lambda: f(*arrays, return_grad=True))
            v = _best(lambda: f(*arrays))
            print(f"  {name:<18} N={n:<5} out= {t * 1e6:5.2f} us  return_grad {rg * 1e6:5.2f} us  "
                  f"value {v * 1e6:5.2f} us   raw kernel {k * 1e6:5.2f} us   "
                  f"Python layer (out=) {(t - k) * 1e6:5.2f} us")
    print("row-wise, class targets (each form minus the raw kernel):")
    for name, shape in (("cross_entropy", (32, 10)), ("cross_entropy", (256, 10)),
                        ("softmax_focal_loss", (32, 10)), ("multi_margin_loss", (32, 10))):
        r = rowwise_calls(name, shape)
        raw = r.pop("raw kernel")
        print(f"  {name:<18} {str(shape):<10} raw kernel {raw * 1e6:5.2f} us; " + ", ".join(
            f"{k} {v * 1e6:5.2f} us (+{(v - raw) * 1e6:4.2f})" for k, v in r.items()))
    for n in (1, 1000):
        print(f"  peers N={n}: " + ", ".join(f"{k} {v * 1e6:.1f} us" for k, v in peers(n).items()))


def _time_threads(name, n, nt, reps=200):
    spec = fastloss.REGISTRY[name]
    arrays = make_arrays(spec, (n,), np.float32)
    g = np.empty_like(arrays[0])
    f = getattr(fastloss, name)
    f(*arrays, out=g, n_threads=nt)
    return min(timeit.repeat(lambda: f(*arrays, out=g, n_threads=nt), number=reps, repeat=5)) / reps


def main_omp():
    print("parallel threshold: time(2 threads) / time(1 thread), float32 value+grad (PARALLEL_MIN "
          "= 32768: below it both run serially)")
    for name in ("mse_loss", "log_cosh_loss"):
        for n in (32768, 65536, 131072, 262144, 1048576):
            t1 = _time_threads(name, n, 1)
            t2 = _time_threads(name, n, 2)
            print(f"  {name:<14} N={n:<8} 1t {t1 * 1e6:8.1f} us  2t {t2 * 1e6:8.1f} us  ratio {t2 / t1:.2f}")
    print("libgomp spin after a region: 256x256 float64 matmul right after a 2-thread loss call")
    code = (
        "import numpy as np, timeit, fastloss\n"
        "from fastloss._data import make_arrays\n"
        "x,y=make_arrays(fastloss.REGISTRY['mse_loss'],(1<<20,),np.float32); g=np.empty_like(x)\n"
        "a=np.random.rand(256,256)\n"
        "def alone(): a@a\n"
        "def mixed(): fastloss.mse_loss(x,y,out=g,n_threads=2); a@a\n"
        "def loss(): fastloss.mse_loss(x,y,out=g,n_threads=2)\n"
        "ta=min(timeit.repeat(alone,number=50,repeat=5))/50; tm=min(timeit.repeat(mixed,number=50,repeat=5))/50\n"
        "tl=min(timeit.repeat(loss,number=50,repeat=5))/50\n"
        "print(f'matmul {ta*1e6:7.1f} us, loss {tl*1e6:7.1f} us, loss+matmul {tm*1e6:7.1f} us, "
        "excess {(tm-ta-tl)*1e6:+7.1f} us')\n"
    )
    for env in ({}, {"OMP_WAIT_POLICY": "passive"}, {"GOMP_SPINCOUNT": "0"}, {"OMP_WAIT_POLICY": "active"}):
        e = dict(os.environ, **env)
        r = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
        print(f"  {str(env or 'default'):<32} {r.stdout.strip() or r.stderr.strip()[-200:]}")


if __name__ == "__main__":
    main_omp() if "--omp" in sys.argv else main_overhead()
