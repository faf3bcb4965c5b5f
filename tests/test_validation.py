"""Bad input raises a clear error naming the argument, before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import arrays_for, as64, assert_close, public, ref, specs


def call(spec, *arrays, **kw):
    return public(spec)(*arrays, **kw)


@pytest.mark.parametrize("spec", specs(with_target=True))
class TestBadTarget:
    def test_target_shape_mismatch(self, spec):
        x, y = arrays_for(spec, (5,), np.float64)
        with pytest.raises(ValueError, match="target"):
            call(spec, x, y[:4])

    def test_complex_target(self, spec):
        x, y = arrays_for(spec, (5,), np.float64)
        with pytest.raises(TypeError, match="target"):
            call(spec, x, y.astype(np.complex128))


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

    @pytest.mark.parametrize("n_threads,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                               (True, TypeError), ("2", TypeError)])
    def test_bad_n_threads(self, spec, n_threads, exc):
        with pytest.raises(exc, match="n_threads"):
            call(spec, *arrays_for(spec, (5,), np.float64), n_threads=n_threads)

    def test_numpy_integer_n_threads_accepted(self, spec):
        arrays = arrays_for(spec, (5,), np.float64)
        assert call(spec, *arrays, n_threads=np.int64(2)) == call(spec, *arrays)

    def test_out_wrong_shape_dtype_readonly_layout(self, spec):
        arrays = arrays_for(spec, (6, 4), np.float32)
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
            with pytest.raises(ValueError, match=p.name):
                call(spec, *arrays, **{p.name: np.nan})
            if p.low is not None:
                with pytest.raises(ValueError, match=p.name):
                    call(spec, *arrays, **{p.name: p.low - 1.0})
            if p.high is not None:
                with pytest.raises(ValueError, match=p.name):
                    call(spec, *arrays, **{p.name: p.high + 1.0})


@pytest.mark.parametrize("spec", specs())
class TestAcceptedInput:
    def test_lists_readonly_and_big_endian(self, spec):
        arrays = arrays_for(spec, (7,), np.float64)
        expected = ref(spec)(*arrays)
        # Python lists
        assert_close(*public(spec)(*[a.tolist() for a in arrays], return_grad=True), *expected,
                     np.float64)
        # read-only input is accepted and never written
        ro = [a.copy() for a in arrays]
        for a in ro:
            a.flags.writeable = False
        before = [a.copy() for a in ro]
        assert_close(*public(spec)(*ro, return_grad=True), *expected, np.float64)
        assert all(np.array_equal(a, b) for a, b in zip(ro, before))
        # non-native byte order
        be = [a.astype(a.dtype.newbyteorder(">")) for a in arrays]
        assert_close(*public(spec)(*be, return_grad=True), *expected, np.float64)

    def test_scalar_input(self, spec):
        arrays = [np.float64(a[0]) for a in arrays_for(spec, (1,), np.float64)]
        value, grad = public(spec)(*arrays, return_grad=True)
        assert grad.shape == ()
        assert_close(value, grad, *ref(spec)(*arrays), np.float64)


@pytest.mark.parametrize("spec", specs(with_target=True))
class TestAcceptedTarget:
    def test_target_of_other_dtype_is_converted(self, spec):
        x, y = arrays_for(spec, (9,), np.float32)
        v64, _ = public(spec)(x, y.astype(np.float64), return_grad=True)
        v32, g = public(spec)(x, y, return_grad=True)
        assert v64 == v32 and g.dtype == np.float32
        yi = np.round(y).astype(np.int32)
        assert_close(*public(spec)(x, yi, return_grad=True), *ref(spec)(*as64([x, yi])),
                     np.float32)
