"""Meter: epoch means from batches equal the full-data values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastloss
from fastloss import Meter


def _data(n=1037, c=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n), rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 64, 100, 1037])
def test_epoch_means_equal_full_data_values(batch, dtype):
    z, t, _ = _data()
    z = z.astype(dtype)
    meter = Meter()
    for i in range(0, len(t), batch):
        s, g, n_correct = fastloss.cross_entropy(z[i:i + batch], t[i:i + batch], reduction="sum",
                                                 return_grad=True, return_accuracy=True)
        meter.update(s, len(t[i:i + batch]), n_correct=n_correct)
    full, full_correct = fastloss.cross_entropy(z, t, return_accuracy=True)
    assert meter.count == len(t) and meter.weight == len(t)
    assert meter.n_correct == full_correct
    assert meter.accuracy == full_correct / len(t)  # exactly
    assert meter.accuracy == fastloss.accuracy(z, t)
    # the loss: the exact sum of the batch sums, so equal up to the rounding of each
    assert abs(meter.loss - full) <= 4e-16 * abs(full) * max(1, math.log2(len(t) / batch + 1))
    if batch == len(t):
        assert meter.loss == full  # one batch: bit for bit


def test_weighted_epoch_mean_and_order_independence():
    z, t, w = _data(seed=1)
    full = fastloss.cross_entropy(z, t, sample_weight=w)
    results = []
    for order in (np.arange(0, 1037, 50), np.arange(0, 1037, 50)[::-1]):
        meter = Meter()
        for i in order:
            sl = slice(i, i + 50)
            meter.update(fastloss.cross_entropy(z[sl], t[sl], sample_weight=w[sl], reduction="sum"),
                         w[sl].sum(), n_correct=0, count=len(t[sl]))
        results.append(meter.loss)
    assert results[0] == results[1]  # exact accumulation: batch order does not matter
    assert abs(results[0] - full) <= 1e-15 * abs(full)


def test_regression_loss_and_batch_means():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(999), rng.standard_normal(999)
    meter = Meter()
    for i in range(0, 999, 100):
        meter.update(fastloss.huber_loss(x[i:i + 100], y[i:i + 100]), len(x[i:i + 100]),
                     is_mean=True)
    assert meter.loss == pytest.approx(fastloss.huber_loss(x, y), rel=1e-15)
    assert math.isnan(meter.accuracy)


def test_reset_and_errors():
    m = Meter()
    assert math.isnan(m.loss) and math.isnan(m.accuracy)
    m.update(3.0, 2, n_correct=1)
    assert (m.loss, m.accuracy, m.batches) == (1.5, 0.5, 1)
    m.reset()
    assert m.batches == 0 and math.isnan(m.loss)
    with pytest.raises(ValueError, match="weight"):
        m.update(1.0, -1)
    with pytest.raises(ValueError, match="n_correct"):
        m.update(1.0, 2, n_correct=3)
    with pytest.raises(ValueError, match="count="):
        m.update(1.0, 2.5, n_correct=1)
