"""Bad input raises a clear error naming the argument, before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from helpers import arrays_for, as64, assert_close, evaluate, public, ref, specs


def call(spec, *arrays, **kw):
    return public(spec)(*arrays, **kw)


@pytest.mark.parametrize("spec", specs(with_target=True))
class TestBadTarget:
    def test_target_shape_mismatch(self, spec):
        x, y, *rest = arrays_for(spec, (5,), np.float64)
        with pytest.raises(ValueError, match="target"):
            call(spec, x, y[:-1], *rest)

    def test_complex_target(self, spec):
        x, y, *rest = arrays_for(spec, (5,), np.float64)
        with pytest.raises(TypeError, match="target"):
            call(spec, x, y.astype(np.complex128), *rest)


@pytest.mark.parametrize("spec", specs())
class TestBadInput:
    @pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128, np.float16, object])
    def test_input_dtype(self, spec, dtype):
        arrays = arrays_for(spec, (5,), np.float64)
        arrays[0] = arrays[0].astype(dtype)
        with pytest.raises(TypeError, match=spec.input_name):
            call(spec, *arrays)

    @pytest.mark.parametrize("reduction", ["avg", None, "MEAN", 1])
    def test_unknown_reduction(self, spec, reduction):
        with pytest.raises(ValueError, match="reduction"):
            call(spec, *arrays_for(spec, (5,), np.float64), reduction=reduction)

    @pytest.mark.parametrize("n_threads,exc", [(0, ValueError), (1.5, TypeError),
                                               (True, TypeError), ("2", TypeError)])
    def test_bad_n_threads(self, spec, n_threads, exc):
        with pytest.raises(exc, match="n_threads"):
            call(spec, *arrays_for(spec, (5,), np.float64), n_threads=n_threads)

    def test_numpy_integer_n_threads_accepted(self, spec):
        arrays = arrays_for(spec, (5,), np.float64)
        assert call(spec, *arrays, n_threads=np.int64(2)) == call(spec, *arrays)

    def test_out_wrong_shape_dtype_readonly_layout(self, spec):
        arrays = arrays_for(spec, (6, 4), np.float32)
        if not spec.differentiable:  # a metric has no gradient and no out
            with pytest.raises(TypeError, match="out"):
                call(spec, *arrays, out=np.empty((6, 4), np.float32))
            return
        with pytest.raises(ValueError, match="out"):
            call(spec, *arrays, out=np.empty((6, 5), np.float32))
        with pytest.raises(TypeError, match="out"):
            call(spec, *arrays, out=np.empty((6, 4), np.float64))
        ro = np.empty((6, 4), np.float32)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="out"):
            call(spec, *arrays, out=ro)
        with pytest.raises(ValueError, match="out"):
            call(spec, *arrays, out=np.empty((4, 6), np.float32).T)
        with pytest.raises(TypeError, match="out"):
            call(spec, *arrays, out=[0.0] * 24)

    def test_unknown_keyword(self, spec):
        with pytest.raises(TypeError, match="no_such_option"):
            call(spec, *arrays_for(spec, (5,), np.float64), no_such_option=1)

    def test_sample_weight(self, spec):
        arrays = arrays_for(spec, (5, 2), np.float64)
        if not spec.sample_weight:
            with pytest.raises(TypeError, match="sample_weight"):
                call(spec, *arrays, sample_weight=np.ones(5))
            return
        for bad in (np.ones(4), np.ones((5, 2)), np.ones(10)):
            with pytest.raises(ValueError, match="sample_weight"):
                call(spec, *arrays, sample_weight=bad)
        for bad in ([1, 1, np.nan, 1, 1], [1, 1, -1, 1, 1], [1, 1, np.inf, 1, 1]):
            with pytest.raises(ValueError, match="sample_weight"):
                call(spec, *arrays, sample_weight=bad)
        with pytest.raises(ValueError, match="sample_weight"):
            call(spec, *arrays, sample_weight=np.zeros(5), reduction="mean")
        with pytest.raises(TypeError, match="sample_weight"):
            call(spec, *arrays, sample_weight=np.ones(5, np.complex64))
        if spec.kind == "pointwise":  # a 0-d input has no rows to weight
            with pytest.raises(ValueError, match="sample_weight"):
                call(spec, np.float64(1.0), *(np.float64(1.0) for _ in arrays[1:]),
                     sample_weight=[1.0])

    def test_loss_parameters_checked(self, spec):
        arrays = arrays_for(spec, (5,), np.float64)
        for p in spec.params:
            if p.type is bool:
                with pytest.raises(TypeError, match=p.name):
                    call(spec, *arrays, **{p.name: 1})
                continue
            with pytest.raises(TypeError, match=p.name):
                call(spec, *arrays, **{p.name: "1"})
            # an int parameter rejects floats with TypeError
            with pytest.raises(TypeError if p.type is int else ValueError, match=p.name):
                call(spec, *arrays, **{p.name: np.nan})
            if p.low is not None:
                with pytest.raises(ValueError, match=p.name):
                    call(spec, *arrays, **{p.name: p.low - 1})
            if p.high is not None:
                with pytest.raises(ValueError, match=p.name):
                    call(spec, *arrays, **{p.name: p.high + 1})
            if p.choices:
                with pytest.raises(ValueError, match=p.name):
                    call(spec, *arrays, **{p.name: max(p.choices) + 1})

    def test_class_vectors_checked(self, spec):
        arrays = arrays_for(spec, (4, 3), np.float64)
        n = arrays[0].shape[-1]
        kw = {a.name: np.ones(n) / n for a in spec.array_params}
        for a in spec.array_params:
            for bad, exc in ((np.ones(n + 1), ValueError), (-np.ones(n), ValueError),
                             (np.full(n, np.nan), ValueError), (np.ones(n, np.complex128), TypeError)):
                with pytest.raises(exc, match=a.name):
                    call(spec, arrays[0], arrays[1], **{**kw, a.name: bad})


@pytest.mark.parametrize("spec", specs())
class TestAcceptedInput:
    def test_lists_readonly_and_big_endian(self, spec):
        arrays = arrays_for(spec, (7,), np.float64)
        expected = ref(spec)(*arrays)
        # Python lists
        assert_close(*evaluate(spec, *[a.tolist() for a in arrays]), *expected, np.float64)
        # read-only input is accepted and never written
        ro = [a.copy() for a in arrays]
        for a in ro:
            a.flags.writeable = False
        before = [a.copy() for a in ro]
        assert_close(*evaluate(spec, *ro), *expected, np.float64)
        assert all(np.array_equal(a, b) for a, b in zip(ro, before))
        # non-native byte order
        be = [a.astype(a.dtype.newbyteorder(">")) for a in arrays]
        assert_close(*evaluate(spec, *be), *expected, np.float64)

    def test_scalar_input(self, spec):
        if spec.kind == "rowwise" and "scalar" in spec.shapes:  # one row of one class
            value, grad = public(spec)(np.float64(0.25), np.int64(0), return_grad=True)
            assert grad.shape == ()
            assert_close(value, grad, *ref(spec)(np.float64(0.25), np.int64(0)), np.float64)
            return
        if spec.kind == "rowwise":  # needs (N, C) rows
            with pytest.raises(ValueError, match=spec.input_name):
                public(spec)(*[np.float64(1.0)] + arrays_for(spec, (1,), np.float64)[1:])
            return
        arrays = [np.float64(a[0]) for a in arrays_for(spec, (1,), np.float64)]
        value, grad = public(spec)(*arrays, return_grad=True)
        assert grad.shape == ()
        assert_close(value, grad, *ref(spec)(*arrays), np.float64)


@pytest.mark.parametrize("spec", specs(targets=("real",)))
class TestAcceptedTarget:
    def test_target_of_other_dtype_is_converted(self, spec):
        x, y = arrays_for(spec, (9,), np.float32)
        v64, _ = public(spec)(x, y.astype(np.float64), return_grad=True)
        v32, g = public(spec)(x, y, return_grad=True)
        assert v64 == v32 and g.dtype == np.float32
        yi = np.round(y).astype(np.int32)
        assert_close(*public(spec)(x, yi, return_grad=True), *ref(spec)(*as64([x, yi])),
                     np.float32)


def _unaligned(a):
    """A copy of ``a`` whose data starts one byte past an aligned address."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    u = np.frombuffer(buf.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned
    return u


