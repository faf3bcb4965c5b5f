"""The per-call fast path gives exactly the general path's answers and never skips a check."""

import types

import numpy as np
import pytest

import fastloss
from fastloss import _api, _fastpath
from fastloss._data import make_arrays

POINTWISE = [s for s in fastloss.REGISTRY.values() if s.kind == "pointwise"]


def _general(monkeypatch, spec, *arrays, **kw):
    with monkeypatch.context() as m:
        m.setattr(_api, "_fastpath", types.SimpleNamespace(pointwise=lambda *a: None))
        return getattr(fastloss, spec.name)(*arrays, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7, 5), (5000,)])
@pytest.mark.parametrize("spec", POINTWISE, ids=lambda s: s.name)
def test_fast_equals_general(monkeypatch, spec, shape, dtype):
    arrays = make_arrays(spec, shape, dtype)
    for reduction in ("mean", "sum"):
        if reduction not in spec.reductions:
            continue
        g1 = np.empty_like(arrays[0])
        g2 = np.empty_like(arrays[0])
        v1, r1 = getattr(fastloss, spec.name)(*arrays, reduction=reduction, out=g1)
        v2, r2 = _general(monkeypatch, spec, *arrays, reduction=reduction, out=g2)
        assert r1 is g1 and r2 is g2
        assert v1 == v2 and g1.tobytes() == g2.tobytes()
        # without out=: the value alone, and a new gradient with return_grad=True
        v3, r3 = getattr(fastloss, spec.name)(*arrays, reduction=reduction, return_grad=True)
        assert v3 == v1 and r3.tobytes() == g1.tobytes() and r3.dtype == g1.dtype
        assert r3.shape == g1.shape and r3.flags.c_contiguous and r3.flags.owndata
        assert getattr(fastloss, spec.name)(*arrays, reduction=reduction) == v1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7, 5), (5000,)])
@pytest.mark.parametrize("spec", [s for s in POINTWISE if s.hessian], ids=lambda s: s.name)
def test_fast_hessian_equals_general(monkeypatch, spec, shape, dtype):
    arrays = make_arrays(spec, shape, dtype)
    fn = getattr(fastloss, spec.name)
    for reduction in ("mean", "sum"):
        if reduction not in spec.reductions:
            continue
        g1, h1, g2, h2 = (np.empty_like(arrays[0]) for _ in range(4))
        v1, r1, s1 = fn(*arrays, reduction=reduction, out=(g1, h1))
        v2, r2, s2 = _general(monkeypatch, spec, *arrays, reduction=reduction, out=(g2, h2))
        assert r1 is g1 and s1 is h1 and r2 is g2 and s2 is h2
        assert v1 == v2 and g1.tobytes() == g2.tobytes() and h1.tobytes() == h2.tobytes()
        v3, r3, s3 = fn(*arrays, reduction=reduction, return_hessian=True)
        assert v3 == v1 and r3.tobytes() == g1.tobytes() and s3.tobytes() == h1.tobytes()
        assert r3.shape == s3.shape == g1.shape and r3.dtype == s3.dtype == g1.dtype
        assert not np.shares_memory(r3, s3)
    if spec.target == "none":  # (a penalty: no objective's call)
        return
    # the boosting objective's call: no value, the same gradient and Hessian
    g4, h4 = np.empty_like(arrays[0]), np.empty_like(arrays[0])
    _api.gradient_hessian(spec.name)(*arrays, g4, h4)
    v5, g5, h5 = _general(monkeypatch, spec, *arrays, reduction="sum", return_hessian=True)
    assert g4.tobytes() == g5.tobytes() and h4.tobytes() == h5.tobytes()


