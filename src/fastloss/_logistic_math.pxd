# cython: language_level=3, cdivision=True
"""The logistic element math that pointwise and row-wise losses share: softplus and
sigmoid from exp(-|x|), and the element of binary_cross_entropy_with_logits, which
is also the per-class term of multilabel_soft_margin_loss (with weight w_c), in
float64 and in float32 lanes (_vmathf.h). A change here rebuilds both kernel
families; the rest of each family's math lives in its own .pxd.
"""

from libc.math cimport fabs

from fastloss._math cimport *


cdef inline double _softplus_neg(real prec, double x, double e) noexcept nogil:
    # softplus(-x) = log(1 + exp(-x)) with e = exp(-|x|): finite for all finite x.
    return max(-x, 0.0) + log1p_(prec, e)


cdef inline double _sigmoid_neg(double x, double e) noexcept nogil:
    # sigmoid(-x) with e = exp(-|x|), accurate in both tails. One division (the
    # two arms of a select are both computed; a division costs ~10 multiplies).
    cdef double r = 1.0 / (1.0 + e)
    return where(x >= 0, e * r, r)


cdef inline double _bce_value(double x, double y, double pos_weight, double l1p) noexcept nogil:
    # (1 - y) x + lw softplus(-x), lw = 1 + (pos_weight - 1) y, written as
    # (1 - y) softplus(x) + pos_weight y softplus(-x) with l1p = log1p(exp(-|x|)):
    # two terms that are never negative for targets in [0, 1], so nothing cancels
    # (y = 0, x = -37: 8.5e-17, not -37 + 37 = 0), and a term whose factor is 0
    # is 0 even where its softplus is infinite (x = -inf, y = 1 gives +inf, the
    # limit, not 0 * -inf = NaN). Targets outside [0, 1] make the two terms of
    # opposite sign: those keep the first form (x = 0, y = 1e308: ln 2, not 0).
    cdef double split = (where(y != 1.0, (1.0 - y) * (max(x, 0.0) + l1p), 0.0)
                         + where(y != 0.0, pos_weight * y * (max(-x, 0.0) + l1p), 0.0))
    cdef double first = (1.0 - y) * x + (1.0 + (pos_weight - 1.0) * y) * (max(-x, 0.0) + l1p)
    return where((y >= 0.0) & (y <= 1.0), split, first)


cdef inline LG binary_cross_entropy_with_logits_lg(real prec, double x, double y, double weight,
                                                   double pos_weight) noexcept nogil:
    cdef double e = exp(-fabs(x))
    cdef double r = 1.0 / (1.0 + e)
    cdef double lw = 1.0 + (pos_weight - 1.0) * y
    if real is float:
        # float32 data reaches this only for targets other than 0 and 1 (the rest
        # take _lg32): there the gradient's terms can cancel anyway, the value's
        # first form loses nothing that float32 keeps, and both forms are the
        # cheaper ones (the split value cost 14% of the kernel on avx2, measured).
        return LG(weight * ((1.0 - y) * x + lw * _softplus_neg(prec, x, e)),
                  weight * ((1.0 - y) - lw * where(x >= 0, e * r, r)))
    cdef double loss = weight * _bce_value(x, y, pos_weight, log1p_(prec, e))
    # (1 - y) - lw sigmoid(-x) written as (1 - y) sigmoid(x) - pos_weight y
    # sigmoid(-x) (lw = 1 + (pos_weight - 1) y, 1 = sigmoid(x) + sigmoid(-x)): for
    # 0/1 targets one term, exact in relative terms in both tails (1 - sigmoid(-x)
    # gave 0 at x = -37, y = 0 instead of 8.5e-17).
    return LG(loss, weight * ((1.0 - y) * where(x >= 0, r, e * r) - pos_weight * y * where(x >= 0, e * r, r)))


cdef inline double binary_cross_entropy_with_logits_h(real prec, double x, double y, double weight,
                                                      double pos_weight) noexcept nogil:
    # w (1 + (pos_weight - 1) y) sigmoid(x) sigmoid(-x), with sigmoid(x) sigmoid(-x) =
    # e / (1 + e)^2, e = exp(-|x|): exact in relative terms in both tails.
    cdef double e = exp(-fabs(x))
    cdef double r = 1.0 / (1.0 + e)
    return weight * (1.0 + (pos_weight - 1.0) * y) * (e * r * r)


cdef inline LG binary_cross_entropy_with_logits_lg32(float x, float y, double weight,
                                                     double pos_weight) noexcept nogil:
    # float32 lanes (_vmathf.h): sigmoid in both tails to ~0.03 units of 2^-24, so
    # with a 0/1 target the gradient rounds to float32 within 1 ulp; the value
    # as the float64 math writes it, with a float32 log1p.
    # y is 0 or 1 here (_lanes32): the value is one softplus, lw softplus((1 - 2y) x)
    # (lw = 1 or pos_weight), exact in both tails and the limit at infinite x. The
    # first form (1 - y) x + lw softplus(-x) gives 0 at x = -37, y = 0 and NaN at
    # infinite x; it was as fast at 65,536 elements but 1.3x faster at 10**7 on avx512
    # (26 against 34 ms, measured: the loop is at the edge of spilling registers).
    cdef fl_sig32 s = sigmoid_parts32(x)
    cdef double yd = y
    cdef double lw = 1.0 + (pos_weight - 1.0) * yd
    return LG(weight * (lw * (<double>max((1.0 - 2.0 * y) * x, <float>0.0) + s.l1p)),
              weight * ((1.0 - yd) * s.sp - pos_weight * yd * s.sn))


cdef inline double binary_cross_entropy_with_logits_h32(float x, float y, double weight,
                                                        double pos_weight) noexcept nogil:
    # The float32-lane sigmoid pair of _lg32 (one sigmoid_parts32 once inlined).
    cdef fl_sig32 s = sigmoid_parts32(x)
    return weight * (1.0 + (pos_weight - 1.0) * <double>y) * (s.sp * s.sn)


cdef inline bint binary_cross_entropy_with_logits_lanes32(float x, float y) noexcept nogil:
    # With a target other than 0 or 1 the gradient's two terms can cancel, and
    # only float64 math keeps it within 2 ulp: those elements take it.
    return (y == 0.0) | (y == 1.0)