@pytest.mark.parametrize("spec", specs())
def test_unaligned_arrays_give_the_aligned_result(spec):
    # e.g. buffers received over a network: copied before a kernel reads them.
    arrays = arrays_for(spec, (7, 5), np.float64, seed=2)
    expected = evaluate(spec, *arrays)
    got = evaluate(spec, *[_unaligned(a) if a.dtype.kind == "f" else a for a in arrays])
    for e, g in zip(expected, got):
        if e is None:  # a metric's gradient
            assert g is None
        else:
            assert np.array_equal(g, e, equal_nan=True)


@pytest.mark.parametrize("spec", specs(differentiable=True))
def test_unaligned_out_is_refused_untouched(spec):
    arrays = arrays_for(spec, (7, 5), np.float64, seed=2)
    out = _unaligned(np.full_like(arrays[0], 7.0))
    with pytest.raises(ValueError, match="out.*aligned"):
        call(spec, *arrays, out=out)
    assert (out == 7.0).all()


class TestKernelGuard:
    """The compiled kernels check their arrays themselves (_launch): a call that does
    not fit raises before anything is written, never reads or writes out of bounds."""

    def _pointwise(self):
        from fastloss import _dispatch

        return _dispatch.load("_pointwise").mse_loss_f64

    def test_wrong_dtype(self):
        k = self._pointwise()
        x = np.ones(10, np.float32)
        with pytest.raises(TypeError, match="x must be an aligned native float64"):
            k(x, x, None, None, None, 1, 1.0, 1)

    def test_short_target_and_grad_leave_grad_untouched(self):
        k = self._pointwise()
        x, g = np.ones(10), np.full(10, 5.0)
        with pytest.raises(ValueError, match="target must have 10 elements"):
            k(x, np.ones(9), g, None, None, 1, 1.0, 1)
        with pytest.raises(ValueError, match="grad must have 10 elements"):
            k(x, x, g[:9], None, None, 1, 1.0, 1)
        assert (g == 5.0).all()

    def test_weights_must_match_rows(self):
        k = self._pointwise()
        x = np.ones(12)
        with pytest.raises(ValueError, match="weight must have 4 elements"):
            k(x, x, None, None, np.ones(3), 3, 1.0, 1)
        assert k(x, x, None, None, np.ones(4), 3, 1.0, 1) == 0.0

    def test_read_only_grad(self):
        k = self._pointwise()
        x = np.ones(4)
        g = np.zeros(4)
        g.flags.writeable = False
        with pytest.raises(ValueError, match="grad must be writable"):
            k(x, x, g, None, None, 1, 1.0, 1)

    def test_rowwise_class_vector_length(self):
        from fastloss import _dispatch

        k = _dispatch.load("_rowwise").nll_loss_f64
        x, t = np.arange(12.0).reshape(4, 3), np.array([0, 1, 2, 0])
        with pytest.raises(ValueError, match="3 entries"):
            k(x, t, -100, None, None, None, 1.0, 1, np.ones(2))
        assert k(x, t, -100, None, None, None, 1.0, 1, np.ones(3))[0] == -(0 + 4 + 8 + 9)

    def test_argument_count(self):
        k = self._pointwise()
        with pytest.raises(TypeError, match="takes 8 arguments"):
            k(np.ones(3), np.ones(3))


