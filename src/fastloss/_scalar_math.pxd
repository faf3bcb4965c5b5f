# cython: language_level=3
"""The math of each pointwise loss, one inline function per loss.

``<name>_lg(x[, y], *params)`` returns the element loss and its derivative with
respect to ``x`` as a struct: returning through out-pointers inside ``prange``
makes them shared between threads (a race). The generated kernels in
``_pointwise.pyx`` call these; nothing else holds loss math in C.
"""

from libc.math cimport fabs, M_PI

cdef extern from "_select.h":
    double where "fl_where"(bint c, double a, double b) noexcept nogil


# Branch-free polynomial exp/log/log1p/tanh that GCC/clang/MSVC auto-vectorise
# (libm calls are opaque and keep the loops scalar). Accuracy: see _vmath.h.
cdef extern from "_vmath.h":
    double exp "fl_exp"(double x) noexcept nogil
    double expm1 "fl_expm1"(double x) noexcept nogil
    double log "fl_log"(double x) noexcept nogil
    double log1p "fl_log1p"(double x) noexcept nogil
    double tanh "fl_tanh"(double x) noexcept nogil
    double sigmoid "fl_sigmoid"(double x) noexcept nogil
    double log1pexp "fl_log1pexp"(double x) noexcept nogil
    double blend "fl_blend"(bint c, double a, double b) noexcept nogil
    ctypedef struct fl_lc:
        double log_cosh
        double tanh
    fl_lc log_cosh_tanh "fl_log_cosh_tanh"(double d) noexcept nogil


cdef struct LG:
    double loss
    double grad


cdef inline double _sign(double d) noexcept nogil:
    # PyTorch's subgradient: sign(0) = 0, and NaN propagates. Written as
    # selects, not branches, so that loops calling it vectorise.
    return where(d == d, <double>(d > 0) - <double>(d < 0), d)


cdef inline LG mse_loss_lg(double x, double y) noexcept nogil:
    cdef double d = x - y
    return LG(d * d, 2.0 * d)


cdef inline LG l1_loss_lg(double x, double y) noexcept nogil:
    cdef double d = x - y
    return LG(fabs(d), _sign(d))


cdef inline LG huber_loss_lg(double x, double y, double delta) noexcept nogil:
    cdef double d = x - y
    cdef double a = fabs(d)
    cdef bint quadratic = a < delta
    return LG(where(quadratic, 0.5 * d * d, delta * (a - 0.5 * delta)),
              where(quadratic, d, delta * _sign(d)))


cdef inline LG smooth_l1_loss_lg(double x, double y, double beta) noexcept nogil:
    cdef double d = x - y
    cdef double a = fabs(d)
    # beta == 0 never takes the quadratic branch; the max() keeps the unused
    # arm of the select free of a division by zero.
    cdef bint quadratic = a < beta
    cdef double inv_beta = 1.0 / max(beta, 1e-300)
    return LG(where(quadratic, 0.5 * d * d * inv_beta, a - 0.5 * beta),
              where(quadratic, d * inv_beta, _sign(d)))


cdef inline LG poisson_nll_loss_lg(double x, double y, double log_input, double full,
                                   double eps) noexcept nogil:
    # Branches only on the loop-invariant flags (GCC unswitches the loop on
    # them); the rest is vector math and selects, so every version vectorises.
    cdef LG r
    cdef double e, st
    if log_input != 0.0:
        e = exp(x)
        r = LG(e - y * x, e - y)
    else:
        r = LG(x - y * log(x + eps), 1.0 - y / (x + eps))
    if full != 0.0:
        # Stirling's approximation of log(y!), as PyTorch adds it (only where y > 1).
        st = y * log(y) - y + 0.5 * log(2.0 * M_PI * y)
        r.loss = where(y > 1.0, r.loss + st, r.loss)
    return r


cdef inline LG log_cosh_loss_lg(double x, double y) noexcept nogil:
    # One expm1 gives both, without overflow or cancellation (see _vmath.h).
    cdef fl_lc r = log_cosh_tanh(x - y)
    return LG(r.log_cosh, r.tanh)


cdef inline LG quantile_loss_lg(double x, double y, double quantile) noexcept nogil:
    cdef double d = y - x
    # Subgradient 0 at d = 0: it lies in [-q, 1 - q] for every q.
    return LG(where(d > 0, quantile * d, (quantile - 1.0) * d),
              where(d > 0, -quantile, where(d < 0, 1.0 - quantile, d * 0.0)))


cdef inline LG l1_penalty_lg(double w, double alpha) noexcept nogil:
    return LG(alpha * fabs(w), alpha * _sign(w))


cdef inline LG l2_penalty_lg(double w, double alpha) noexcept nogil:
    return LG(0.5 * alpha * w * w, alpha * w)


cdef inline LG elastic_net_penalty_lg(double w, double alpha, double l1_ratio) noexcept nogil:
    return LG(alpha * (l1_ratio * fabs(w) + 0.5 * (1.0 - l1_ratio) * w * w),
              alpha * (l1_ratio * _sign(w) + (1.0 - l1_ratio) * w))
