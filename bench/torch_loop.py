"""A small PyTorch training loop with F.cross_entropy and with fastloss.torch.cross_entropy.

    python bench/torch_loop.py [--batch 32] [--classes 10] [--threads 1 2] [--epochs 3]

An MLP (64 -> 128 -> C) trained by SGD on a synthetic data set of 20,000 samples,
one epoch per measurement, the two losses interleaved in one process (same data, same
initial weights), every configuration timed ``--epochs`` times; prints the median epoch
time of each and their ratio, then where a step's time goes (model forward, loss
forward, backward, optimizer step: medians in us per step). Prints numbers, asserts
nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import fastloss.torch as ft


PHASES = ("model forward", "loss forward", "backward", "optimizer step")


def epoch(model, opt, X, Y, batch, loss_fn):
    """(seconds, [seconds per phase], final loss) of one epoch."""
    clock = time.perf_counter
    parts = [0.0] * len(PHASES)
    start = clock()
    for i in range(0, len(X) - batch + 1, batch):
        t0 = clock()
        opt.zero_grad(set_to_none=True)
        z = model(X[i:i + batch])
        t1 = clock()
        loss = loss_fn(z, Y[i:i + batch])
        t2 = clock()
        loss.backward()
        t3 = clock()
        opt.step()
        t4 = clock()
        parts[0] += t1 - t0
        parts[1] += t2 - t1
        parts[2] += t3 - t2
        parts[3] += t4 - t3
    return clock() - start, parts, float(loss.detach())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--samples", type=int, default=20000)
    args = ap.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(args.samples, 64, generator=g)
    Y = (X[:, :args.classes] + 0.5 * torch.randn(args.samples, args.classes, generator=g)).argmax(1)
    losses = {"F.cross_entropy": F.cross_entropy, "fastloss.torch.cross_entropy": ft.cross_entropy}
    print(f"torch {torch.__version__}; {args.samples} samples, MLP 64-128-{args.classes}, SGD")
    print("| threads | batch | F.cross_entropy s/epoch | fastloss.torch s/epoch | ratio (torch / fastloss) |")
    print("|---|---|---|---|---|")
    split = []
    for nt in args.threads:
        torch.set_num_threads(nt)
        for batch in args.batch:
            times = {k: [] for k in losses}
            models = {}
            for k in losses:
                torch.manual_seed(1)
                m = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                        torch.nn.Linear(128, args.classes))
                models[k] = (m, torch.optim.SGD(m.parameters(), lr=0.05))
            final = {}
            parts = {k: [] for k in losses}
            for _ in range(args.epochs):  # interleaved
                for k, fn in losses.items():
                    t, p, final[k] = epoch(*models[k], X, Y, batch, fn)
                    times[k].append(t)
                    parts[k].append(p)
            a, b = (statistics.median(times[k]) for k in losses)
            print(f"| {nt} | {batch} | {a:.3f} | {b:.3f} | {a / b:.2f} |"
                  f"  final losses {final['F.cross_entropy']:.6f} / "
                  f"{final['fastloss.torch.cross_entropy']:.6f}")
            steps = len(X) // batch
            for k in losses:
                split.append((nt, batch, k, [statistics.median(p[j] for p in parts[k]) / steps * 1e6
                                             for j in range(len(PHASES))]))
    print("\nus per step, medians over the epochs")
    print("| threads | batch | loss | " + " | ".join(PHASES) + " |")
    print("|---|---|---|" + "---|" * len(PHASES))
    for nt, batch, k, us in split:
        print(f"| {nt} | {batch} | {k} | " + " | ".join(f"{u:.1f}" for u in us) + " |")


if __name__ == "__main__":
    main()
