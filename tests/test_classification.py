"""Edge cases of the classification losses: PyTorch semantics, extreme logits,
labels, ignore_index, accuracy. The generic battery (test_common.py) covers the
rest (reference, finite differences, threads, bad input)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss._data import make_class_vectors, make_prob_target
from fastloss._registry import REGISTRY
from helpers import torchvision_sigmoid_focal

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # every test is collected and skipped, so the summary can count them
    torch = F = None
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch comparison: torch is not installed")

RNG = np.random.default_rng(1234)
N, C = 13, 6


def close(a, b, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               rtol=rtol, atol=atol)


@pytest.fixture(autouse=True)
def _quiet_kl_div_mean_warning(recwarn):
    yield


def torch_value_grad(fn, x, *args, **kwargs):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    conv = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    kw = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    val = fn(xt, *conv, **kw)
    val.sum().backward()
    return val.detach().numpy(), xt.grad.numpy()


def check_against_torch(name, x, target, torch_fn=None, torch_target=None, **kwargs):
    ours = getattr(fastloss, name)
    torch_fn = torch_fn or getattr(F, REGISTRY[name].torch)
    tt = target if torch_target is None else torch_target
    for reduction in REGISTRY[name].reductions:
        v, g = ours(x, target, reduction=reduction, return_grad=True, **kwargs)
        tv, tg = torch_value_grad(torch_fn, x, tt, reduction=reduction, **kwargs)
        close(v, tv, atol=1e-300)
        close(g, tg, atol=1e-15)


# ---- PyTorch semantics, float64, every option combination ----

@pytest.mark.parametrize("weighted,pos", list(itertools.product([False, True], [False, True])))
def test_bce_with_logits_torch(weighted, pos):
    x, y = RNG.standard_normal((N, C)) * 3, RNG.uniform(0, 1, (N, C))
    vec = make_class_vectors(REGISTRY["binary_cross_entropy_with_logits"], C, seed=3)
    kw = {}
    if weighted:
        kw["weight"] = vec["weight"]
    if pos:
        kw["pos_weight"] = vec["pos_weight"]
    check_against_torch("binary_cross_entropy_with_logits", x, y, **kw)


@pytest.mark.parametrize("weighted", [False, True])
def test_bce_torch(weighted):
    x, y = RNG.uniform(0.01, 0.99, (N, C)), RNG.uniform(0, 1, (N, C))
    kw = {"weight": RNG.uniform(0.5, 2, C)} if weighted else {}
    check_against_torch("binary_cross_entropy", x, y, **kw)


def test_bce_exact_zero_one_probabilities():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    check_against_torch("binary_cross_entropy", x, y)
    v, g = fastloss.binary_cross_entropy(x.astype(np.float32), y.astype(np.float32),
                                         reduction="none", return_grad=True)
    assert v[2] == 100 and v[3] == 100 and v[0] == 0


def test_bce_rejects_out_of_range():
    with pytest.raises(ValueError, match="input must lie in"):
        fastloss.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="input must lie in"):
        fastloss.binary_cross_entropy(np.array([-1e-9]), np.array([0.0]))


def test_soft_margin_hinge_torch():
    x = RNG.standard_normal((N, C)) * 2
    y = RNG.choice([-1.0, 1.0], (N, C))
    check_against_torch("soft_margin_loss", x, y)
    for margin in (1.0, 0.3):
        check_against_torch("hinge_embedding_loss", x, y, margin=margin)
    # PyTorch's formula also for targets other than +-1, and its subgradient at the kink
    x = np.array([0.0, 1.0, 2.0, -1.0, 0.5, 1.0])
    y = np.array([-1.0, -1.0, 1.0, 0.0, -1.0, 0.5])
    check_against_torch("hinge_embedding_loss", x, y)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_torch(log_target):
    x = np.log(RNG.dirichlet(np.ones(C), N))
    y = RNG.dirichlet(np.ones(C), N)
    if log_target:
        y = np.log(y)
    check_against_torch("kl_div", x, y, log_target=log_target)


def test_kl_div_zero_target():
    v, g = fastloss.kl_div(np.array([-np.inf, -1.0]), np.array([0.0, 0.0]), reduction="sum",
                           return_grad=True)
    assert v == 0 and np.all(g == 0)


CE_OPTIONS = (list(itertools.product([False, True], [None, 0, 2], [0.0, 0.15])))


@pytest.mark.parametrize("weighted,ignore,ls", CE_OPTIONS)
def test_cross_entropy_class_torch(weighted, ignore, ls):
    x, t = RNG.standard_normal((N, C)) * 2, RNG.integers(0, C, N)
    kw = {"label_smoothing": ls}
    if weighted:
        kw["weight"] = RNG.uniform(0.5, 2, C)
    if ignore is not None:
        kw["ignore_index"] = ignore
    for dtype in (np.int64, np.uint8, np.int16, np.uint64):
        check_against_torch("cross_entropy", x, t.astype(dtype), torch_target=t, **kw)


@pytest.mark.parametrize("weighted,ls", list(itertools.product([False, True], [0.0, 0.15])))
def test_cross_entropy_prob_torch(weighted, ls):
    x, p = RNG.standard_normal((N, C)) * 2, make_prob_target((N, C), seed=5)
    kw = {"label_smoothing": ls}
    if weighted:
        kw["weight"] = RNG.uniform(0.5, 2, C)
    check_against_torch("cross_entropy", x, p, **kw)


@pytest.mark.parametrize("weighted,ignore", list(itertools.product([False, True], [None, 1])))
def test_nll_loss_torch(weighted, ignore):
    x, t = np.log(RNG.dirichlet(np.ones(C), N)), RNG.integers(0, C, N)
    kw = {}
    if weighted:
        kw["weight"] = RNG.uniform(0.5, 2, C)
    if ignore is not None:
        kw["ignore_index"] = ignore
    check_against_torch("nll_loss", x, t, **kw)


@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_torch(weighted):
    x, y = RNG.standard_normal((N, C)) * 2, RNG.integers(0, 2, (N, C)).astype(np.float64)
    kw = {"weight": RNG.uniform(0.5, 2, C)} if weighted else {}
    check_against_torch("multilabel_soft_margin_loss", x, y, **kw)


def test_multilabel_soft_margin_infinite_logits_reference_and_kernel():
    """A confident right answer costs 0 (the limit), in the kernel and in the reference:
    x = +inf with y = 1 and x = -inf with y = 0 (0 * softplus(inf) must not be NaN)."""
    x = np.array([[np.inf, -np.inf, 1.0], [np.inf, -np.inf, -1.0]])
    y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    v, g = fastloss.multilabel_soft_margin_loss(x, y, return_grad=True)
    rv, rg = fastloss.reference.multilabel_soft_margin_loss(x, y)[:2]
    finite_part = np.log1p(np.exp(-1.0)) / 3  # each row's one finite term, over 3 classes
    assert v == pytest.approx(finite_part, rel=1e-15)
    assert rv == pytest.approx(finite_part, rel=1e-15)
    np.testing.assert_array_equal(g[:, :2], 0.0)
    np.testing.assert_allclose(g, rg, rtol=1e-15)


@pytest.mark.parametrize("p,margin,weighted", list(itertools.product([1, 2], [1.0, 0.4], [False, True])))
def test_multi_margin_torch(p, margin, weighted):
    x, t = RNG.standard_normal((N, C)), RNG.integers(0, C, N)
    kw = {"p": p, "margin": margin}
    if weighted:
        kw["weight"] = RNG.uniform(0.5, 2, C)
    check_against_torch("multi_margin_loss", x, t, **kw)


@pytest.mark.parametrize("alpha,gamma", list(itertools.product([0.25, -1.0, 0.6], [2.0, 0.0, 0.5, 1.0])))
def test_sigmoid_focal_torchvision(alpha, gamma):
    x, y = RNG.standard_normal((N, C)) * 2, RNG.uniform(0, 1, (N, C))
    for reduction in ("none", "mean", "sum"):
        v, g = fastloss.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction=reduction,
                                           return_grad=True)
        tv, tg = torch_value_grad(lambda a, b, **k: torchvision_sigmoid_focal(a, b, alpha, gamma, **k),
                                  x, y, reduction=reduction)
        close(v, tv, rtol=1e-11)
        close(g, tg, rtol=1e-10, atol=1e-14)


def _torch_softmax_focal(x, t, alpha, gamma, reduction, ignore_index=-100):
    valid = t != ignore_index
    logp = torch.log_softmax(x, 1)[torch.arange(len(t)), torch.where(valid, t, 0)]
    loss = -alpha[torch.where(valid, t, 0)] * (1 - logp.exp()) ** gamma * logp * valid
    return {"none": loss, "mean": loss.sum() / valid.sum(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("gamma,with_alpha,ignore", list(itertools.product([2.0, 0.5, 0.0], [False, True], [None, 3])))
def test_softmax_focal_torch(gamma, with_alpha, ignore):
    x, t = RNG.standard_normal((N, C)) * 2, RNG.integers(0, C, N)
    alpha = RNG.uniform(0.5, 2, C) if with_alpha else np.ones(C)
    kw = {"gamma": gamma, **({"alpha": alpha} if with_alpha else {})}
    if ignore is not None:
        kw["ignore_index"] = ignore
    for reduction in ("none", "mean", "sum"):
        v, g = fastloss.softmax_focal_loss(x, t, reduction=reduction, return_grad=True, **kw)
        tv, tg = torch_value_grad(
            lambda a, b, **k: _torch_softmax_focal(a, b, torch.tensor(alpha), gamma, **k),
            x, t, reduction=reduction, ignore_index=-100 if ignore is None else ignore)
        close(v, tv, rtol=1e-11)
        close(g, tg, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_focal_gamma0_is_cross_entropy_exactly(dtype):
    x, t = (RNG.standard_normal((300, 7)) * 5).astype(dtype), RNG.integers(0, 7, 300)
    x[0, 0] = 1e4
    for reduction in ("none", "mean", "sum"):
        a = fastloss.softmax_focal_loss(x, t, gamma=0.0, reduction=reduction, return_grad=True)
        b = fastloss.cross_entropy(x, t, reduction=reduction, return_grad=True)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gap", [5.0, 20.0, 30.0, 40.0])
def test_softmax_focal_exact_where_the_target_dominates(dtype, gap):
    # Rows (gap, 0, ..., 0), target 0: with r = 6 e^-gap, 1 - p_y = r / (1 + r) and
    # -log p_y = log1p(r), so the loss (1 - p_y)^2 log1p(r) is known to rounding. At
    # gap = 30 it is ~1e-34, where -log p_y = log(S) kept only 4 digits (a CI find).
    x = np.zeros((3, 7), dtype)
    x[:, 0] = gap
    t = np.zeros(3, np.int64)
    r = 6.0 * np.exp(-float(dtype(gap)))
    exact = (r / (1 + r)) ** 2 * np.log1p(r)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    value = fastloss.softmax_focal_loss(x, t, reduction="none")  # (of x's dtype: 0 in float32 at 40)
    np.testing.assert_allclose(value, np.full(3, exact, dtype), rtol=rtol, atol=0)
    np.testing.assert_allclose(reference.softmax_focal_loss(x, t, reduction="none")[0], exact,
                               rtol=1e-14)


@pytest.mark.parametrize("lam,ignore", list(itertools.product([1.0, 0.3, 0.0], [None, 2])))
def test_cross_entropy_with_prior_torch(lam, ignore):
    x, t = RNG.standard_normal((N, C)) * 2, RNG.integers(0, C, N)
    prior = RNG.dirichlet(np.ones(C))
    kw = {} if ignore is None else {"ignore_index": ignore}

    def torch_fn(a, b, reduction, ignore_index=-100):
        valid = b != ignore_index
        ce = F.cross_entropy(a, b, reduction="none", ignore_index=ignore_index)
        kl = F.kl_div(torch.log_softmax(a, 1), torch.tensor(prior).expand_as(a), reduction="none").sum(1)
        loss = (ce + lam * kl) * valid
        return {"none": loss, "mean": loss.sum() / valid.sum(), "sum": loss.sum()}[reduction]

    for reduction in ("none", "mean", "sum"):
        v, g = fastloss.cross_entropy_with_prior(x, t, prior, lam, reduction=reduction,
                                                 return_grad=True, **kw)
        tv, tg = torch_value_grad(torch_fn, x, t, reduction=reduction, **({"ignore_index": ignore} if ignore is not None else {}))
        close(v, tv, rtol=1e-11)
        close(g, tg, rtol=1e-10, atol=1e-14)


def test_prior_uniform_relates_to_label_smoothing():
    x, t = RNG.standard_normal((N, C)), RNG.integers(0, C, N)
    s = 0.2
    lam = s / (1 - s)
    _, g1 = fastloss.cross_entropy_with_prior(x, t, np.full(C, 1 / C), lam, return_grad=True)
    _, g2 = fastloss.cross_entropy(x, t, label_smoothing=s, return_grad=True)
    close(g1 * (1 - s), g2, rtol=1e-12, atol=1e-16)


# ---- extreme logits ----

EXTREME = [1e4, 80.0]


@pytest.mark.parametrize("dtype,big", list(itertools.product([np.float32, np.float64], EXTREME)))
@pytest.mark.parametrize("name", ["cross_entropy", "softmax_focal_loss", "cross_entropy_with_prior",
                                  "multilabel_soft_margin_loss", "binary_cross_entropy_with_logits",
                                  "sigmoid_focal_loss", "soft_margin_loss", "multi_margin_loss"])
def test_extreme_logits(name, dtype, big):
    spec = REGISTRY[name]
    n, c = 8, 4
    x = np.tile(np.array([big, -big, 0.0, big / 2]), (n, 1))
    x[::2] *= -1
    kw = {}
    if spec.kind == "rowwise" and spec.target != "real":
        t = np.arange(n) % c
    else:
        t = RNG.integers(0, 2, x.shape).astype(np.float64)
        if name == "soft_margin_loss":
            t = 2 * t - 1
    if name == "cross_entropy_with_prior":
        kw = {"prior": np.full(c, 1 / c), "prior_weight": 0.5}
    fn, ref = getattr(fastloss, name), getattr(reference, name)
    for reduction in ("sum", "none"):
        v, g = fn(x.astype(dtype), t if t.dtype.kind == "i" else t.astype(dtype), reduction=reduction,
                  return_grad=True, **kw)
        rv, rg = ref(x.astype(dtype).astype(np.float64), t, reduction=reduction, **kw)
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        close(v, rv, rtol=tol, atol=tol)
        close(g, rg, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minus_inf_logit_with_zero_probability(dtype):
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]], dtype=dtype)
    p = np.array([[0.3, 0.0, 0.7], [1.0, 0.0, 0.0]], dtype=dtype)
    v, g = fastloss.cross_entropy(x, p, return_grad=True)
    rv, rg = reference.cross_entropy(x, p)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    close(v, rv, rtol=1e-6 if dtype == np.float32 else 1e-12)
    t = np.array([2, 0])
    v, g = fastloss.cross_entropy(x, t, return_grad=True)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    v, g = fastloss.cross_entropy(x, t, weight=np.array([1.0, 0.0, 1.0]), return_grad=True)
    assert np.isfinite(v) and np.all(np.isfinite(g))


# ---- labels ----

@pytest.mark.parametrize("bad,dtype", [(-1, np.int64), (C, np.int32), (2**40, np.int64),
                                       (2**64 - 1, np.uint64), (255, np.uint8), (-5, np.int8)])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "softmax_focal_loss", "multi_margin_loss",
                                  "accuracy"])
def test_bad_labels_raise_naming_value(name, bad, dtype):
    x = RNG.standard_normal((4, C))
    t = np.array([0, 1, bad, 2], dtype=dtype)
    with pytest.raises(ValueError, match=str(bad)):
        getattr(fastloss, name)(x, t)


def test_uint8_labels_fine_and_float_labels_rejected():
    x = RNG.standard_normal((4, C))
    t = np.array([0, 5, 3, 2])
    assert fastloss.cross_entropy(x, t.astype(np.uint8)) == fastloss.cross_entropy(x, t)
    with pytest.raises(TypeError, match="target"):
        fastloss.nll_loss(x, t.astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        fastloss.cross_entropy(x, t[:3])


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "softmax_focal_loss", "cross_entropy_with_prior"])
def test_all_ignored(name):
    x = RNG.standard_normal((5, C))
    t = np.full(5, -100)
    kw = {"prior": np.full(C, 1 / C)} if name == "cross_entropy_with_prior" else {}
    fn = getattr(fastloss, name)
    v, g = fn(x, t, return_grad=True, **kw)
    assert np.isnan(v) and np.all(g == 0)
    assert fn(x, t, reduction="sum", **kw) == 0.0
    assert np.all(fn(x, t, reduction="none", **kw) == 0)


# ---- accuracy ----

def test_return_accuracy_same_pass():
    x, t = RNG.standard_normal((200, C)), RNG.integers(0, C, 200)
    x[0] = 1.0  # ties: the first maximal index wins
    t[0] = 0
    x[1] = 1.0
    t[1] = 1
    v, g, correct = fastloss.cross_entropy(x, t, return_grad=True, return_accuracy=True)
    assert correct == int((np.argmax(x, axis=1) == t).sum())
    v2, correct2 = fastloss.cross_entropy(x, t, return_accuracy=True, ignore_index=0)
    assert correct2 == int(((np.argmax(x, axis=1) == t) & (t != 0)).sum())
    assert v == fastloss.cross_entropy(x, t)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_accuracy_topk_matches_torch(k):
    x, t = RNG.standard_normal((300, C)), RNG.integers(0, C, 300)
    top = torch.topk(torch.tensor(x), k, dim=1).indices.numpy()
    expected = (top == t[:, None]).any(axis=1)
    assert fastloss.accuracy(x, t, k=k) == expected.mean()
    assert fastloss.accuracy(x, t, k=k, reduction="sum") == expected.sum()


def test_accuracy_binary_logits():
    x = RNG.standard_normal(50)
    y = RNG.integers(0, 2, 50)
    assert fastloss.accuracy(x, y) == np.mean((x > 0) == (y == 1))
    assert fastloss.accuracy(x, y.astype(bool)) == np.mean((x > 0) == (y == 1))
    with pytest.raises(ValueError):
        fastloss.accuracy(x, y + 1)


# ---- layouts ----

@pytest.mark.parametrize("name", ["cross_entropy", "softmax_focal_loss", "multi_margin_loss", "nll_loss"])
def test_fortran_and_strided_logits(name):
    base = RNG.standard_normal((40, 2 * C))
    t = RNG.integers(0, C, 40)
    fn = getattr(fastloss, name)
    x = np.ascontiguousarray(base[:, ::2])
    v, g = fn(x, t, return_grad=True)
    for layout in (np.asfortranarray(x), base[:, ::2], base[::-1][::-1, ::2]):
        v2, g2 = fn(layout, t, return_grad=True)
        assert v2 == v
        np.testing.assert_array_equal(g2, g)


def test_out_aliases_input_rowwise():
    x, t = RNG.standard_normal((30, C)), RNG.integers(0, C, 30)
    v, g = fastloss.cross_entropy(x, t, return_grad=True, label_smoothing=0.1)
    y = x.copy()
    v2, g2 = fastloss.cross_entropy(y, t, out=y, label_smoothing=0.1)
    assert v2 == v and g2 is y
    np.testing.assert_array_equal(y, g)


@pytest.mark.parametrize("name", ["cross_entropy", "softmax_focal_loss", "multilabel_soft_margin_loss",
                                  "binary_cross_entropy_with_logits"])
def test_threads_bit_identical(name):
    spec = REGISTRY[name]
    x = RNG.standard_normal((5000, 37))
    t = RNG.integers(0, 37, 5000) if spec.target != "real" else RNG.uniform(0, 1, x.shape)
    fn = getattr(fastloss, name)
    base = fn(x, t, return_grad=True, n_threads=1)
    for nt in (2, 3, 4, 7):
        v, g = fn(x, t, return_grad=True, n_threads=nt)
        assert v == base[0]
        np.testing.assert_array_equal(g, base[1])


def test_pos_weight_broadcasts_over_last_axis():
    x, y = RNG.standard_normal((5, 3, C)), RNG.uniform(0, 1, (5, 3, C))
    pw = RNG.uniform(0.5, 3, C)
    v, g = fastloss.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="none",
                                                     return_grad=True)
    tv, tg = torch_value_grad(F.binary_cross_entropy_with_logits, x, y, pos_weight=pw, reduction="none")
    close(v, tv)
    close(g, tg, atol=1e-16)
    with pytest.raises(ValueError, match="pos_weight"):
        fastloss.binary_cross_entropy_with_logits(x, y, pos_weight=np.ones(C + 1))


# ---- probability targets (the battery draws class indices) ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": np.linspace(0.5, 2, C)}])
def test_cross_entropy_prob_targets_reference(dtype, reduction, kw):
    x = (RNG.standard_normal((N, C)) * 3).astype(dtype)
    p = make_prob_target((N, C), dtype, seed=8)
    sw = RNG.uniform(0.1, 2, N)
    v, g = fastloss.cross_entropy(x, p, reduction=reduction, sample_weight=sw, return_grad=True, **kw)
    rv, rg = reference.cross_entropy(x.astype(np.float64), p.astype(np.float64), reduction=reduction,
                                     sample_weight=sw, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    close(v, rv, rtol=tol, atol=tol * np.max(np.abs(rv)))
    close(g, rg, rtol=tol, atol=tol * np.max(np.abs(rg)))


def test_cross_entropy_prob_targets_finite_differences_and_threads():
    x, p = RNG.standard_normal((5, 4)), make_prob_target((5, 4), seed=9)
    _, g = fastloss.cross_entropy(x, p, label_smoothing=0.1, return_grad=True)
    h = 1e-6
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fd = (fastloss.cross_entropy(xp, p, label_smoothing=0.1)
              - fastloss.cross_entropy(xm, p, label_smoothing=0.1)) / (2 * h)
        assert abs(fd - g[i]) <= 1e-7 + 1e-6 * abs(g[i])
    x, p = RNG.standard_normal((20_000, 9)).astype(np.float32), make_prob_target((20_000, 9), np.float32)
    base = fastloss.cross_entropy(x, p, return_grad=True, n_threads=1)
    for nt in (2, 3, 4, 7):
        v, gr = fastloss.cross_entropy(x, p, return_grad=True, n_threads=nt)
        assert v == base[0] and np.array_equal(gr, base[1])
    with pytest.raises(ValueError, match="return_accuracy"):
        fastloss.cross_entropy(x, p, return_accuracy=True)


@pytest.mark.parametrize("C", [1, 3, 7, 8, 9, 10, 15, 16, 17, 31, 1000])
@pytest.mark.parametrize("loss", ["cross_entropy", "softmax_focal_loss", "cross_entropy_with_prior"])
def test_row_lengths_around_the_lane_blocks(loss, C):
    """Rows are reduced in blocks of 8 lanes, the tail as an overlapping masked block
    when C >= 8: every row length matches the reference, also with out= aliasing x."""
    rng = np.random.default_rng(C)
    x = rng.standard_normal((23, C)) * 3
    t = rng.integers(0, C, 23)
    kw = make_class_vectors(REGISTRY[loss], C, C) if loss.endswith("prior") else {}
    v, g = getattr(fastloss, loss)(x, t, return_grad=True, **kw)
    rv, rg = getattr(reference, loss)(x, t, **kw)
    np.testing.assert_allclose(v, rv, rtol=1e-13)
    np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-16)
    y = x.copy()
    v2, g2 = getattr(fastloss, loss)(y, t, out=y, **kw)
    assert v2 == v and g2 is y
    np.testing.assert_array_equal(y, g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eight_row_blocks_with_ignored_rows_and_weights(dtype):
    """Blocks of 8 rows with an ignored label take the row path, the others the
    8-rows-at-once path: both agree with the reference, with class weights, label
    smoothing and sample weights, and the per-row losses match too."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((45, 10)) * 4).astype(dtype)
    t = rng.integers(0, 10, 45)
    t[[3, 20, 44]] = -100
    w = rng.uniform(0.5, 2.0, 10)
    sw = rng.uniform(0.1, 3.0, 45)
    kw = dict(weight=w, label_smoothing=0.2)
    v, g = fastloss.cross_entropy(x, t, return_grad=True, sample_weight=sw, **kw)
    rv, rg = reference.cross_entropy(x.astype(np.float64), t, sample_weight=sw, **kw)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(v, rv, rtol=tol)
    np.testing.assert_allclose(g, rg, rtol=tol * 10, atol=tol * 1e-3)
    assert not g[[3, 20, 44]].any()
    lv = fastloss.cross_entropy(x, t, reduction="none", **kw)
    rl = reference.cross_entropy(x.astype(np.float64), t, reduction="none", **kw)[0]
    np.testing.assert_allclose(lv, rl, rtol=tol)