def test_fast_hessian_declines_bad_pairs():
    """An out= pair the fast path does not take: the general path names the error and
    writes nothing."""
    x = np.linspace(-1, 1, 6)
    y = np.zeros(6)
    g = np.full(6, 7.0)
    buf = np.full(12, 7.0)
    for out, err, match in [((g, g), ValueError, "overlap"),
                            ((buf[:6], buf[3:9]), ValueError, "overlap"),
                            ((g, np.empty(5)), ValueError, r"out\[1\]"),
                            ((g, np.empty(6, np.float32)), TypeError, r"out\[1\]"),
                            ((g, np.empty(6), np.empty(6)), TypeError, "pair")]:
        with pytest.raises(err, match=match):
            fastloss.mse_loss(x, y, out=out)
        assert np.all(g == 7.0) and np.all(buf == 7.0)
    with pytest.raises(ValueError, match="pair"):
        fastloss.mse_loss(x, y, out=g, return_hessian=True)
    assert np.all(g == 7.0)
    # a pair overlapping the input: the input is read before it is overwritten
    v0, g0, h0 = fastloss.mse_loss(x, y, return_hessian=True)
    xc = x.copy()
    v, g1, h1 = fastloss.mse_loss(xc, y, out=(xc, np.empty(6)))
    assert g1 is xc and v == v0 and np.array_equal(g1, g0) and np.array_equal(h1, h0)
    np.testing.assert_allclose(g0, 2 * x / 6, rtol=1e-15)
    np.testing.assert_allclose(h0, 2 / 6, rtol=1e-15)


def test_signature_is_real():
    import inspect
    sig = inspect.signature(fastloss.huber_loss)
    assert list(sig.parameters)[:2] == ["input", "target"]
    assert sig.parameters["delta"].default == 1.0
    assert fastloss.huber_loss.__name__ == "huber_loss"
    with pytest.raises(TypeError, match="huber_loss"):
        fastloss.huber_loss(np.ones(2), np.ones(2), bogus=1)
    with pytest.raises(TypeError, match="huber_loss"):
        fastloss.huber_loss(np.ones(2))


