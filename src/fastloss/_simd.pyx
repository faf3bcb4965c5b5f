# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Per-ISA helpers built next to the loss kernels (one copy per SIMD level).

* float64 array versions of the ``_vmath.h`` and ``_vmathf.h`` functions, so
  that tests can measure their accuracy in every ISA build;
* ``triad``: the "bandwidth floor" of the benchmarks, a fused pass with the
  byte traffic of a pointwise loss+grad (read x and y, write g, sum a value),
  chunked exactly like the loss kernels.
"""

from cython.parallel cimport prange

from fastloss._common cimport CHUNK, PARALLEL_MIN, sum_partials

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
    double fl_expdiff32(float x, float m) noexcept nogil

ctypedef fused real:
    float
    double


def vmath(str name, const double[::1] x, double[::1] out):
    """out[i] = fl_<name>(x[i]) for name in exp, expm1, log, log1p, tanh, sigmoid, log1pexp."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef int f = ("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "log1pexp").index(name)
    with nogil:
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
        else:
            for i in range(n):
                out[i] = fl_log1pexp(x[i])


def vmath32(str name, const double[::1] x, double[::1] out):
    """out[i] = fl_<name>32(x[i]) for name in log, log1p."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef bint is_log = ("log", "log1p").index(name) == 0
    with nogil:
        if is_log:
            for i in range(n):
                out[i] = fl_log32(x[i])
        else:
            for i in range(n):
                out[i] = fl_log1p32(x[i])


def expdiff32(const float[::1] x, const float[::1] m, double[::1] out):
    """out[i] = fl_expdiff32(x[i], m[i]), exp(x - m) for x <= m."""
    cdef Py_ssize_t i, n = x.shape[0]
    with nogil:
        for i in range(n):
            out[i] = fl_expdiff32(x[i], m[i])


cdef inline double _triad_chunk(const real* x, const real* y, real* g, Py_ssize_t m) noexcept nogil:
    cdef double acc[8]
    cdef Py_ssize_t i, j
    cdef Py_ssize_t m0 = m - m % 8
    for j in range(8):
        acc[j] = 0.0
    for i in range(0, m0, 8):
        for j in range(8):
            g[i + j] = x[i + j] + <real>3.0 * y[i + j]
            acc[j] = acc[j] + <double>x[i + j]
    for i in range(m0, m):
        g[i] = x[i] + <real>3.0 * y[i]
        acc[0] = acc[0] + <double>x[i]
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


def triad(const real[::1] x, const real[::1] y, real[::1] g, int n_threads):
    """g = x + 3 y and return sum(x): 2 reads + 1 write, the floor of a pointwise loss+grad."""
    cdef Py_ssize_t n = x.shape[0], c, n_chunks = (x.shape[0] + CHUNK - 1) // CHUNK
    cdef Py_ssize_t start
    cdef double total = 0.0
    cdef double[::1] partials
    import numpy as np
    partials = np.empty(max(n_chunks, 1))
    cdef double* pp = &partials[0]
    cdef const real* xp = &x[0]
    cdef const real* yp = &y[0]
    cdef real* gp = &g[0]
    with nogil:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static",
                        use_threads_if=n_threads > 1 and n >= PARALLEL_MIN):
            start = c * CHUNK
            pp[c] = _triad_chunk(xp + start, yp + start, gp + start, min(CHUNK, n - start))
        total = sum_partials(pp, n_chunks)
    return total
