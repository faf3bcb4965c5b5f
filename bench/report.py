"""Print the comparison table and draw the throughput plot from a benchmark run.

    python -m pytest bench --benchmark-json=bench/results.json [options]
    python bench/report.py bench/results.json [--png bench/throughput.png]

Per case (loss, dtype, N, threads) and implementation: median time, effective
GB/s (minimal bytes: inputs read once, gradient written once), multiple of the
bandwidth floor measured in the same run, fastloss's speed-up over it, and the
relative error of the value against the float64 reference.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = []
    for b in data["benchmarks"]:
        e = b["extra_info"]
        rows.append(dict(e, median=b["stats"]["median"], min=b["stats"]["min"]))
    return data.get("machine_info", {}), rows


def table(rows):
    cases = defaultdict(dict)
    for r in rows:
        cases[(r["loss"], r["dtype"], r["n"], r["threads"])][r["impl"]] = r
    lines = [f"{'loss':<20} {'dtype':<7} {'N':>9} {'thr':>3} {'impl':<12} {'time ms':>9} {'GB/s':>7} "
             f"{'x floor':>8} {'fastloss x':>10} {'rel err':>9}"]
    for key in sorted(cases):
        impls = cases[key]
        floor = impls.get("floor")
        fl = impls.get("fastloss")
        order = ["floor", "fastloss"] + sorted(k for k in impls if k not in ("floor", "fastloss"))
        for name in order:
            if name not in impls:
                continue
            r = impls[name]
            t = r["median"]
            gbs = r["bytes"] / t / 1e9
            xf = f"{t / floor['median']:.2f}" if floor else "-"
            sp = f"{t / fl['median']:.2f}" if fl and name not in ("fastloss", "floor") else "-"
            err = "-" if r["rel_err"] != r["rel_err"] else f"{r['rel_err']:.1e}"
            lines.append(f"{key[0]:<20} {key[1]:<7} {key[2]:>9} {key[3]:>3} {name:<12} {t * 1e3:>9.3f} "
                         f"{gbs:>7.1f} {xf:>8} {sp:>10} {err:>9}")
    return "\n".join(lines), cases


def targets(cases):
    out = []
    key = ("mse_loss", "float32", 10**7, 1)
    if key in cases:
        c = cases[key]
        fl = c["fastloss"]["median"]
        for peer, goal in (("numpy_plain", 3.5), ("torch", 5.0)):
            if peer in c:
                s = c[peer]["median"] / fl
                out.append(f"issue-2 target mse_loss 1e7 float32 1 thread vs {peer}: {s:.2f}x "
                           f"(target >= {goal}x: {'met' if s >= goal else 'NOT met'})")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = [r for r in rows if r["dtype"] == "float32"]
    losses = sorted({r["loss"] for r in sel})
    if not losses:
        return
    ncol = min(3, len(losses))
    nrow = -(-len(losses) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.6 * nrow), squeeze=False)
    for ax, loss in zip(axes.flat, losses):
        for thr, style in ((1, "-"), (2, "--")):
            by = defaultdict(list)
            for r in sel:
                if r["loss"] == loss and r["threads"] == thr:
                    by[r["impl"]].append((r["n"], r["bytes"] / r["median"] / 1e9))
            for impl, pts in sorted(by.items()):
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=3,
                        color="black" if impl == "floor" else None,
                        label=f"{impl} ({thr}t)")
        ax.set_xscale("log")
        ax.set_title(f"{loss} (float32)")
        ax.set_xlabel("elements")
        ax.set_ylabel("effective GB/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(losses):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", help="pytest-benchmark --benchmark-json output")
    p.add_argument("--png", default=None, help="write the throughput plot here")
    a = p.parse_args(argv)
    machine, rows = load(a.json)
    text, cases = table(rows)
    cpu = machine.get("cpu", {}).get("brand_raw", "?")
    simd = rows[0].get("simd", "?") if rows else "?"
    print(f"machine: {cpu}, {machine.get('cpu', {}).get('count', '?')} cpus, fastloss SIMD level {simd}")
    print(text)
    t = targets(cases)
    if t:
        print(t)
    if a.png:
        plot(rows, a.png)
        print(f"plot: {a.png}")


if __name__ == "__main__":
    main()
