"""A small PyTorch training loop with F.cross_entropy and with fastloss.torch.cross_entropy.

    python bench/torch_loop.py [--batch 32] [--classes 10] [--threads 1 2] [--epochs 3]

An MLP (64 -> 128 -> C) trained by SGD on a synthetic data set of 20,000 samples,
one epoch per measurement, the two losses interleaved in one process (same data, same
initial weights), every configuration timed ``--epochs`` times; prints the median epoch
time of each and their ratio. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import fastloss.torch as ft


def epoch(model, opt, X, Y, batch, loss_fn):
    start = time.perf_counter()
    for i in range(0, len(X) - batch + 1, batch):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X[i:i + batch]), Y[i:i + batch])
        loss.backward()
        opt.step()
    return time.perf_counter() - start, float(loss)


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
            for _ in range(args.epochs):  # interleaved
                for k, fn in losses.items():
                    t, final[k] = epoch(*models[k], X, Y, batch, fn)
                    times[k].append(t)
            a, b = (statistics.median(times[k]) for k in losses)
            print(f"| {nt} | {batch} | {a:.3f} | {b:.3f} | {a / b:.2f} |"
                  f"  final losses {final['F.cross_entropy']:.6f} / "
                  f"{final['fastloss.torch.cross_entropy']:.6f}")


if __name__ == "__main__":
    main()
