# cython: language_level=3, cdivision=True
"""The math library of the kernels: vectorisable exp/log/log1p/tanh, selects and
the precision helpers, shared by the pointwise and the row-wise loss math.

Nothing here knows a loss. Branch-free polynomial exp/log/log1p/tanh that
GCC/clang/MSVC auto-vectorise (libm calls are opaque and keep the loops scalar);
accuracy: see _vmath.h and _vmathf.h.
"""

cdef extern from "_select.h":
    double where "fl_where"(bint c, double a, double b) noexcept nogil
    double pick "fl_pick"(bint c, double a, double b) noexcept nogil
    float pickf "fl_pickf"(bint c, float a, float b) noexcept nogil


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
    double sech2 "fl_sech2"(double d) noexcept nogil


# float64 in and out with float32 polynomials inside (_vmathf.h), about 3x
# faster than the float64 set.
cdef extern from "_vmathf.h":
    double log32 "fl_log32"(double x) noexcept nogil
    double log1p32 "fl_log1p32"(double x) noexcept nogil
    fl_lc log_cosh_tanh32 "fl_log_cosh_tanh32"(double d) noexcept nogil
    float expdiff32 "fl_expdiff32"(float x, float m) noexcept nogil
    # float32 lanes with FMA, float64 out (same bits on every FMA level; the x86-64
    # baseline computes them in float64: FL_F32_LANES in _vmathf.h).
    ctypedef struct fl_sig32:
        double sp
        double sn
        double l1p
    fl_sig32 sigmoid_parts32 "fl_sigmoid_parts32"(float x) noexcept nogil
    # 1 where the float32 functions run in float32 lanes with FMA (every level but
    # the x86-64 baseline), whose float32 results therefore differ by rounding.
    const int F32_LANES "FL_F32_LANES"


ctypedef fused real:
    float
    double


# c ? a : b in the data's type (a float32 select stays in float32 lanes), for arms
# that are not constants (see _select.h).
cdef inline real pick_r(bint c, real a, real b) noexcept nogil:
    if real is float:
        return pickf(c, a, b)
    else:
        return pick(c, a, b)


# An element's loss and its derivative, returned by value: out-pointers inside a
# prange would be shared between threads.
cdef struct LG:
    double loss
    double grad


# Losses with float32-lane element math (_vmathf.h) run a block of elements in one
# of three modes, from how many of its n elements that math serves (n32): 0 all
# take the float32 lanes, 1 none (float64 math), 2 some (both, then lg_select per
# element), so that an element's result depends on its own inputs only.
cdef inline int lanes_mode(Py_ssize_t n32, Py_ssize_t n) noexcept nogil:
    return 0 if n32 == n else (1 if n32 == 0 else 2)


cdef inline LG lg_select(bint ok, LG a, LG b) noexcept nogil:
    return LG(where(ok, a.loss, b.loss), where(ok, a.grad, b.grad))


# log_ and log1p_ take the precision of the data: float32 data the float32
# set, float64 data the float64 set. Only the type of `prec` matters (the
# kernel passes a zero of the data's type). Use them only for terms of the
# loss value: a gradient computed from a transcendental keeps float64 math
# (see _vmathf.h for why and for the measured errors).
cdef inline double log_(real prec, double v) noexcept nogil:
    if real is float:
        return log32(v)
    else:
        return log(v)


cdef inline double log1p_(real prec, double v) noexcept nogil:
    if real is float:
        return log1p32(v)
    else:
        return log1p(v)


cdef inline fl_lc log_cosh_tanh_(real prec, double d) noexcept nogil:
    # tanh (the gradient) in float64 either way; log cosh's log1p follows prec.
    if real is float:
        return log_cosh_tanh32(d)
    else:
        return log_cosh_tanh(d)
