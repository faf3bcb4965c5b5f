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
    kernels = {np.dtype(np.float32): lambda *a: 6.0}
    x = np.ones((2, 3), np.float32)
    y = np.ones((2, 3), np.float32)
    out = np.empty_like(x)

    def call(x=x, y=y, out=out, reduction="mean", n_threads=None):
        return _fastpath.pointwise(kernels, x, y, out, reduction, n_threads, (), spec.reductions)

    assert call() == (1.0, out) and call()[1] is out
    assert call(reduction="sum") == (6.0, out)
    assert call(out=x) is not None                                    # exact alias: in place
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
    }
    for why, kw in declined.items():
        assert call(**kw) is None, why
    with pytest.raises(ValueError, match="n_threads"):
        call(n_threads=0)
