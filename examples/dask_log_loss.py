"""Evaluate the log loss (softmax cross-entropy) and accuracy of a linear model
over a Dask array larger than one chunk, and compare with the in-memory value.

``fastloss.dask.cross_entropy`` runs the fused kernel on each chunk of logits and
combines the per-chunk sums by an exact tree reduction, so the result is the
in-memory number (to about 1e-16) for any chunking, and the same bits on every
run. By default the threaded scheduler runs it; ``--cluster`` starts a
``dask.distributed.LocalCluster`` of 2 worker processes on loopback.

    python examples/dask_log_loss.py [--rows 400000] [--chunk 50000] [--cluster]

Needs dask (with its array extra) besides fastloss, and distributed for ``--cluster``:

    python -m pip install "dask[array]" distributed     # or: -r requirements/examples.txt
"""

from __future__ import annotations

import argparse

import dask
import dask.array as da
import numpy as np

import fastloss
import fastloss.dask as fld


def main(rows=400_000, chunk=50_000, classes=10, features=20, cluster=False, quiet=False):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((features, classes))
    X = da.random.default_rng(1).standard_normal((rows, features), chunks=(chunk, features))
    logits = X @ W  # lazy, chunked like X
    # noisy labels (Gumbel-max sampling): the model is right only part of the time
    noise = da.random.default_rng(2).gumbel(size=logits.shape, chunks=logits.chunks)
    labels = (logits + 3 * noise).argmax(axis=1)
    value, n_correct = fld.cross_entropy(logits, labels, return_accuracy=True, n_threads=1)
    assert logits.numblocks[0] > 1
    if cluster:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as lc, Client(lc) as client:
            value, n_correct, z, t = client.compute([value, n_correct, logits, labels], sync=True)
    else:
        with dask.config.set(scheduler="threads", num_workers=2):
            value, n_correct, z, t = dask.compute(value, n_correct, logits, labels)
    in_memory, correct_mem = fastloss.cross_entropy(z, t, return_accuracy=True)
    rel = abs(float(value) - in_memory) / in_memory
    if not quiet:
        print(f"{rows} rows in {logits.numblocks[0]} chunks: log loss {float(value):.12f}, "
              f"accuracy {int(n_correct) / rows:.4f}")
        print(f"in memory: log loss {in_memory:.12f}, relative difference {rel:.1e}")
    return {"value": float(value), "in_memory": in_memory, "rel": rel,
            "n_correct": int(n_correct), "n_correct_in_memory": correct_mem,
            "chunks": logits.numblocks[0]}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=400_000)
    p.add_argument("--chunk", type=int, default=50_000)
    p.add_argument("--cluster", action="store_true")
    a = p.parse_args()
    main(a.rows, a.chunk, cluster=a.cluster)