def test_fast_path_keeps_every_check():
    x = np.ones(4, np.float32)
    y = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="out"):
        fastloss.mse_loss(x, y, out=np.empty(3, np.float32))
    with pytest.raises(TypeError, match="out"):
        fastloss.mse_loss(x, y, out=np.empty(4, np.float64))
    ro = np.empty(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastloss.mse_loss(x, y, out=ro)
    with pytest.raises(ValueError, match="target"):
        fastloss.mse_loss(x, np.ones(5, np.float32), out=np.empty(4, np.float32))
    with pytest.raises(ValueError, match="reduction"):
        fastloss.mse_loss(x, y, reduction="avg", out=np.empty(4, np.float32))
    with pytest.raises(ValueError, match="n_threads"):
        fastloss.mse_loss(x, y, n_threads=0, out=np.empty(4, np.float32))
    with pytest.raises(TypeError, match="n_threads"):
        fastloss.mse_loss(x, y, n_threads=1.5, out=np.empty(4, np.float32))
    with pytest.raises(ValueError, match="delta"):
        fastloss.huber_loss(x, y, delta=-1.0, out=np.empty(4, np.float32))
    # empty input keeps its documented value
    v, g = fastloss.mse_loss(np.empty(0, np.float32), np.empty(0, np.float32), out=np.empty(0, np.float32))
    assert np.isnan(v)


def test_fast_path_aliasing():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(101)
    y = rng.standard_normal(101)
    expect_v, expect_g = fastloss.mse_loss(x, y, return_grad=True)
    xc = x.copy()
    v, g = fastloss.mse_loss(xc, y, out=xc)  # exact alias: in place
    assert v == expect_v and np.array_equal(g, expect_g)
    buf = np.concatenate([x, [0.0]])
    v, g = fastloss.mse_loss(buf[:-1], y, out=buf[1:])  # partial overlap: input copied first
    assert v == expect_v and np.array_equal(g, expect_g)


def test_non_default_params_and_threads():
    spec = fastloss.REGISTRY["huber_loss"]
    x, y = make_arrays(spec, (300,), np.float64)
    g = np.empty_like(x)
    v1, _ = fastloss.huber_loss(x, y, delta=0.3, out=g, n_threads=2)
    v2, g2 = fastloss.huber_loss(list(x), y, delta=0.3, return_grad=True, n_threads=1)
    assert v1 == v2 and np.array_equal(g, g2)
    assert _api._default_args(spec, {"delta": 0.3}) is None
    assert _api._default_args(spec, {"delta": spec.defaults["delta"]}) is not None


def test_fast_path_takes_plain_calls_and_declines_the_rest():
    """_fastpath.pointwise answers exactly the plain call and returns None (general
    path) for everything else, so the equality test above compares two paths."""
    spec = fastloss.REGISTRY["mse_loss"]
    kernels = {np.dtype(np.float32): lambda *a, **kw: 6.0}
    x = np.ones((2, 3), np.float32)
    y = np.ones((2, 3), np.float32)
    out = np.empty_like(x)

    def call(x=x, y=y, out=out, reduction="mean", n_threads=None, return_grad=False):
        return _fastpath.pointwise(kernels, x, y, out, return_grad, reduction, n_threads, (),
                                   spec.reductions)

    assert call() == (1.0, out) and call()[1] is out
    assert call(out=None) == 1.0
    v, g = call(out=None, return_grad=True)
    assert v == 1.0 and g.shape == x.shape and g.dtype == x.dtype and g is not out
    assert call(reduction="sum") == (6.0, out)
    assert call(out=x) is not None                                    # exact alias: in place
    h = np.empty_like(x)
    v, g, hh = call(out=(out, h))
    assert v == 1.0 and g is out and hh is h
    ro = np.empty_like(x)
    ro.flags.writeable = False
    buf = np.zeros(7, np.float32)
    declined = {
        "float64 x": dict(x=x.astype(np.float64)),
        "big-endian x": dict(x=x.astype(">f4")),
        "list x": dict(x=x.tolist()),
        "subclass out": dict(out=np.ma.masked_array(out)),
        "strided x": dict(x=np.ones((2, 6), np.float32)[:, ::2]),
        "Fortran out": dict(out=np.empty((2, 3), np.float32, order="F")),
        "shape": dict(out=np.empty((3, 2), np.float32)),
        "target dtype": dict(y=y.astype(np.float64)),
        "read-only out": dict(out=ro),
        "reduction none": dict(reduction="none"),
        "empty": dict(x=np.empty((0, 3), np.float32), y=np.empty((0, 3), np.float32),
                      out=np.empty((0, 3), np.float32)),
        "overlapping views": dict(x=buf[:6].reshape(2, 3), out=buf[1:].reshape(2, 3)),
        "pair of one buffer": dict(out=(out, out)),
        "overlapping pair": dict(out=(buf[:6].reshape(2, 3), buf[1:].reshape(2, 3))),
        "pair overlapping x": dict(out=(out, buf[:6].reshape(2, 3)),
                                   x=buf[1:].reshape(2, 3)),
        "pair with a Fortran buffer": dict(out=(out, np.empty((2, 3), np.float32, order="F"))),
        "triple": dict(out=(out, h, np.empty_like(x))),
    }
    for why, kw in declined.items():
        assert call(**kw) is None, why
    with pytest.raises(ValueError, match="n_threads"):
        call(n_threads=0)


ROWWISE_FAST = sorted(_api.ROWWISE_PLANS)


def _rowwise_general(monkeypatch, name, *args, **kw):
    with monkeypatch.context() as m:
        m.setitem(_api.ROWWISE_PLANS, name, lambda a: None)
        return getattr(fastloss, name)(*args, **kw)


def _same(a, b):
    """Equal results, bit for bit (values, gradients, counts; NaN equal to NaN)."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape \
            and a.tobytes() == b.tobytes()
    return type(a) is type(b) and (a == b or (a != a and b != b))


def test_rowwise_plans_cover_the_class_losses():
    # Every row-wise loss with class-index targets and no required class vector
    # has a fast path (the others always take the general path).
    expect = {s.name for s in fastloss.REGISTRY.values()
              if s.kind == "rowwise" and "class" in s.kernels and not s.binary_input
              and not any(a.required for a in s.array_params)}
    assert set(ROWWISE_FAST) == expect
    assert "cross_entropy" in ROWWISE_FAST


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (32, 10), (9, 3), (300, 7)])
@pytest.mark.parametrize("name", ROWWISE_FAST)
def test_rowwise_fast_equals_general(monkeypatch, name, shape, dtype):
    spec = fastloss.REGISTRY[name]
    rng = np.random.default_rng(sum(shape))
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    t = rng.integers(0, shape[1], shape[0])
    has_ignore = "ignore_index" in spec.param_names
    if has_ignore and shape[0] > 2:
        t[::3] = -100
    calls = [dict(reduction=r) for r in spec.reductions]
    if spec.differentiable:
        calls += [dict(reduction=r, return_grad=True) for r in spec.reductions]
        calls += [dict(out="buffer"), dict(out="buffer", reduction="sum", n_threads=2)]
    if spec.accuracy_option:
        calls += [dict(return_accuracy=True), dict(return_accuracy=True, return_grad=True)]
    if spec.hessian:
        calls += [dict(reduction=r, return_hessian=True) for r in spec.reductions]
        calls += [dict(out="pair"), dict(out="pair", reduction="none", n_threads=2)]
        if spec.accuracy_option:
            calls.append(dict(out="pair", return_accuracy=True))
    if has_ignore:
        calls += [dict(ignore_index=0, return_grad=True), dict(ignore_index=5)]  # t: -100 -> it
    for p in spec.params:
        if p.type is float and p.examples:
            calls.append({p.name: float(p.examples[0]), "return_grad": spec.differentiable})
    for kw in calls:
        fast_kw, general_kw = dict(kw), dict(kw)
        if kw.get("out") == "buffer":
            fast_kw["out"], general_kw["out"] = np.full_like(x, 7), np.full_like(x, 7)
        if kw.get("out") == "pair":
            fast_kw["out"] = (np.full_like(x, 7), np.full_like(x, 7))
            general_kw["out"] = (np.full_like(x, 7), np.full_like(x, 7))
        tk = np.where(t == -100, kw["ignore_index"], t) if "ignore_index" in kw else t
        with monkeypatch.context() as m:
            rec = _Recorder(_api.ROWWISE_PLANS[name])
            m.setitem(_api.ROWWISE_PLANS, name, rec)
            fast = getattr(fastloss, name)(x, tk, **fast_kw)
            assert rec.answered == [True], kw  # the plan took it
        general = _rowwise_general(monkeypatch, name, x, tk, **general_kw)
        assert _same(fast, general), kw
        if kw.get("out") == "buffer":
            assert fast[1] is fast_kw["out"]
        if kw.get("out") == "pair":
            assert fast[1] is fast_kw["out"][0] and fast[2] is fast_kw["out"][1]


class _Recorder:
    def __init__(self, plan):
        self.plan, self.answered = plan, []

    def __call__(self, a):
        r = self.plan(a)
        self.answered.append(r is not None)
        return r


def test_rowwise_fast_path_takes_plain_calls_and_declines_the_rest(monkeypatch):
    """The plan answers the plain call, declines everything else (so that the
    general path validates and raises), and never writes out= when it declines."""
    rec = _Recorder(_api.ROWWISE_PLANS["cross_entropy"])
    monkeypatch.setitem(_api.ROWWISE_PLANS, "cross_entropy", rec)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    t = np.array([0, 1, 2, 3, -100, 1])
    ro = np.zeros_like(x)
    ro.flags.writeable = False
    buf = np.zeros(30, np.float32)
    plain = [dict(), dict(out=np.empty_like(x)), dict(return_grad=True), dict(reduction="sum"),
             dict(reduction="none"), dict(label_smoothing=0.25), dict(ignore_index=-100),
             dict(return_accuracy=True), dict(n_threads=2), dict(return_hessian=True),
             dict(out=(np.empty_like(x), np.empty_like(x))),
             dict(out=(x.copy(), np.empty_like(x)), return_hessian=True)]
    for kw in plain:
        fastloss.cross_entropy(x, t, **kw)
        assert rec.answered.pop(), kw
    declined = {
        "class weights": dict(weight=np.ones(4)),
        "sample_weight": dict(sample_weight=np.ones(6)),
        "int label_smoothing": dict(label_smoothing=0),
        "numpy float label_smoothing": dict(label_smoothing=np.float64(0.1)),
        "read-only out": dict(out=ro),
        "overlapping out": dict(x=buf[:24].reshape(6, 4), out=buf[1:25].reshape(6, 4)),
        "strided input": dict(x=np.repeat(x, 2, axis=1)[:, ::2]),
        "int32 target": dict(t=t.astype(np.int32)),
        "probability target": dict(t=np.full((6, 4), 0.25, np.float32)),
        "list target": dict(t=t.tolist()),
        "float16 input": dict(x=x.astype(np.float16)),
        "pair of one buffer": dict(out=(ro, ro)),
        "Hessian buffer is the input": dict(out=(np.empty_like(x), x)),
        "overlapping pair": dict(out=(buf[:24].reshape(6, 4), buf[1:25].reshape(6, 4))),
        "triple": dict(out=(np.empty_like(x), np.empty_like(x), np.empty_like(x))),
        "single buffer with return_hessian": dict(out=np.empty_like(x), return_hessian=True),
        "return_hessian not a bool": dict(return_hessian=1),
    }
    for why, kw in declined.items():
        kw = dict(kw)
        xx, tt = kw.pop("x", x), kw.pop("t", t)
        try:
            fastloss.cross_entropy(xx, tt, **kw)
        except (TypeError, ValueError):
            pass
        assert rec.answered.pop() is False, why
    # Bad labels: declined before anything is written, then named by the general path.
    for bad, match in ((np.array([0, 1, 2, 4, 0, 0]), r"target\[3\] = 4"),
                       (np.array([0, -1, 2, 3, 0, 0]), r"target\[1\] = -1")):
        out = np.full_like(x, 7)
        with pytest.raises(ValueError, match=match):
            fastloss.cross_entropy(x, bad, out=out)
        assert rec.answered.pop() is False and (out == 7).all()
    with pytest.raises(ValueError, match="label_smoothing"):
        fastloss.cross_entropy(x, t, label_smoothing=1.5)
    assert rec.answered.pop() is False
    with pytest.raises(ValueError, match="n_threads"):
        fastloss.cross_entropy(x, t, n_threads=0)
    # every row ignored: "mean" is NaN with a zero gradient, as the general path
    v, g = fastloss.cross_entropy(x, np.full(6, -100), return_grad=True)
    assert rec.answered.pop() and np.isnan(v) and not g.any()


MULTI = [s for s in fastloss.REGISTRY.values() if s.kind == "multi"]


def _multi_general(monkeypatch, name, *args, **kw):
    with monkeypatch.context() as m:
        m.setitem(_api.MULTI_PLANS, name, lambda a: None)
        return getattr(fastloss, name)(*args, **kw)


def _multi_shapes(spec):
    # rows: (N, D); elements: 1-D, 2-D, and (for the shared layout) below, at and past
    # one 1024-element row, so that both of its kernel calls run
    if spec.mean_over == "rows":
        return [(1, 1), (5, 3), (700, 9)]
    return [(1,), (7, 5), (1024,), (3, 1100)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", MULTI, ids=lambda s: s.name)
def test_multi_fast_equals_general(monkeypatch, spec, dtype):
    fn = getattr(fastloss, spec.name)
    n_in = len(spec.inputs)
    floats = {p.name: float(p.examples[0]) for p in spec.params if p.type is float and p.examples}
    calls = [dict(reduction=r) for r in spec.reductions]
    calls += [dict(reduction=r, return_grad=True) for r in spec.reductions]
    calls += [dict(out="tuple"), dict(out="tuple", reduction="sum", n_threads=2),
              dict(return_grad=True, **floats)]
    for shape in _multi_shapes(spec):
        arrays = make_arrays(spec, shape, dtype, seed=sum(shape))
        for kw in calls:
            fast_kw, general_kw = dict(kw), dict(kw)
            if kw.get("out") == "tuple":
                fast_kw["out"] = tuple(np.full_like(arrays[0], 7) for _ in range(n_in))
                general_kw["out"] = tuple(np.full_like(arrays[0], 7) for _ in range(n_in))
            with monkeypatch.context() as m:
                rec = _Recorder(_api.MULTI_PLANS[spec.name])
                m.setitem(_api.MULTI_PLANS, spec.name, rec)
                fast = fn(*arrays, **fast_kw)
                assert rec.answered == [True], (shape, kw)
            general = _multi_general(monkeypatch, spec.name, *arrays, **general_kw)
            assert _same(fast, general), (shape, kw)
            if "out" in fast_kw:
                assert all(g is b for g, b in zip(fast[1], fast_kw["out"]))


def test_multi_fast_path_declines_the_rest(monkeypatch):
    """Anything but the plain call goes to the general path (which names the errors),
    and a declined call writes nothing."""
    rec = {}
    for spec in MULTI:
        rec[spec.name] = _Recorder(_api.MULTI_PLANS[spec.name])
        monkeypatch.setitem(_api.MULTI_PLANS, spec.name, rec[spec.name])
    rng = np.random.default_rng(2)
    a, p, n = (rng.standard_normal((6, 4)) for _ in range(3))
    x, v = rng.standard_normal((3, 5)), rng.random((3, 5)) + 0.1
    buf = np.zeros(40)
    taken = [("triplet_margin_loss", (a, p, n), {}),
             ("cosine_embedding_loss", (a, p, np.array([1, -1, 1, 1, -1, 1])), {}),
             ("cosine_embedding_loss", (a, p, np.ones(6, np.float32)), {}),
             ("gaussian_nll_loss", (x, x + 1, v), {}),
             ("margin_ranking_loss", (x, x.copy(), np.ones((3, 5))), {"margin": 0.5})]
    for name, args, kw in taken:
        getattr(fastloss, name)(*args, **kw)
        assert rec[name].answered.pop() is True, (name, kw)
    declined = {
        "unbatched row": ("triplet_margin_loss", (a[0], p[0], n[0]), {}),
        "F-ordered input": ("triplet_margin_loss", (np.asfortranarray(a), p, n), {}),
        "list input": ("triplet_margin_loss", (a.tolist(), p, n), {}),
        "float32 positive": ("triplet_margin_loss", (a, p.astype(np.float32), n), {}),
        "swap": ("triplet_margin_loss", (a, p, n), {"swap": True}),
        "int margin": ("triplet_margin_loss", (a, p, n), {"margin": 2}),
        "infinite p": ("triplet_margin_loss", (a, p, n), {"p": np.inf}),
        "bool labels": ("cosine_embedding_loss", (a, p, np.ones(6, bool)), {}),
        "var shared": ("gaussian_nll_loss", (x, x, v[:, :1].copy()), {}),
        "var a float": ("gaussian_nll_loss", (x, x, 0.5), {}),
        "target broadcast": ("gaussian_nll_loss", (x, x[:1].copy(), v), {}),
        "negative var": ("gaussian_nll_loss", (x, x, -v), {}),
        "full": ("gaussian_nll_loss", (x, x, v), {"full": True}),
        "empty": ("margin_ranking_loss", (np.empty(0), np.empty(0), np.empty(0)), {}),
        "0-d": ("margin_ranking_loss", (np.array(1.0), np.array(2.0), np.array(1.0)), {}),
        "bad reduction": ("margin_ranking_loss", (x, x, np.ones((3, 5))), {"reduction": "avg"}),
        "return_grad 1": ("margin_ranking_loss", (x, x, np.ones((3, 5))), {"return_grad": 1}),
        "out of one": ("margin_ranking_loss", (x, x, np.ones((3, 5))), {"out": (np.empty((3, 5)),)}),
        "out is an input": ("margin_ranking_loss", (x.copy(), x, np.ones((3, 5))),
                            {"out": "input"}),
        "out overlapping out": ("margin_ranking_loss", (x, x, np.ones((3, 5))),
                                {"out": (buf[:15].reshape(3, 5), buf[1:16].reshape(3, 5))}),
        "read-only out": ("margin_ranking_loss", (x, x, np.ones((3, 5))), {"out": "read-only"}),
    }
    for why, (name, args, kw) in declined.items():
        kw = dict(kw)
        if kw.get("out") == "input":
            kw["out"] = (args[0], np.empty_like(args[0]))
        if kw.get("out") == "read-only":
            ro = np.empty((3, 5))
            ro.flags.writeable = False
            kw["out"] = (ro, np.empty((3, 5)))
        try:
            getattr(fastloss, name)(*args, **kw)
        except (TypeError, ValueError):
            pass
        assert rec[name].answered.pop() is False, why
    # a negative var is named by the general path, and out= is left as it was
    outs = (np.full((3, 5), 7.0), np.full((3, 5), 7.0))
    with pytest.raises(ValueError, match=r"var\[0, 0\]"):
        fastloss.gaussian_nll_loss(x, x, -v, out=outs)
    assert all((o == 7.0).all() for o in outs)
    with pytest.raises(ValueError, match="n_threads"):
        fastloss.margin_ranking_loss(x, x, np.ones((3, 5)), n_threads=0)
    # an input that is its own gradient's buffer: the general path copies it first
    expect = fastloss.margin_ranking_loss(x, -x, np.ones((3, 5)), return_grad=True)
    xc = x.copy()
    got = fastloss.margin_ranking_loss(xc, -x, np.ones((3, 5)), out=(xc, np.empty((3, 5))))
    assert _same(got[0], expect[0]) and _same(got[1][0], expect[1][0]) and got[1][0] is xc
