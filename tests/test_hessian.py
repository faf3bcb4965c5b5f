"""return_hessian=True: the diagonal of the Hessian beside the gradient, in one pass.

The reference's Hessian is checked against finite differences of the reference
gradient, PyTorch's double backward / torch.func.hessian and closed forms; the
kernels against the reference (every loss, case, reduction, weights, dtype), their
out=(grad, hess) buffers, thread counts and extreme inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss import _launch, reference
from fastloss._data import make_class_vectors, make_prob_target
from fastloss._registry import LOSSES, REGISTRY

from helpers import (DTYPES, RTOL, arrays_for, as64, assert_close, loss_params, public, ref,
                     resolve, specs, strided, torch_equivalent, torchvision_sigmoid_focal,
                     weights_for)

EPS_BCE = float(np.float32(1e-12))  # PyTorch's clamp of x (1 - x) in BCE's gradient


def torch_quiet(test):
    """PyTorch's kl_div "mean" warning, and torch.func's own deprecation noise."""
    test = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")(test)
    return pytest.mark.filterwarnings("ignore::DeprecationWarning")(test)


def has_hessian(spec) -> bool:
    return spec.hessian


def hess_params(**kw):
    """helpers.loss_params restricted to the losses with a Hessian."""
    return [p for p in loss_params(**kw) if has_hessian(p.values[0])]


def hess_specs(**kw):
    return [p for p in specs(**kw) if has_hessian(p.values[0])]


# Against the float64 reference (run on the same values: float32 input cast to float64),
# values and gradients get the battery's tolerances (helpers.assert_close), Hessians
# these: float64 the battery's 1e-12; float32 16 units of rounding (8 eps = 9.5e-7), a
# few float32 ulps; each element within that of itself plus that of the largest element.
HESS_RTOL = {np.dtype(np.float32): 8 * float(np.finfo(np.float32).eps),
             np.dtype(np.float64): RTOL[np.dtype(np.float64)]}


def assert_hess_close(hess, ref_hess, dtype):
    """Each element within rtol (HESS_RTOL) of itself plus rtol of the largest element."""
    rtol = HESS_RTOL[np.dtype(dtype)]
    assert hess.dtype == np.dtype(dtype) and hess.shape == np.shape(ref_hess)
    scale = np.max(np.abs(ref_hess), initial=0.0)
    np.testing.assert_allclose(hess.astype(np.float64), ref_hess, rtol=rtol, atol=rtol * scale)


def _kwargs(spec, params, arrays, reduction, weighted):
    kw = dict(resolve(spec, params, arrays[0]), reduction=reduction)
    if weighted:
        kw["sample_weight"] = weights_for(spec, arrays[0].shape[0])
    return kw


# ---- the registry and which losses have a Hessian ----

@pytest.mark.parametrize("spec", specs())
def test_return_hessian_exactly_where_the_registry_says(spec):
    arrays = arrays_for(spec, (5, 4), np.float64)
    assert isinstance(spec.hessian, bool)
    assert not spec.hessian or spec.differentiable
    if spec.hessian:
        value, grad, hess = ref(spec)(*arrays, return_hessian=True)
        assert hess.shape == arrays[0].shape and hess.dtype == np.float64
        value, grad, hess = public(spec)(*arrays, return_hessian=True)
        assert hess.shape == arrays[0].shape and hess.dtype == np.float64
    else:
        with pytest.raises(ValueError, match="return_hessian"):
            ref(spec)(*arrays, return_hessian=True)
        with pytest.raises((ValueError, TypeError), match="return_hessian"):
            public(spec)(*arrays, return_hessian=True)


def test_accuracy_has_no_hessian():
    assert not REGISTRY["accuracy"].hessian
    x, t = np.random.default_rng(0).standard_normal((6, 4)), np.arange(6) % 4
    with pytest.raises(ValueError, match="return_hessian"):
        reference.accuracy(x, t, return_hessian=True)
    with pytest.raises(TypeError, match="return_hessian"):
        fastloss.accuracy(x, t, return_hessian=True)


def test_reference_linear_cross_entropy_has_no_return_hessian():
    rng = np.random.default_rng(0)
    h, W, y = rng.standard_normal((5, 3)), rng.standard_normal((7, 3)), np.arange(5)
    with pytest.raises(TypeError):
        reference.linear_cross_entropy(h, W, y, return_hessian=True)


# ---- the reference: finite differences, PyTorch, closed forms ----

def _fd_hessian_diagonal(spec, arrays, kw, step=1e-6):
    """Central differences of the reference gradient, one column at a time (all rows
    together: rows are independent, and a pointwise gradient element depends on its
    own input element only)."""
    x = arrays[0]
    fd = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = step
        gp = ref(spec)(x + e, *arrays[1:], **kw)[1]
        gm = ref(spec)(x - e, *arrays[1:], **kw)[1]
        fd[:, j] = (gp - gm)[:, j] / (2 * step)
    return fd


@pytest.mark.parametrize("spec,params,reduction,weighted", hess_params(reductions=True, weights=True))
def test_reference_hessian_matches_finite_differences(spec, params, reduction, weighted):
    arrays = arrays_for(spec, (4, 3), np.float64, seed=3)
    kw = _kwargs(spec, params, arrays, reduction, weighted)
    value, grad, hess = ref(spec)(*arrays, return_hessian=True, **kw)
    # return_hessian=False: the same value and gradient, bit for bit
    value0, grad0 = ref(spec)(*arrays, **kw)
    np.testing.assert_array_equal(value, value0)
    np.testing.assert_array_equal(grad, grad0)
    assert hess.shape == arrays[0].shape and hess.dtype == np.float64
    fd = _fd_hessian_diagonal(spec, arrays, kw)
    scale = max(np.max(np.abs(hess)), np.max(np.abs(grad)))
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-7 * scale)


def _torch_pointwise(spec):
    import torch.nn.functional as F
    if spec.name == "sigmoid_focal_loss":
        return torchvision_sigmoid_focal
    return getattr(F, spec.torch)


def _tensors(torch, params):
    return {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in params.items()}


@torch_quiet
@pytest.mark.parametrize("spec,params,reduction", [
    p for p in hess_params(reductions=True) if p.values[0].kind == "pointwise"
    and (p.values[0].torch or p.values[0].name == "sigmoid_focal_loss")])
def test_reference_hessian_matches_torch_double_backward(spec, params, reduction):
    """Pointwise losses: the Hessian is diagonal, so it is the gradient of the sum of
    the gradient. (The generated data stays off the kinks and BCE's clamp.)"""
    torch = pytest.importorskip("torch")
    arrays = arrays_for(spec, (8, 5), np.float64, seed=4)
    params = resolve(spec, params, arrays[0])
    tarrays, tparams = torch_equivalent(spec, arrays, params)
    xt = torch.tensor(arrays[0], requires_grad=True)
    others = [torch.tensor(a) for a in tarrays[1:]]
    out = _torch_pointwise(spec)(xt, *others, reduction=reduction, **_tensors(torch, tparams))
    (g,) = torch.autograd.grad(out.sum(), xt, create_graph=True)
    h = None
    if g.requires_grad:  # (a gradient constant in x has no graph: Hessian 0)
        (h,) = torch.autograd.grad(g.sum(), xt, allow_unused=True)
    h = np.zeros(arrays[0].shape) if h is None else h.numpy(force=True)
    _, rg, rh = ref(spec)(*arrays, reduction=reduction, return_hessian=True, **params)
    np.testing.assert_allclose(rg, g.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(rh, h, rtol=1e-10, atol=1e-10 * np.max(np.abs(h), initial=0.0))


def _torch_multi_margin(x, t, p, margin, weight, reduction):
    # F.multi_margin_loss has no double backward: its formula
    import torch
    n, c = x.shape
    xy = x[torch.arange(n), t][:, None]
    d = torch.clamp(margin - xy + x, min=0) ** p
    d = torch.where(torch.arange(c)[None, :] == t[:, None], torch.zeros_like(d), d)
    w = torch.ones(c, dtype=x.dtype) if weight is None else weight
    loss = w[t] * d.sum(1) / c
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def _torch_softmax_focal(x, t, alpha, gamma, ignore_index, reduction):
    # The multi-class focal loss as its formula (torch has none): -alpha_y (1 - p_y)^gamma log p_y.
    import torch
    valid = t != ignore_index
    tc = torch.where(valid, t, torch.zeros_like(t))
    lpy = torch.log_softmax(x, dim=1).gather(1, tc[:, None])[:, 0]
    a = alpha[tc] if alpha is not None else torch.ones_like(lpy)
    l = torch.where(valid, -a * (1 - lpy.exp()) ** gamma * lpy, torch.zeros_like(lpy))
    if reduction == "none":
        return l
    return l.sum() / (valid.sum() if reduction == "mean" else 1)


def _torch_ce_with_prior(x, t, prior, prior_weight, ignore_index, reduction):
    import torch
    import torch.nn.functional as F
    valid = t != ignore_index
    ce = F.cross_entropy(x, t, reduction="none", ignore_index=ignore_index)
    kl = F.kl_div(torch.log_softmax(x, 1), prior.expand_as(x), reduction="none").sum(1)
    loss = (ce + prior_weight * kl) * valid
    return {"none": loss, "mean": loss.sum() / valid.sum(), "sum": loss.sum()}[reduction]


def _torch_multilabel_margin(x, t, reduction):
    # F.multilabel_margin_loss has no forward-mode AD (torch.func.hessian): its formula
    import torch
    n, c = x.shape
    listed = (t >= 0).cumprod(1).bool()  # the entries before a row's first -1
    idx = torch.where(listed, t, 0)
    is_target = torch.zeros(n, c, dtype=x.dtype).scatter_add(1, idx, listed.to(x.dtype)) > 0
    z = 1 - x.gather(1, idx)[:, :, None] + x[:, None, :]  # (row, listed entry, class)
    on = listed[:, :, None] & ~is_target[:, None, :] & (z > 0)
    loss = torch.where(on, z, torch.zeros_like(z)).sum((1, 2)) / c
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


ROWWISE_TORCH = [p for p in hess_params(reductions=True) if p.values[0].kind == "rowwise"]


@torch_quiet
@pytest.mark.parametrize("spec,params,reduction", ROWWISE_TORCH)
def test_rowwise_reference_hessian_matches_torch_hessian(spec, params, reduction):
    """The diagonal of torch.func.hessian of the reduced loss, on a few small rows."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    arrays = arrays_for(spec, (4, 5), np.float64, seed=6)
    params = resolve(spec, params, arrays[0])
    x, target = arrays[0], arrays[1]
    if spec.name == "cross_entropy_with_prior":
        params = {**params, "prior": arrays[2]}
        arrays = arrays[:2]
    tt = torch.tensor(target)
    tp = _tensors(torch, params)
    if spec.name == "multi_margin_loss":
        def f(z):
            return _torch_multi_margin(z, tt, tp["p"], tp["margin"], tp.get("weight"), reduction)
    elif spec.name == "softmax_focal_loss":
        def f(z):
            return _torch_softmax_focal(z, tt, tp.get("alpha"), tp["gamma"], tp["ignore_index"],
                                        reduction)
    elif spec.name == "multilabel_margin_loss":
        def f(z):
            return _torch_multilabel_margin(z, tt, reduction)
    elif spec.name == "cross_entropy_with_prior":
        def f(z):
            return _torch_ce_with_prior(z, tt, tp["prior"], tp["prior_weight"],
                                        tp["ignore_index"], reduction)
    else:
        def f(z):
            return getattr(F, spec.torch)(z, tt, reduction=reduction, **tp)
    H = torch.func.hessian(lambda z: f(z).sum())(torch.tensor(x))
    diag = H.reshape(x.size, x.size).diagonal().reshape(x.shape).numpy()
    _, _, rh = ref(spec)(*arrays, reduction=reduction, return_hessian=True, **params)
    np.testing.assert_allclose(rh, diag, rtol=1e-10, atol=1e-12 * np.max(np.abs(diag), initial=0.0))


@torch_quiet
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,ls,ignore,prob", [
    (False, 0.0, None, False), (True, 0.0, None, False), (True, 0.2, 2, False),
    (False, 0.0, 0, False), (False, 0.0, None, True), (True, 0.15, None, True)])
def test_cross_entropy_reference_hessian_torch_func_hessian(weighted, ls, ignore, prob, reduction):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    rng = np.random.default_rng(21)
    n, c = 5, 4
    x = rng.standard_normal((n, c)) * 2
    t = make_prob_target((n, c), seed=22) if prob else rng.integers(0, c, n)
    if not prob:
        t[0] = 2  # an ignored row where ignore_index=2
    kw = {"label_smoothing": ls}
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, c)
    if ignore is not None:
        kw["ignore_index"] = ignore
    tkw = _tensors(torch, kw)
    H = torch.func.hessian(lambda z: F.cross_entropy(z, torch.tensor(t), reduction=reduction,
                                                     **tkw).sum())(torch.tensor(x))
    diag = H.reshape(n * c, n * c).diagonal().reshape(n, c).numpy()
    _, _, rh = reference.cross_entropy(x, t, reduction=reduction, return_hessian=True, **kw)
    np.testing.assert_allclose(rh, diag, rtol=1e-10, atol=1e-13 * np.max(np.abs(diag)))
    if ignore is not None and not prob:
        assert not rh[t == ignore].any()


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_reference_hessians_closed_form(reduction):
    """(sum_k q_k w_k) p (1 - p) of cross_entropy (class and probability targets),
    (1 + lambda) p (1 - p) of cross_entropy_with_prior, (w / C) s(x) s(-x) of
    multilabel_soft_margin_loss; ignored rows 0; the reduction's scaling as the gradient."""
    rng = np.random.default_rng(5)
    n, c = 9, 6
    x = rng.standard_normal((n, c)) * 3
    t = rng.integers(0, c, n)
    t[[1, 4]] = 3
    w = rng.uniform(0.5, 2.0, c)
    sw = rng.uniform(0.2, 2.0, n)
    p = _softmax(x)
    pq = p * (1 - p)
    s = 0.1

    def scaled(h_rows, den):
        h = sw[:, None] * h_rows
        return h if reduction != "mean" else h / den

    # class targets, weight, label smoothing, ignore_index=3
    valid = t != 3
    q = (1 - s) * np.eye(c)[t] + s / c
    expected = np.where(valid[:, None], (q * w).sum(axis=1, keepdims=True) * pq, 0.0)
    _, _, h = reference.cross_entropy(x, t, weight=w, label_smoothing=s, ignore_index=3,
                                      reduction=reduction, sample_weight=sw, return_hessian=True)
    np.testing.assert_allclose(h, scaled(expected, np.sum(sw * valid * w[t])), rtol=1e-12, atol=1e-15)
    # probability targets (mean: over N, sample-weighted)
    pt = make_prob_target((n, c), seed=6)
    q = (1 - s) * pt + s / c
    expected = (q * w).sum(axis=1, keepdims=True) * pq
    _, _, h = reference.cross_entropy(x, pt, weight=w, label_smoothing=s, reduction=reduction,
                                      sample_weight=sw, return_hessian=True)
    np.testing.assert_allclose(h, scaled(expected, np.sum(sw)), rtol=1e-12, atol=1e-15)
    # cross_entropy_with_prior
    prior = rng.dirichlet(np.ones(c))
    lam = 0.3
    expected = np.where(valid[:, None], (1 + lam) * pq, 0.0)
    _, _, h = reference.cross_entropy_with_prior(x, t, prior, lam, ignore_index=3, reduction=reduction,
                                                 sample_weight=sw, return_hessian=True)
    np.testing.assert_allclose(h, scaled(expected, np.sum(sw * valid)), rtol=1e-12, atol=1e-15)
    # multilabel_soft_margin_loss
    y = rng.integers(0, 2, (n, c)).astype(np.float64)
    sig = 1 / (1 + np.exp(-x))
    expected = w / c * sig * (1 - sig)
    _, _, h = reference.multilabel_soft_margin_loss(x, y, weight=w, reduction=reduction,
                                                    sample_weight=sw, return_hessian=True)
    np.testing.assert_allclose(h, scaled(expected, np.sum(sw)), rtol=1e-12, atol=1e-15)


def test_reference_hessian_where_the_softmax_saturates():
    """p (1 - p) where p ~ 1: 1 - p summed from the other classes, not cancelled."""
    x = np.array([[40.0, 0.0, 0.0, -3.0]])
    _, _, h = reference.cross_entropy(x, np.array([1]), reduction="sum", return_hessian=True)
    rest = np.exp([-40.0, -40.0, -43.0])  # e^(x_k - x_0), k != 0
    p0 = 1 / (1 + rest.sum())
    np.testing.assert_allclose(h[0, 0], p0 * rest.sum() * p0, rtol=1e-14)
    np.testing.assert_allclose(h[0, 1:], p0 * rest * (1 - p0 * rest), rtol=1e-14)


@pytest.mark.parametrize("rows", [1, 8, "8-mixed"], ids=["row", "rows8", "rows8-mixed"])
@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_with_prior", "softmax_focal_loss"])
def test_kernel_hessian_where_the_softmax_saturates(name, rows):
    """The kernels' p (1 - p) of a dominant class, target or not (the row path, and the
    8-row tiles of few classes): 1 - p summed from the other classes, to rtol 1e-13.
    Mixed: one saturated row among seven ordinary ones in a tile (the tile then takes
    its select for every row; a tile of ordinary rows skips it)."""
    n = 8 if rows == "8-mixed" else rows
    x = np.array([[40.0, 0.0, 0.0, -3.0], [0.0, 35.0, -2.0, 1.0]] * 4)[:max(n, 2)]
    if rows == "8-mixed":
        x[1:] = np.random.default_rng(7).standard_normal((7, 4))
    t = np.array([1, 1] * 4)[:len(x)]
    spec = REGISTRY[name]
    extra = {"prior": np.full(4, 0.25)} if name == "cross_entropy_with_prior" else {}
    _, _, rh = ref(spec)(x, t, reduction="sum", return_hessian=True, **extra)
    _, _, h = public(spec)(x, t, reduction="sum", return_hessian=True, **extra)
    np.testing.assert_allclose(h, rh, rtol=1e-13, atol=0)


# ---- conventions at kinks and clamps (from the definitions, not from the code) ----

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conventions_at_kinks(dtype):
    def both(name, *args, **kw):
        args = [np.asarray(a, dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in args]
        h = getattr(fastloss, name)(*args, return_hessian=True, **kw)[2]
        rh = getattr(reference, name)(*as64(args), return_hessian=True, **kw)[2]
        assert h.dtype == np.dtype(dtype)
        return h, rh

    # huber: 1 strictly inside |d| < delta, the linear side's 0 at the kink
    for h in both("huber_loss", [1.0, -1.0, 0.5, 2.0, 0.0], np.zeros(5), delta=1.0, reduction="none"):
        np.testing.assert_array_equal(h, [0.0, 0.0, 1.0, 0.0, 1.0])
    for h in both("smooth_l1_loss", [0.5, 0.25, -0.5, 1.0], np.zeros(4), beta=0.5, reduction="none"):
        np.testing.assert_array_equal(h, [0.0, 2.0, 0.0, 0.0])
    for h in both("smooth_l1_loss", [0.0, 0.25, -3.0], np.zeros(3), beta=0.0, reduction="none"):
        np.testing.assert_array_equal(h, [0.0, 0.0, 0.0])
    for name in ("l1_loss", "quantile_loss"):
        for h in both(name, [0.0, 1.0, -2.0], [0.0, 0.0, 0.0], reduction="none"):
            np.testing.assert_array_equal(h, [0.0, 0.0, 0.0])
    for h in both("hinge_embedding_loss", [1.0, 0.5, 2.0], [-1.0, -1.0, 1.0], reduction="none"):
        np.testing.assert_array_equal(h, [0.0, 0.0, 0.0])
    for h in both("mse_loss", [3.0, -1.0], [0.0, 0.0], reduction="sum"):
        np.testing.assert_array_equal(h, [2.0, 2.0])
    for h in both("l2_penalty", [3.0, 0.0], alpha=0.5):
        np.testing.assert_array_equal(h, [0.5, 0.5])
    for h in both("elastic_net_penalty", [3.0, 0.0], alpha=0.5, l1_ratio=0.25):
        np.testing.assert_array_equal(h, [0.375, 0.375])
    # multi_margin p=2: the term at exactly zero margin (class 0) contributes 0; the
    # active one (class 2) 2 w_y / C, at the target itself too; p=1: 0
    x, t = [[0.0, 1.0, 0.5]], np.array([1])
    for h in both("multi_margin_loss", x, t, p=2, margin=1.0, reduction="sum"):
        np.testing.assert_allclose(h, [[0.0, 2 / 3, 2 / 3]], rtol=1e-7 if dtype == np.float32 else 1e-15)
    for h in both("multi_margin_loss", x, t, p=1, margin=1.0, reduction="sum"):
        np.testing.assert_array_equal(h, [[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_hessian_at_the_clamp(dtype):
    """x (1 - x) <= EPS (x = 0, 1): the clamped gradient w (x - y) / EPS has slope w / EPS."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.3, 0.5], dtype)
    w = np.array([2.0, 0.5, 1.0, 1.0, 1.0])
    expected = w / EPS_BCE
    expected[4] = (0.25 - 0.5 + 0.5) / 0.25**2  # (x^2 - 2 x y + y) / (x (1 - x))^2
    for h in (fastloss.binary_cross_entropy(x, y, weight=w, reduction="none", return_hessian=True)[2],
              reference.binary_cross_entropy(x, y, weight=w, reduction="none", return_hessian=True)[2]):
        np.testing.assert_allclose(h, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,weighted", [
    pytest.param(s, w, id=s.name + ("-weighted" if w else ""))
    for s in LOSSES if s.constant_hessian for w in (False, True)[:1 + s.sample_weight]])
def test_constant_hessian_with_nan_and_inf(spec, weighted, dtype):
    """constant_hessian losses write their scaled constant in the data's type: the
    reference's Hessian at every element that is a number -- an infinite input too --
    and NaN where the element propagates one (d = x - y NaN for a loss of x - y, x NaN
    for the rest), past a full block of lanes and in the tail."""
    n = 70
    arrays = [np.array(a) for a in arrays_for(spec, (n,), dtype, seed=4)]
    x = arrays[0]
    x[[3, 40]], x[[5, 50]], x[6] = np.nan, np.inf, -np.inf
    of_d = spec.target != "none" and spec.name not in ("hinge_embedding_loss", "kl_div")
    if spec.target != "none":
        y = arrays[1]
        y[[9, 45]] = np.nan
        y[[5, 11]] = np.inf
        x[11] = np.inf  # inf - inf: NaN
    with np.errstate(invalid="ignore"):
        nan = np.isnan(x - arrays[1]) if of_d else np.isnan(x)
    assert nan.sum() >= (5 if of_d else 2)
    for reduction in spec.reductions:
        kw = {"reduction": reduction}
        if weighted:
            kw["sample_weight"] = weights_for(spec, n)
        _, grad, hess = public(spec)(*arrays, return_hessian=True, **kw)
        finite = [np.where(np.isfinite(a), a, 0.5) for a in as64(arrays)]
        ref_hess = ref(spec)(*finite, return_hessian=True, **kw)[2]
        np.testing.assert_array_equal(np.isnan(hess), nan, err_msg=reduction)
        assert_hess_close(np.where(nan, 0, hess).astype(dtype), np.where(nan, 0, ref_hess), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec", [s for s in LOSSES if s.constant_hessian], ids=lambda s: s.name)
def test_constant_hessian_nan_in_one_chunk(spec, dtype):
    """With a value, a constant Hessian is written without the element's NaN rule,
    which a chunk whose loss sum is NaN then applies. Over 4 chunks of 4096 elements
    and a tail, one NaN in the third chunk gives NaN there only, with 1 and 2
    threads, and elsewhere the bits of the same call without the NaN (and the
    reference's Hessian)."""
    n, site = 4 * 4096 + 9, 2 * 4096 + 17
    arrays = [np.array(a) for a in arrays_for(spec, (n,), dtype, seed=5)]
    clean = [a.copy() for a in arrays]
    arrays[0][site] = np.nan
    _, _, h_clean = public(spec)(*clean, reduction="sum", return_hessian=True)
    for threads in (1, 2):
        value, _, hess = public(spec)(*arrays, reduction="sum", return_hessian=True,
                                      n_threads=threads)
        assert np.isnan(value)
        assert np.flatnonzero(np.isnan(hess)).tolist() == [site]
        keep = np.arange(n) != site
        np.testing.assert_array_equal(hess[keep], h_clean[keep])
    expected = ref(spec)(*as64(clean), reduction="sum", return_hessian=True)[2]
    assert_hess_close(h_clean, expected, dtype)


# ---- the kernels against the reference ----

LAYOUTS = {"contiguous": (37,), "strided": (11, 7), "2d": (9, 6)}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted", hess_params(reductions=True, weights=True))
def test_kernel_hessian_agrees_with_ref(spec, params, reduction, weighted, dtype):
    for layout, shape in LAYOUTS.items():  # (one test for the three: fewer, faster tests)
        try:
            _check_kernel(spec, params, reduction, weighted, dtype, layout, shape)
        except AssertionError as e:
            raise AssertionError(f"layout {layout}, shape {shape}: {e}") from None


def _check_kernel(spec, params, reduction, weighted, dtype, layout, shape):
    arrays = arrays_for(spec, shape, dtype, seed=2)
    if layout == "strided":  # every other column of a larger array: not contiguous
        arrays = strided(arrays)
        assert not arrays[0].flags.c_contiguous
    kw = _kwargs(spec, params, arrays, reduction, weighted)
    value, grad, hess = public(spec)(*arrays, return_hessian=True, **kw)
    ref_value, ref_grad, ref_hess = ref(spec)(*as64(arrays), return_hessian=True, **kw)
    assert_close(value, grad, ref_value, ref_grad, dtype)
    assert grad.shape == arrays[0].shape
    assert_hess_close(hess, ref_hess, dtype)
    if reduction != "none":
        assert type(value) is float
    # value and gradient as return_grad=True's: float64 to 1e-12 relative, float32 (where
    # they may round differently) to the battery's float32 tolerance
    value_g, grad_g = public(spec)(*arrays, return_grad=True, **kw)
    rtol = 1e-12 if dtype == np.float64 else RTOL[np.dtype(dtype)]
    np.testing.assert_allclose(value, value_g, rtol=rtol,
                               atol=rtol * np.max(np.abs(value_g), initial=0.0))
    scale = np.max(np.abs(grad_g), initial=0.0)
    np.testing.assert_allclose(grad, grad_g, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": np.linspace(0.5, 2, 6)}])
def test_kernel_cross_entropy_probability_targets(kw, reduction, dtype):
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((13, 6)) * 3).astype(dtype)
    p = make_prob_target((13, 6), dtype, seed=9)
    sw = rng.uniform(0.1, 2, 13)
    value, grad, hess = fastloss.cross_entropy(x, p, reduction=reduction, sample_weight=sw,
                                               return_hessian=True, **kw)
    rv, rg, rh = reference.cross_entropy(as64([x])[0], p.astype(np.float64), reduction=reduction,
                                         sample_weight=sw, return_hessian=True, **kw)
    assert_close(value, grad, rv, rg, dtype)
    assert_hess_close(hess, rh, dtype)


@pytest.mark.parametrize("spec", hess_specs())
def test_empty_input(spec):
    arrays = arrays_for(spec, (0,), np.float32)
    value, grad, hess = public(spec)(*arrays, reduction="sum", return_hessian=True)
    assert value == 0.0
    assert hess.shape == grad.shape == arrays[0].shape and hess.dtype == np.float32


# ---- out=(grad buffer, hess buffer) ----

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec", hess_specs())
def test_out_pair_is_filled_and_returned(spec, dtype):
    arrays = arrays_for(spec, (6, 4), dtype)
    kw = resolve(spec, {}, arrays[0])
    g, h = np.full_like(arrays[0], np.nan), np.full_like(arrays[0], np.nan)
    result = public(spec)(*arrays, out=(g, h), **kw)
    assert len(result) == 3
    value, g2, h2 = result
    assert g2 is g and h2 is h
    ref_value, ref_grad, ref_hess = ref(spec)(*as64(arrays), return_hessian=True, **kw)
    assert_close(value, g, ref_value, ref_grad, dtype)
    assert_hess_close(h, ref_hess, dtype)
    # the same numbers as without buffers
    value_n, grad_n, hess_n = public(spec)(*arrays, return_hessian=True, **kw)
    assert value == value_n
    np.testing.assert_array_equal(g, grad_n)
    np.testing.assert_array_equal(h, hess_n)


def _bad_pairs(x):
    other = np.float32 if x.dtype == np.float64 else np.float64
    good = lambda: np.full_like(x, 12345.0)  # noqa: E731
    readonly, same = good(), good()
    readonly.flags.writeable = False
    return {
        "hess of the wrong dtype": dict(out=(good(), np.full(x.shape, 12345.0, other))),
        "grad of the wrong dtype": dict(out=(np.full(x.shape, 12345.0, other), good())),
        "hess of the wrong shape": dict(out=(good(), np.full(x.shape[:-1] + (x.shape[-1] + 1,),
                                                             12345.0, x.dtype))),
        "hess transposed": dict(out=(good(), np.full(x.shape[::-1], 12345.0, x.dtype))),
        "three buffers": dict(out=(good(), good(), good())),
        "one buffer in a tuple": dict(out=(good(),)),
        "one buffer with return_hessian": dict(out=good(), return_hessian=True),
        "hess not an array": dict(out=(good(), [[12345.0] * x.shape[1]] * x.shape[0])),
        "hess read-only": dict(out=(good(), readonly)),
        "hess Fortran-ordered": dict(out=(good(), np.full(x.shape[::-1], 12345.0, x.dtype).T)),
        "one buffer twice": dict(out=(same, same)),
    }


@pytest.mark.parametrize("case", list(_bad_pairs(np.zeros((2, 3)))))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits", "cross_entropy",
                                  "multilabel_soft_margin_loss"])
def test_bad_out_pair_raises_naming_out_and_writes_nothing(name, dtype, case):
    spec = REGISTRY[name]
    arrays = arrays_for(spec, (5, 4), dtype)
    kw = _bad_pairs(arrays[0])[case]
    buffers = kw["out"] if isinstance(kw["out"], tuple) else (kw["out"],)
    with pytest.raises((ValueError, TypeError), match="out"):
        public(spec)(*arrays, **kw)
    for b in buffers:
        assert np.all(np.asarray(b) == 12345.0), f"{case}: a buffer was written"


def _aliasable(spec):
    """0 (the input), and 1 where the target has the input's shape and dtype."""
    arrays = arrays_for(spec, (2, 3), np.float64)
    return [0] + [1 for a in arrays[1:2] if a.shape == arrays[0].shape and a.dtype == np.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("which", [0, 1], ids=["grad", "hess"])
@pytest.mark.parametrize("spec,arg", [
    pytest.param(p.values[0], arg, id=f"{p.values[0].name}-{('input', 'target')[arg]}")
    for p in hess_specs() for arg in _aliasable(p.values[0])])
def test_out_pair_may_alias_input(spec, arg, which, dtype):
    """Either buffer may be the input itself, or a same-shape float target (as a lone
    out= buffer may): the value, gradient and Hessian of a call with separate buffers.
    (700, 9) runs full lane blocks and a tail; the pointwise Hessian kernel's outputs
    are restrict pointers, so the call layer must copy such an input first."""
    arrays = arrays_for(spec, (700, 9), dtype, seed=12)
    value, grad, hess = public(spec)(*arrays, return_hessian=True)
    arrays = [a.copy() for a in arrays]
    a = arrays[arg]
    out = (a, np.empty_like(a)) if which == 0 else (np.empty_like(a), a)
    value2, g2, h2 = public(spec)(*arrays, out=out)
    assert (g2, h2)[which] is a
    assert value2 == value
    np.testing.assert_array_equal(g2, grad)
    np.testing.assert_array_equal(h2, hess)


@pytest.mark.parametrize("hessian", [False, True], ids=["grad", "grad+hess"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "binary_cross_entropy_with_logits"])
def test_out_sharing_memory_with_weights(name, dtype, hessian):
    """sample_weight (float64, so the call layer would pass it on as it is) and the
    class vector read from the memory of the last output buffer (the gradient's, or the
    Hessian's): the pointwise kernels write through restrict pointers, so they are
    copied before the kernel writes; the results are those of separate arrays."""
    spec = REGISTRY[name]
    x, *rest = arrays_for(spec, (300, 8), np.float64, seed=3)
    rng = np.random.default_rng(4)
    w = rng.uniform(0.5, 2.0, 300)
    kw = {"pos_weight": rng.uniform(0.5, 2.0, 8)} if name.startswith("binary") else {}
    x = x.astype(dtype)
    rest = [r.astype(dtype) for r in rest]
    kw["reduction"] = "sum"  # ("mean" scales a copy of the weights by a power of two)
    expected = public(spec)(x, *rest, sample_weight=w, return_grad=True,
                            return_hessian=hessian, **kw)
    # w, then pos_weight, in the first entries of the buffer (for float32 data, through
    # a float64 view of its memory)
    buf = np.empty_like(x)
    pool = (buf if dtype == np.float64 else buf.view(np.float64)).reshape(-1)
    w_shared, pw_shared = pool[:300], pool[300:308]
    w_shared[...] = w
    kw_shared = {"reduction": "sum"}
    if "pos_weight" in kw:
        pw_shared[...] = kw["pos_weight"]
        kw_shared["pos_weight"] = pw_shared
    assert np.shares_memory(buf, w_shared) and np.shares_memory(buf, pw_shared)
    out = (np.empty_like(x), buf) if hessian else buf
    got = public(spec)(x, *rest, sample_weight=w_shared, out=out, **kw_shared)
    assert got[0] == expected[0]
    for a, b in zip(got[1:], expected[1:]):
        np.testing.assert_array_equal(a, b)
    assert got[-1] is buf


# ---- threads, extreme inputs, accuracy ----

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec,params,reduction,weighted", [
    p for p in hess_params(reductions=True, weights=True, all_params=False)
    if p.values[2] != "sum"])  # (sum runs the same loops as mean)
def test_bit_identical_across_thread_counts(spec, params, reduction, weighted, dtype):
    n_rows = _launch.PARALLEL_MIN // 3 + 11  # (n_rows, 3): above PARALLEL_MIN elements
    arrays = arrays_for(spec, (n_rows, 3), dtype, seed=5)
    assert arrays[0].size > _launch.PARALLEL_MIN
    kw = _kwargs(spec, params, arrays, reduction, weighted)
    v1, g1, h1 = public(spec)(*arrays, return_hessian=True, n_threads=1, **kw)
    v2, g2, h2 = public(spec)(*arrays, return_hessian=True, n_threads=2, **kw)
    np.testing.assert_array_equal(v2, v1)
    np.testing.assert_array_equal(g2, g1)
    np.testing.assert_array_equal(h2, h1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_with_logits_extreme_logits(dtype):
    x = np.array([40.0, -40.0, 1e4, -1e4] * 3, dtype).reshape(3, 4)
    y = np.array([[0.0] * 4, [1.0] * 4, [0.3] * 4], dtype)
    pw = np.array([0.5, 2.0, 1.0, 3.0])
    for kw in ({}, {"pos_weight": pw, "weight": pw[::-1].copy()}):
        for reduction in ("none", "sum", "mean"):
            _, g, h = fastloss.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                                return_hessian=True, **kw)
            _, rg, rh = reference.binary_cross_entropy_with_logits(
                x.astype(np.float64), y.astype(np.float64), reduction=reduction,
                return_hessian=True, **kw)
            assert np.all(np.isfinite(h)) and np.all(h >= 0)
            if dtype == np.float64:
                np.testing.assert_allclose(h, rh, rtol=1e-12, atol=0)
                assert np.all(h[:, :2] > 0)  # e^-40: tiny, not 0
            else:  # float32: e^-40 ~ 4e-18 is a normal float32
                np.testing.assert_allclose(h, rh, rtol=HESS_RTOL[np.dtype(dtype)], atol=0)
    # the reference itself: w lw e^-|x| / (1 + e^-|x|)^2
    e = np.exp(-40.0)
    _, _, rh = reference.binary_cross_entropy_with_logits(np.array([40.0, -40.0]), np.array([0.3, 0.3]),
                                                          pos_weight=np.array([2.0, 2.0]),
                                                          reduction="none", return_hessian=True)
    np.testing.assert_allclose(rh, 1.3 * e / (1 + e) ** 2, rtol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["sigmoid_focal_loss", "soft_margin_loss", "cross_entropy",
                                  "cross_entropy_with_prior", "multilabel_soft_margin_loss"])
def test_logit_losses_extreme_logits(name, dtype):
    """Finite, NaN-free Hessians at large logits, as the reference's (float64: 1e-12)."""
    spec = REGISTRY[name]
    x = np.tile(np.array([40.0, -40.0, 1e4, -1e4, 0.0, 300.0]), (6, 1))
    x[::2] *= -1
    x = x.astype(dtype)
    if spec.kind == "rowwise" and spec.target != "real":
        t = np.arange(6) % 6
    else:
        t = np.random.default_rng(0).integers(0, 2, x.shape).astype(dtype)
        t[0] = 0.3
        if name == "soft_margin_loss":
            t = np.where(t > 0.5, 1.0, -1.0).astype(dtype)
    kw = {"prior": np.full(6, 1 / 6)} if name == "cross_entropy_with_prior" else {}
    cases_ = [{}, {"gamma": 0.5}, {"alpha": -1.0}] if name == "sigmoid_focal_loss" else [{}]
    for case in cases_:
        for reduction in ("none", "sum"):
            _, g, h = getattr(fastloss, name)(x, t, reduction=reduction, return_hessian=True, **kw, **case)
            _, _, rh = getattr(reference, name)(*as64([x, t]), reduction=reduction, return_hessian=True,
                                                **kw, **case)
            assert np.all(np.isfinite(h)) and np.all(np.isfinite(g))
            rtol = HESS_RTOL[np.dtype(dtype)]
            np.testing.assert_allclose(h, rh, rtol=rtol, atol=rtol * np.max(np.abs(rh)))


def test_log_cosh_hessian_in_the_tails():
    # 354: the largest |d| the kernel's sech^2 reads expm1 at (_vmath.h's FL_LC_CLAMP)
    d = np.array([-354.0, -50.0, -20.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 20.0, 50.0, 300.0, 354.0])
    sech2 = 1 / np.cosh(d) ** 2  # (cosh(354)^2 ~ 5e306: no overflow yet)
    _, _, rh = reference.log_cosh_loss(d, np.zeros_like(d), reduction="none", return_hessian=True)
    np.testing.assert_allclose(rh, sech2, rtol=1e-14)
    _, _, h = fastloss.log_cosh_loss(d, np.zeros_like(d), reduction="none", return_hessian=True)
    assert np.all(h > 0)  # 4 e^-100 at |d| = 50, not 0
    np.testing.assert_allclose(h, rh, rtol=1e-12, atol=0)
    # beyond the clamp (sech^2 < 1.8e-307) and beyond cosh's overflow: 0, no NaN
    _, _, h = fastloss.log_cosh_loss(np.array([400.0, 1e308, -1e308, np.inf]), np.zeros(4),
                                     reduction="none", return_hessian=True)
    np.testing.assert_array_equal(h, [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_poisson_hessian_at_large_input(dtype):
    # log_input: exp(x), up to near float64's overflow
    big = {np.float32: [20.0, 50.0, 80.0], np.float64: [50.0, 300.0, 700.0]}[dtype]
    x = np.array(big, dtype)
    y = np.array([3.0, 0.0, 7.0], dtype)
    _, _, h = fastloss.poisson_nll_loss(x, y, reduction="none", return_hessian=True)
    np.testing.assert_allclose(h, np.exp(x.astype(np.float64)), rtol=HESS_RTOL[np.dtype(dtype)])
    _, _, rh = reference.poisson_nll_loss(x.astype(np.float64), y.astype(np.float64),
                                          reduction="none", return_hessian=True)
    np.testing.assert_allclose(rh, np.exp(x.astype(np.float64)), rtol=1e-15)
    # rates: y / (x + eps)^2
    x = np.array([1e3, 1e10, 1e15], dtype)
    _, _, h = fastloss.poisson_nll_loss(x, y, log_input=False, reduction="none", return_hessian=True)
    expected = y.astype(np.float64) / (x.astype(np.float64) + 1e-8) ** 2
    np.testing.assert_allclose(h, expected, rtol=HESS_RTOL[np.dtype(dtype)])
    assert np.all(np.isfinite(h))


@pytest.mark.parametrize("name", [s.name for s in LOSSES if s.accuracy_option])
def test_return_hessian_with_return_accuracy(name):
    spec = REGISTRY[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 5))
    t = rng.integers(0, 5, 50) if spec.kind == "rowwise" else rng.integers(0, 2, (50, 5)).astype(np.float64)
    fn = public(spec)
    result = fn(x, t, return_hessian=True, return_accuracy=True)
    assert len(result) == 4
    value, grad, hess, n_correct = result
    v_g, g_g, n_g = fn(x, t, return_grad=True, return_accuracy=True)
    _, _, h_h = fn(x, t, return_hessian=True)
    assert n_correct == n_g
    np.testing.assert_allclose(value, v_g, rtol=1e-12)
    np.testing.assert_allclose(grad, g_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(hess, h_h)
    g, h = np.empty_like(x), np.empty_like(x)
    result = fn(x, t, out=(g, h), return_accuracy=True)
    assert len(result) == 4 and result[1] is g and result[2] is h and result[3] == n_g


def test_class_vectors_reach_the_hessian():
    """Per-class weight / pos_weight scale the Hessian's columns as they do the gradient."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((20, 5)), rng.uniform(0, 1, (20, 5))
    vec = make_class_vectors(REGISTRY["binary_cross_entropy_with_logits"], 5, seed=3)
    _, _, h1 = fastloss.binary_cross_entropy_with_logits(x, y, reduction="sum", return_hessian=True)
    _, _, hw = fastloss.binary_cross_entropy_with_logits(x, y, weight=vec["weight"], reduction="sum",
                                                         return_hessian=True)
    np.testing.assert_allclose(hw, h1 * vec["weight"], rtol=1e-14)
    _, _, hp = fastloss.binary_cross_entropy_with_logits(x, y, pos_weight=vec["pos_weight"],
                                                         reduction="sum", return_hessian=True)
    np.testing.assert_allclose(hp, h1 * ((1 - y) + vec["pos_weight"] * y), rtol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("spec", [s for s in LOSSES if s.hessian and s.target != "none"],
                         ids=lambda s: s.name)
def test_gradient_hessian_without_the_value(spec, dtype):
    """_api.gradient_hessian (the boosting objectives' call, which skips the value where
    the kernel can): the gradient and Hessian bits of out=(g, h) with reduction="sum"."""
    from fastloss import _api
    arrays = arrays_for(spec, (300, 5), dtype, seed=3)
    params = resolve(spec, spec.defaults, arrays[0])
    if spec.name == "cross_entropy_with_prior":
        params = {**params, "prior": arrays[2]}
        arrays = arrays[:2]
    sw = np.random.default_rng(4).uniform(0.5, 2.0, 300)
    g0, h0 = np.empty_like(arrays[0]), np.empty_like(arrays[0])
    public(spec)(*arrays, reduction="sum", sample_weight=sw, out=(g0, h0), **params)
    g1, h1 = np.full_like(g0, np.nan), np.full_like(h0, np.nan)
    assert _api.gradient_hessian(spec.name)(*arrays, g1, h1, sample_weight=sw, **params) is None
    np.testing.assert_array_equal(g1, g0)
    np.testing.assert_array_equal(h1, h0)
    with pytest.raises(TypeError, match="reductio"):
        _api.gradient_hessian(spec.name)(*arrays, g1, h1, reductio="sum")