@pytest.mark.parametrize("bad", [-1e-300, -np.inf, np.inf, np.nan, -np.nan])
@pytest.mark.parametrize("where", [0, 5, 16, 30])
def test_weights_bad_anywhere_rejected_and_out_untouched(bad, where):
    """The weight check is one vectorised pass (_fastpath.weight_max): a bad weight
    in any lane position is found, for sample_weight and for an element weight."""
    x = np.linspace(-1.0, 1.0, 31)
    y = np.zeros(31)
    w = np.ones(31)
    w[where] = bad
    out = np.full(31, 7.0)
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        fastloss.mse_loss(x, y, sample_weight=w, out=out)
    assert (out == 7.0).all()
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        fastloss.binary_cross_entropy_with_logits(x, (y > 0).astype(float), weight=w)


def test_weights_negative_zero_and_extremes_accepted():
    x = np.array([0.5, -1.0, 2.0])
    y = np.zeros(3)
    for w in ([-0.0, 1.0, 2.0], [5e-324, 0.0, 0.0], [1.7976931348623157e308, 1.0, 0.0]):
        w = np.array(w)
        v, g = fastloss.mse_loss(x, y, sample_weight=w, return_grad=True)
        # a weighted mean is unchanged by scaling the weights exactly (here into the
        # normal range, where the reference's own sums neither underflow nor overflow)
        scaled = np.ldexp(w, -np.frexp(w.max())[1])
        rv, rg = fastloss.reference.mse_loss(x, y, sample_weight=scaled)[:2]
        assert v == pytest.approx(rv, rel=1e-15) and np.isfinite(v)
        np.testing.assert_allclose(g, rg, rtol=1e-15)
