"""A next-token model head trained two ways: fastloss's fused linear + cross-entropy,
and PyTorch's ``F.cross_entropy(F.linear(...))``.

The corpus is synthetic: a Markov chain over a vocabulary of V tokens in which each
token is followed by one of a few likely successors. The model embeds the current
token, passes it through a small hidden layer, and predicts the next token with a
(V, H) output layer. Both runs start from the same weights and see the same batches;
the script prints both loss curves (equal up to float32 rounding), the time per
step, and the memory of the (batch, V) logits that PyTorch materialises (three
times: logits, softmax, gradient) and fastloss never holds (it holds one block of
rows).

    python examples/lm_head_linear_cross_entropy.py [--vocab 32000] [--steps 30]

Needs torch besides fastloss (and SciPy, whose BLAS fastloss.linear_cross_entropy
uses: python -m pip install scipy). A CPU build of torch is enough:

    python -m pip install torch --index-url https://download.pytorch.org/whl/cpu
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _missing(exc):
    # Run as a script, a missing torch is one line saying how to install it.
    if __name__ != "__main__" or (exc.name or "").partition(".")[0] != "torch":
        raise exc
    sys.exit(f"{os.path.basename(__file__)}: cannot import torch ({exc}); install it with: "
             "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu")


try:
    import torch
    import torch.nn.functional as F

    import fastloss.torch as flt
    from fastloss import _linear  # its default block size, for the memory printed below
except ImportError as exc:
    _missing(exc)


def corpus(vocab, length, successors=4, seed=0):
    """Token ids of a Markov chain: each token has a few likely next tokens."""
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, vocab, (vocab, successors))
    cdf = rng.dirichlet(np.ones(successors) * 0.5, vocab).cumsum(axis=1)
    u = rng.random(length)
    tokens = np.zeros(length, np.int64)
    for i in range(1, length):
        prev = tokens[i - 1]
        tokens[i] = nxt[prev, min(np.searchsorted(cdf[prev], u[i]), successors - 1)]
    return tokens


class Model(torch.nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, hidden)
        self.mix = torch.nn.Linear(hidden, hidden)
        self.head = torch.nn.Linear(hidden, vocab)

    def hidden(self, tokens):
        return torch.tanh(self.mix(self.embed(tokens)))


def train(fused, tokens, vocab, hidden, steps, batch, seed=0, threads=None):
    torch.manual_seed(seed)
    model = Model(vocab, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed + 1)
    losses, seconds = [], 0.0
    for _ in range(steps):
        start = rng.integers(0, len(tokens) - batch - 1)
        x = torch.from_numpy(tokens[start:start + batch])
        y = torch.from_numpy(tokens[start + 1:start + batch + 1])
        t0 = time.perf_counter()
        h = model.hidden(x)
        if fused:
            loss = flt.linear_cross_entropy(h, model.head.weight, y, model.head.bias,
                                            n_threads=threads)
        else:
            loss = F.cross_entropy(model.head(h), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - t0
        losses.append(loss.item())
    return np.array(losses), seconds / steps


def main(vocab=32000, hidden=256, steps=30, batch=1024, quiet=False):
    tokens = corpus(vocab, 200_000)
    fused, t_fused = train(True, tokens, vocab, hidden, steps, batch)
    plain, t_plain = train(False, tokens, vocab, hidden, steps, batch)
    logits_mb = batch * vocab * 4 / 2**20
    if not quiet:
        print(f"vocabulary {vocab}, hidden {hidden}, batch {batch} tokens, {steps} Adam steps")
        print(f"{'step':>5}{'fastloss loss':>15}{'PyTorch loss':>15}")
        for i in range(0, steps, max(1, steps // 10)):
            print(f"{i + 1:>5}{fused[i]:>15.6f}{plain[i]:>15.6f}")
        print(f"largest loss difference: {np.max(np.abs(fused - plain)):.2e}")
        print(f"time per step: fastloss {t_fused * 1e3:.1f} ms, PyTorch {t_plain * 1e3:.1f} ms")
        rows = max(_linear.MIN_BLOCK_ROWS, _linear.BLOCK_BYTES // (vocab * 4))
        block_mb = min(batch, rows) * vocab * 4 / 2**20
        print(f"logits PyTorch materialises per step: {logits_mb:.0f} MB (x3: logits, softmax, "
              f"gradient); fastloss holds one block of {block_mb:.0f} MB")
    return {"fused": fused, "plain": plain, "t_fused": t_fused, "t_plain": t_plain,
            "logits_mb": logits_mb}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=1024)
    a = p.parse_args()
    main(a.vocab, a.hidden, a.steps, a.batch)
