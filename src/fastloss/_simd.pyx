# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Per-ISA helpers built next to the loss kernels (one build per SIMD level).

* the ``_vmath.h`` and ``_vmathf.h`` functions over arrays, so that tests can
  measure their accuracy in every ISA build;
* ``triad``: the "bandwidth floor" of the benchmarks, a fused pass with the
  byte traffic of a pointwise loss+grad (read x and y, write g, sum a value),
  chunked exactly like the loss kernels; with ``h``, that of loss+grad+Hessian
  (a second output stream).

Plain ``nogil`` functions in a table (``SimdCall``), like the loss kernels:
``_launch.SimdHelpers`` is their Python side.
"""

from cpython.pycapsule cimport PyCapsule_New
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free

from fastloss._common cimport CHUNK, PARALLEL_MIN, sum_partials, f32_rp, f64_rp
from fastloss._kernel_abi cimport SimdTable

cdef extern from "_vmath.h":
    double fl_exp(double x) noexcept nogil
    double fl_expm1(double x) noexcept nogil
    double fl_log(double x) noexcept nogil
    double fl_log1p(double x) noexcept nogil
    double fl_tanh(double x) noexcept nogil
    double fl_sigmoid(double x) noexcept nogil
    double fl_log1pexp(double x) noexcept nogil

cdef extern from "_vmathf.h":
    double fl_log32(double x) noexcept nogil
    double fl_log1p32(double x) noexcept nogil
    float fl_expdiff32(float x, float m) noexcept nogil

ctypedef fused real:
    float
    double


cdef int vmath(int f, const double* x, double* out, Py_ssize_t n) noexcept nogil:
    # out[i] = fl_<name>(x[i]), f indexing _launch.VMATH (then the float32 set).
    cdef Py_ssize_t i
    if f == 0:
        for i in range(n):
            out[i] = fl_exp(x[i])
    elif f == 1:
        for i in range(n):
            out[i] = fl_expm1(x[i])
    elif f == 2:
        for i in range(n):
            out[i] = fl_log(x[i])
    elif f == 3:
        for i in range(n):
            out[i] = fl_log1p(x[i])
    elif f == 4:
        for i in range(n):
            out[i] = fl_tanh(x[i])
    elif f == 5:
        for i in range(n):
            out[i] = fl_sigmoid(x[i])
    elif f == 6:
        for i in range(n):
            out[i] = fl_log1pexp(x[i])
    elif f == 7:
        for i in range(n):
            out[i] = fl_log32(x[i])
    elif f == 8:
        for i in range(n):
            out[i] = fl_log1p32(x[i])
    else:
        return -1
    return 0


cdef void expdiff32(const float* x, const float* m, double* out, Py_ssize_t n) noexcept nogil:
    # out[i] = fl_expdiff32(x[i], m[i]), exp(x - m) for x <= m.
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = fl_expdiff32(x[i], m[i])


# The pointers restrict-qualified (_common.pxd; SimdHelpers.triad refuses overlap).
# 3 y as y + y + y: in the data's type (Cython writes a literal 3 as a double).
ctypedef fused real_rp:
    f32_rp
    f64_rp


cdef double _triad_chunk(const real_rp x, const real_rp y, real_rp g, real_rp h,
                         Py_ssize_t m) noexcept nogil:
    cdef double acc[8]
    cdef Py_ssize_t i, j
    cdef Py_ssize_t m0 = m - m % 8
    for j in range(8):
        acc[j] = 0.0
    if h == NULL:
        for i in range(0, m0, 8):
            for j in range(8):
                g[i + j] = x[i + j] + (y[i + j] + y[i + j] + y[i + j])
                acc[j] = acc[j] + <double>x[i + j]
    else:
        for i in range(0, m0, 8):
            for j in range(8):
                g[i + j] = x[i + j] + (y[i + j] + y[i + j] + y[i + j])
                h[i + j] = x[i + j] - y[i + j]
                acc[j] = acc[j] + <double>x[i + j]
    for i in range(m0, m):
        g[i] = x[i] + (y[i] + y[i] + y[i])
        if h != NULL:
            h[i] = x[i] - y[i]
        acc[0] = acc[0] + <double>x[i]
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


cdef int _triad(const real* xp, const real* yp, real* gp, real* hp, Py_ssize_t n,
                int n_threads, double* total) noexcept nogil:
    # g = x + 3 y and *total = sum(x): 2 reads + 1 write, the floor of a pointwise
    # loss+grad; with hp, also h = x - y: + 1 write, the floor with the Hessian.
    cdef Py_ssize_t c, start, n_chunks = (n + CHUNK - 1) // CHUNK
    cdef double* pp = <double*>malloc(<size_t>max(n_chunks, 1) * sizeof(double))
    if pp == NULL:
        return -1
    for c in prange(n_chunks, num_threads=n_threads, schedule="static",
                    use_threads_if=n_threads > 1 and n >= PARALLEL_MIN):
        start = c * CHUNK
        if real is float:
            pp[c] = _triad_chunk(<f32_rp>(xp + start), <f32_rp>(yp + start), <f32_rp>(gp + start),
                                 <f32_rp>(hp + start if hp != NULL else NULL),
                                 min(CHUNK, n - start))
        else:
            pp[c] = _triad_chunk(<f64_rp>(xp + start), <f64_rp>(yp + start), <f64_rp>(gp + start),
                                 <f64_rp>(hp + start if hp != NULL else NULL),
                                 min(CHUNK, n - start))
    total[0] = sum_partials(pp, n_chunks)
    free(pp)
    return 0


cdef SimdTable _TABLE
_TABLE.vmath = vmath
_TABLE.expdiff32 = expdiff32
_TABLE.triad_f32 = _triad[float]
_TABLE.triad_f64 = _triad[double]


def table():
    """The helpers as a PyCapsule for ``_launch``."""
    return PyCapsule_New(<void*>&_TABLE, "fastloss.simd_table", NULL)
