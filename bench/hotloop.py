"""The hot-loop suite: cache-resident minibatch calls, fastloss against PyTorch, NumPy and JAX.

    python bench/hotloop.py [--levels avx512,avx2,baseline] [--threads 1,2] [--rounds 7]
                            [--jax-python /path/to/python-with-jax] [--cases issue|all]
    python bench/hotloop.py --big [--levels ...] [--threads 1,2]

What a training or evaluation loop calls thousands of times per epoch: float32,
value + gradient, minibatch shapes that fit in cache. Per case and thread count:

- ``fastloss out=``: one call into a preallocated gradient (what a hot loop should do);
- ``fastloss rg``: ``return_grad=True``, a new gradient array per call;
- ``torch``: ``torch.nn.functional`` forward + backward on a fresh leaf
  (``torch.set_num_threads``), where PyTorch has the loss;
- ``numpy``: the plain NumPy code in float32 where ``impls.py`` has it, else
  ``fastloss.reference`` (float64: then marked ``ref``);
- ``jax``: ``jit(value_and_grad)`` on the CPU, in a process of its own (its own
  interpreter: ``--jax-python``; XLA sizes its thread pool at start-up, so it
  runs with the machine's threads, and is compared with fastloss at that count).

Each SIMD level runs in its own process (``FASTLOSS_SIMD`` is read at import);
within a process the implementations of a case are timed in interleaved rounds
and the median per-call time of each is kept, so every ratio comes from one run.
Prints a Markdown table (ratios are peer time / fastloss ``out=`` time) and
asserts nothing. Cases: the minibatch shapes of issue 13, and with
``--cases all`` every differentiable loss of the registry at (4096,) or (256, 10).

``--big``: the other regime, arrays far larger than the caches (BCE-with-logits on
10**7 elements, cross_entropy on 10**7 and more logits), as multiples of the
bandwidth floor measured in the same process, interleaved: ``_simd.triad`` over the
same bytes (x and the target read, the gradient written; for class targets x twice,
which costs one read: one read and one write per logit).

``--peers match`` (the default) runs PyTorch and JAX at the SIMD level fastloss is
forced to, so that a forced level stands for a machine that has only that level:
``ATEN_CPU_CAPABILITY`` (avx512, avx2, default) and ``XLA_FLAGS=--xla_cpu_max_isa``
(AVX512, AVX2, SSE4_2), and at baseline ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA``
so that the C library too (libm, ``fmaf``) takes its paths for a CPU without FMA.
Without it PyTorch and XLA pick the machine's best ISA whatever fastloss is forced
to, and an avx2 row compares fastloss's AVX2 code with PyTorch's AVX-512 code.
``--peers native`` gives that comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))

# case id -> (loss, shape, targets); "binary": 0/1 float targets.
ISSUE_CASES = {
    "bcel (65536,)": ("binary_cross_entropy_with_logits", (65536,), "binary"),
    "ce (1024, 100)": ("cross_entropy", (1024, 100), "class"),
    "ce (256, 100)": ("cross_entropy", (256, 100), "class"),
    "ce (256, 1000)": ("cross_entropy", (256, 1000), "class"),
    "ce (64, 32000)": ("cross_entropy", (64, 32000), "class"),
    "ce (32, 10)": ("cross_entropy", (32, 10), "class"),
    "mse (256,)": ("mse_loss", (256,), "data"),
}


def _cases(which):
    cases = dict(ISSUE_CASES)
    if which == "all":
        import fastloss

        for spec in fastloss.REGISTRY.values():
            if spec.differentiable:
                shape = (4096,) if spec.kind == "pointwise" else (256, 10)
                cases.setdefault(f"{spec.name} {shape}", (spec.name, shape, "data"))
    return cases


def _arrays(spec, shape, targets, seed=0):
    import numpy as np
    from fastloss._data import make_arrays

    arrays = list(make_arrays(spec, shape, np.float32, seed=seed))
    if targets == "binary":
        arrays[1] = (np.random.default_rng(seed).random(shape) < 0.5).astype(np.float32)
    return arrays


def _median_per_call(fns, rounds, budget=5e-3):
    """Interleaved rounds: per implementation, the median over rounds of the per-call time."""
    numbers = {}
    for k, f in fns.items():
        f()
        t = timeit.timeit(f, number=3) / 3
        numbers[k] = max(1, int(budget / max(t, 1e-7)))
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            times[k].append(timeit.timeit(f, number=numbers[k]) / numbers[k])
    return {k: statistics.median(v) for k, v in times.items()}


def child(args):
    import numpy as np

    import fastloss
    from fastloss import _dispatch

    sys.path.insert(0, HERE)
    import impls  # noqa: E402  (bench/impls.py: the peers' code)

    try:
        import torch
    except ImportError:
        torch = None
    torch_isa = torch.backends.cpu.get_cpu_capability() if torch is not None else "-"
    rows = []
    for case, (name, shape, targets) in _cases(args.cases).items():
        spec = fastloss.REGISTRY[name]
        arrays = _arrays(spec, shape, targets)
        f = getattr(fastloss, name)
        red = impls.reduction_of(spec)
        for nt in args.threads:
            g = np.empty_like(arrays[0])
            fns = {
                "fastloss out=": lambda: f(*arrays, reduction=red, out=g, n_threads=nt),
                "fastloss rg": lambda: f(*arrays, reduction=red, return_grad=True, n_threads=nt),
            }
            tfn = impls._torch_fn(spec)
            if torch is not None and tfn is not None:
                xs = torch.from_numpy(arrays[0])
                rest = [torch.from_numpy(a) for a in arrays[1:]]
                kw = impls.torch_defaults(spec)

                def run_torch(xs=xs, rest=rest, kw=kw, tfn=tfn, nt=nt):
                    xt = xs.detach().requires_grad_()
                    tfn(xt, *rest, reduction=red, **kw).backward()
                    return xt.grad

                torch.set_num_threads(nt)
                fns["torch"] = run_torch
            plain = impls._np_plain(name)
            if nt == 1:  # NumPy is single-threaded
                if plain is not None:
                    fns["numpy"] = lambda plain=plain: plain(*arrays)
                else:
                    ref = getattr(fastloss.reference, name)
                    fns["numpy ref"] = lambda ref=ref: ref(*arrays, reduction=red)
            t = _median_per_call(fns, args.rounds)
            rows.append({"level": _dispatch.SIMD_LEVEL, "case": case, "threads": nt,
                         "times": t, "torch_isa": torch_isa})
    print(json.dumps(rows))


# JAX, in its own interpreter: no fastloss import (its venv need not have it).
def child_jax(args):
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_platform_name", "cpu")
    sys.path.insert(0, HERE)
    from jax_losses import jax_loss  # noqa: E402
    rows = []
    rng = np.random.default_rng(0)
    for case, (name, shape, targets) in ISSUE_CASES.items():
        fn = jax_loss(name)
        if fn is None:
            continue
        x = rng.standard_normal(shape).astype(np.float32)
        if name == "cross_entropy":
            y = rng.integers(0, shape[1], shape[0])
        else:
            y = (rng.random(shape) < 0.5).astype(np.float32) if targets == "binary" else \
                rng.standard_normal(shape).astype(np.float32)
        vg = jax.jit(jax.value_and_grad(fn))
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def run(vg=vg, xj=xj, yj=yj):
            v, gr = vg(xj, yj)
            gr.block_until_ready()
            return v

        t = _median_per_call({"jax": run}, args.rounds)
        rows.append({"case": case, "threads": os.cpu_count(), "times": t})
    print(json.dumps(rows))


BIG_CASES = {
    "bcel (1e7,)": ("binary_cross_entropy_with_logits", (10**7,), "binary"),
    "ce (1e6, 10)": ("cross_entropy", (10**6, 10), "class"),
    "ce (1e5, 1000)": ("cross_entropy", (10**5, 1000), "class"),
    "ce (4096, 32000)": ("cross_entropy", (4096, 32000), "class"),
}


def child_big(args):
    import numpy as np

    import fastloss
    from fastloss import _dispatch

    simd = _dispatch.load("_simd")
    rows = []
    for case, (name, shape, targets) in BIG_CASES.items():
        spec = fastloss.REGISTRY[name]
        arrays = _arrays(spec, shape, targets)
        f = getattr(fastloss, name)
        x = arrays[0].reshape(-1)
        y = arrays[1].reshape(-1) if targets == "binary" else x
        g = np.empty_like(arrays[0])
        gf = np.empty_like(x)
        for nt in args.threads:
            t = _median_per_call({
                "floor": lambda nt=nt: simd.triad(x, y, gf, nt),
                "fastloss out=": lambda nt=nt: f(*arrays, out=g, n_threads=nt),
            }, args.rounds, budget=0.2)
            rows.append({"level": _dispatch.SIMD_LEVEL, "case": case, "threads": nt,
                         "times": t})
    print(json.dumps(rows))


def report_big(rows):
    lines = ["| SIMD | threads | case | floor ms | fastloss ms | x floor |", "|---|---|---|---|---|---|"]
    for r in rows:
        t = r["times"]
        lines.append(f"| {r['level']} | {r['threads']} | {r['case']} | {t['floor'] * 1e3:.2f} | "
                     f"{t['fastloss out='] * 1e3:.2f} | {t['fastloss out='] / t['floor']:.2f} |")
    return "\n".join(lines)


# fastloss level -> (ATEN_CPU_CAPABILITY, XLA's --xla_cpu_max_isa): the peers' code
# for a machine that has only that level.
PEER_ISA = {"avx512": ("avx512", "AVX512"), "avx2": ("avx2", "AVX2"),
            "baseline": ("default", "SSE4_2")}


def _peer_env(level, peers):
    env = dict(os.environ, FASTLOSS_SIMD=level)
    if peers == "match" and level in PEER_ISA:
        aten, xla = PEER_ISA[level]
        env["ATEN_CPU_CAPABILITY"] = aten
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_cpu_max_isa={xla}").strip()
        if level == "baseline":
            env["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX2,-FMA"
    return env


def _levels(requested):
    code = "import fastloss._dispatch as d; print(','.join(d.AVAILABLE_LEVELS))"
    have = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip().split(",")
    return [lv for lv in (requested.split(",") if requested else have) if lv in have]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cases", choices=("issue", "all"), default="issue")
    ap.add_argument("--jax-python", default="")
    ap.add_argument("--peers", choices=("match", "native"), default="match",
                    help="PyTorch/JAX at fastloss's forced SIMD level, or at the machine's best")
    ap.add_argument("--big", action="store_true", help="arrays beyond the caches, x the floor")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-jax", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.threads = [int(t) for t in str(args.threads).split(",")]
    if args.child:
        return child_big(args) if args.big else child(args)
    if args.child_jax:
        return child_jax(args)

    # The children keep OpenMP's default (active) wait policy, unlike conftest.py's
    # PASSIVE for the large arrays: at minibatch sizes a passive wait makes every
    # 2-thread call pay a thread wake-up (measured: fastloss BCE-with-logits 65,536
    # 76 -> 190 us, torch cross_entropy (32, 10) 34 -> 334 us), which no hot loop sees.
    common = ["--threads", ",".join(map(str, args.threads)), "--rounds", str(args.rounds),
              "--cases", args.cases] + (["--big"] if args.big else [])
    rows, jax_rows = [], []
    for level in _levels(args.levels):
        env = _peer_env(level, args.peers)
        out = subprocess.run([sys.executable, __file__, "--child", *common], env=env,
                             capture_output=True, text=True, check=True).stdout
        rows += json.loads(out)
        if args.jax_python and not args.big and (args.peers == "match" or not jax_rows):
            out = subprocess.run([args.jax_python, __file__, "--child-jax", *common],
                                 env=env, capture_output=True, text=True, check=True).stdout
            jax_rows += [dict(r, level=level) for r in json.loads(out)]
        print(f"# {level}: done", file=sys.stderr)
    if args.big:
        print(report_big(rows))
        return
    print(f"peers: {args.peers}")
    print(report(rows, jax_rows, per_level=args.peers == "match"))


def report(rows, jax_rows=(), per_level=False):
    def jkey(level, case, threads):
        return (level if per_level else None, case, threads)

    jax_t = {jkey(r["level"], r["case"], r["threads"]): r["times"]["jax"] for r in jax_rows}
    lines = ["| SIMD | torch ISA | threads | case | fastloss out= us | fastloss rg us | torch us | "
             "numpy us | jax us | torch / out= | torch / rg | numpy / out= | jax / out= |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def us(t):
        return "-" if t is None else f"{t * 1e6:.1f}"

    def ratio(a, b):
        return "-" if a is None or b is None else f"{a / b:.2f}"

    for r in rows:
        t = r["times"]
        out, rg = t["fastloss out="], t["fastloss rg"]
        np_t = t.get("numpy", t.get("numpy ref"))
        np_label = "" if "numpy" in t or np_t is None else " (ref)"
        jx = jax_t.get(jkey(r["level"], r["case"], r["threads"]))
        lines.append(f"| {r['level']} | {r.get('torch_isa', '-')} | {r['threads']} | "
                     f"{r['case']} | {us(out)} | {us(rg)} | "
                     f"{us(t.get('torch'))} | {us(np_t)}{np_label} | {us(jx)} | "
                     f"{ratio(t.get('torch'), out)} | {ratio(t.get('torch'), rg)} | "
                     f"{ratio(np_t, out)} | {ratio(jx, out)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
