"""fastloss.testing.check_grad on user-written losses."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss.testing import check_grad


def cauchy_loss(x, y, c=1.0):
    """The docstring's example: a custom robust loss in NumPy, mean reduction."""
    d = (x - y) / c
    return 0.5 * c**2 * np.log1p(d**2).mean(), c * d / (1 + d**2) / x.size


def rowwise_none(z, y):
    """Per-row softmax cross-entropy (reduction="none"): grad[i] = d value[i] / d z[i]."""
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    p = e / e.sum(axis=1, keepdims=True)
    value = np.log(e.sum(axis=1)) + m[:, 0] - z[np.arange(len(y)), y]
    g = p.copy()
    g[np.arange(len(y)), y] -= 1
    return value, g


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    return rng.standard_normal((5, 4)), rng.standard_normal((5, 4))


def test_passes_a_right_gradient(xy):
    res = check_grad(cauchy_loss, *xy, c=2.0)
    assert res.max_abs_err < 1e-9
    assert res.fd_grad.shape == xy[0].shape


def test_catches_a_wrong_gradient(xy):
    def wrong(x, y):
        v, g = cauchy_loss(x, y)
        g = g.copy()
        g[2, 1] *= 1.01  # one element 1% off
        return v, g

    with pytest.raises(AssertionError, match=r"1 of 20 elements; worst at index \(2, 1\)"):
        check_grad(wrong, *xy)
    res = check_grad(wrong, *xy, raise_on_failure=False)
    assert res.worst_index == (2, 1)


def test_catches_a_missing_mean_factor(xy):
    with pytest.raises(AssertionError):
        check_grad(lambda x, y: (cauchy_loss(x, y)[0], cauchy_loss(x, y)[1] * x.size), *xy)


def test_array_values_are_checked_as_the_gradient_of_their_sum():
    rng = np.random.default_rng(1)
    z, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    check_grad(rowwise_none, z, y)
    check_grad(fastloss.cross_entropy, z, y, return_grad=True, reduction="none")


def test_wrt_and_clashing_keyword_names(xy):
    x, y = xy
    # differentiate with respect to the second argument: d/dy = -d/dx
    check_grad(lambda y, x: (cauchy_loss(x, y)[0], -cauchy_loss(x, y)[1]), y, x)
    check_grad(lambda x, y: cauchy_loss(y, x), y, x, wrt=1,
               raise_on_failure=False)  # returns d/d(first arg): a mismatch, not raised
    rates = np.abs(x) + 0.5
    check_grad(fastloss.poisson_nll_loss, rates, np.round(np.abs(y) * 3), return_grad=True,
               log_input=False, fn_kwargs={"eps": 1e-3})


def test_fastloss_losses_pass():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(30), rng.standard_normal(30)
    check_grad(fastloss.huber_loss, x, y, return_grad=True, delta=0.5)


def test_bad_use():
    with pytest.raises(TypeError, match=r"must return \(value, grad\)"):
        check_grad(lambda x: float(np.sum(x)), np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        check_grad(lambda x: (0.0, np.ones(2)), np.ones(3))
    with pytest.raises(ValueError, match="wrt=2"):
        check_grad(lambda x: (0.0, x), np.ones(3), wrt=2)
