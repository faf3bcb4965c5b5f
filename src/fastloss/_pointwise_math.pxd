# cython: language_level=3, cdivision=True
"""The math of each pointwise loss, one inline function per loss.

``<name>_lg(x[, y], *params)`` returns the element loss and its derivative with
respect to ``x`` as a struct: returning through out-pointers inside ``prange``
makes them shared between threads (a race). ``<name>_h`` (same arguments)
returns the second derivative, in float64 math for any data: the kernels call
it beside ``_lg`` only for ``return_hessian`` (once inlined, the common
subexpressions of the two, such as exp(-|x|), are computed once). A loss whose
second derivative is a constant of its parameters (registry:
``constant_hessian``) has instead ``<name>_hk(*params)``, that constant, and
``<name>_hs(x[, y], s)``, which gives an element the scaled constant ``s`` in the
data's type, or the NaN the element propagates: the kernel scales the constant
once per chunk and writes it without float64 math (float32 mse_loss 1.46x ->
1.15x its gradient-only call at 65,536 elements, avx512; 2.9x -> 1.3x baseline).
Where the value is computed too, the kernel writes ``s`` alone and applies
``_hs`` only to a chunk whose loss sum is NaN, so every ``_hs`` must change an
element only where its loss is NaN. The generated kernels in
``_pointwise.pyx`` call these; nothing else holds pointwise loss math in C.
The exp/log/select library they use is ``_math.pxd`` (shared with the row-wise
losses, so that a change here rebuilds only the pointwise kernels).
"""

from libc.math cimport fabs, M_PI, INFINITY

from fastloss._math cimport *
from fastloss._logistic_math cimport *


cdef inline double _sign(double d) noexcept nogil:
    # PyTorch's subgradient: sign(0) = 0, and NaN propagates. Written as
    # selects, not branches, so that loops calling it vectorise.
    return pick(d == d, <double>(d > 0) - <double>(d < 0), d)


cdef inline LG mse_loss_lg(real prec, double x, double y) noexcept nogil:
    cdef double d = x - y
    return LG(d * d, 2.0 * d)


cdef inline double mse_loss_hk() noexcept nogil:
    return 2.0


cdef inline real mse_loss_hs(real x, real y, real s) noexcept nogil:
    # A NaN input or target propagates, as in the gradient.
    return pick_r(x - y == x - y, s, x - y)


cdef inline LG l1_loss_lg(real prec, double x, double y) noexcept nogil:
    cdef double d = x - y
    return LG(fabs(d), _sign(d))


cdef inline double l1_loss_hk() noexcept nogil:
    # 0 everywhere; at d = 0 too (the kink).
    return 0.0


cdef inline real l1_loss_hs(real x, real y, real s) noexcept nogil:
    return pick_r(x - y == x - y, s, x - y)


cdef inline LG huber_loss_lg(real prec, double x, double y, double delta) noexcept nogil:
    cdef double d = x - y
    cdef double a = fabs(d)
    cdef bint quadratic = a < delta
    return LG(pick(quadratic, 0.5 * d * d, delta * (a - 0.5 * delta)),
              pick(quadratic, d, delta * _sign(d)))


cdef inline double huber_loss_h(real prec, double x, double y, double delta) noexcept nogil:
    # The gradient's branch: 1 where |d| < delta, 0 on the linear side (the kink too).
    cdef double d = x - y
    return pick(d == d, <double>(fabs(d) < delta), d)


cdef inline LG smooth_l1_loss_lg(real prec, double x, double y, double beta) noexcept nogil:
    cdef double d = x - y
    cdef double a = fabs(d)
    # beta == 0 never takes the quadratic branch; the max() keeps the unused
    # arm of the select free of a division by zero.
    cdef bint quadratic = a < beta
    cdef double inv_beta = 1.0 / max(beta, 1e-300)
    return LG(pick(quadratic, 0.5 * d * d * inv_beta, a - 0.5 * beta),
              pick(quadratic, d * inv_beta, _sign(d)))


cdef inline double smooth_l1_loss_h(real prec, double x, double y, double beta) noexcept nogil:
    cdef double d = x - y
    # [|d| < beta] / beta as a product (the reciprocal is finite): a select with the
    # constant 0 arm, beside the gradient's select on the same compare, turned the
    # baseline level's loop into branches (7.8 ns per element, 6x the gradient).
    return pick(d == d, <double>(fabs(d) < beta) * (1.0 / max(beta, 1e-300)), d)


cdef inline LG poisson_nll_loss_lg(real prec, double x, double y, double log_input, double full,
                                   double eps) noexcept nogil:
    # Branches only on the loop-invariant flags (GCC unswitches the loop on
    # them); the rest is vector math and selects, so every version vectorises.
    cdef LG r
    cdef double e, st
    if log_input != 0.0:
        e = exp(x)
        r = LG(e - y * x, e - y)
    else:
        r = LG(x - y * log_(prec, x + eps), 1.0 - y / (x + eps))
    if full != 0.0:
        # Stirling's approximation of log(y!), as PyTorch adds it (only where y > 1).
        st = y * log_(prec, y) - y + 0.5 * log_(prec, 2.0 * M_PI * y)
        r.loss = where(y > 1.0, r.loss + st, r.loss)
    return r


cdef inline double poisson_nll_loss_h(real prec, double x, double y, double log_input,
                                      double full, double eps) noexcept nogil:
    # Stirling's term (full) does not depend on x.
    cdef double u
    if log_input != 0.0:
        return exp(x)
    u = x + eps
    return y / (u * u)


cdef inline LG log_cosh_loss_lg(real prec, double x, double y) noexcept nogil:
    # One expm1 gives both, without overflow or cancellation (see _vmath.h).
    cdef fl_lc r = log_cosh_tanh_(prec, x - y)
    return LG(r.log_cosh, r.tanh)


cdef inline double log_cosh_loss_h(real prec, double x, double y) noexcept nogil:
    # From the expm1 that log_cosh_loss_lg computes (see _vmath.h).
    return sech2(x - y)


cdef inline LG quantile_loss_lg(real prec, double x, double y, double quantile) noexcept nogil:
    cdef double d = y - x
    # Subgradient 0 at d = 0: it lies in [-q, 1 - q] for every q.
    return LG(where(d > 0, quantile * d, (quantile - 1.0) * d),
              where(d > 0, -quantile, where(d < 0, 1.0 - quantile, d * 0.0)))


cdef inline double quantile_loss_hk(double quantile) noexcept nogil:
    return 0.0


cdef inline real quantile_loss_hs(real x, real y, real s) noexcept nogil:
    return pick_r(y - x == y - x, s, y - x)


cdef inline LG l1_penalty_lg(real prec, double w, double alpha) noexcept nogil:
    return LG(alpha * fabs(w), alpha * _sign(w))


cdef inline double l1_penalty_hk(double alpha) noexcept nogil:
    return 0.0


cdef inline real l1_penalty_hs(real w, real s) noexcept nogil:
    return pick_r(w == w, s, w)


cdef inline LG l2_penalty_lg(real prec, double w, double alpha) noexcept nogil:
    return LG(0.5 * alpha * w * w, alpha * w)


cdef inline double l2_penalty_hk(double alpha) noexcept nogil:
    return alpha


cdef inline real l2_penalty_hs(real w, real s) noexcept nogil:
    return pick_r(w == w, s, w)


cdef inline LG elastic_net_penalty_lg(real prec, double w, double alpha, double l1_ratio) noexcept nogil:
    return LG(alpha * (l1_ratio * fabs(w) + 0.5 * (1.0 - l1_ratio) * w * w),
              alpha * (l1_ratio * _sign(w) + (1.0 - l1_ratio) * w))


cdef inline double elastic_net_penalty_hk(double alpha, double l1_ratio) noexcept nogil:
    return alpha * (1.0 - l1_ratio)


cdef inline real elastic_net_penalty_hs(real w, real s) noexcept nogil:
    return pick_r(w == w, s, w)


# ---- classification ----
# Per-class (last-axis) vector parameters come first after y, as doubles
# (the kernel passes their value for the element's column, or their fill).

cdef inline LG binary_cross_entropy_lg(real prec, double x, double y, double weight) noexcept nogil:
    # PyTorch: logs clamped at -100; gradient (x - y) / max(x (1 - x), EPS) with
    # EPS = float32(1e-12), exactly as aten computes it.
    cdef double lx = max(log_(prec, x), -100.0)
    cdef double l1x = max(log1p_(prec, -x), -100.0)
    return LG(-weight * (y * lx + (1.0 - y) * l1x),
              weight * (x - y) / max((1.0 - x) * x, 9.999999960041972e-13))


cdef inline double binary_cross_entropy_h(real prec, double x, double y, double weight) noexcept nogil:
    # The derivative of the gradient above: w (x^2 - 2 x y + y) / (x (1 - x))^2,
    # and w / EPS where PyTorch's clamp of the denominator holds.
    cdef double v = (1.0 - x) * x
    return where(v > 9.999999960041972e-13, weight * (x * x - 2.0 * x * y + y) / (v * v),
                 weight / 9.999999960041972e-13)


cdef inline double _pow01(double q, double a) noexcept nogil:
    # q^a for q in [0, 1] (or NaN) and any a, as exp(a log q): vectorisable where
    # libm's pow is an opaque call. 0^a = 0 for a > 0, 1 for a = 0 (as pow), inf
    # for a < 0; the caller only uses the a < 0 value where it is multiplied by 0.
    return where(q > 0, exp(a * log(q)),
                 where(q == 0, where(a > 0, 0.0, where(a == 0, 1.0, INFINITY)), q))


cdef struct _Focal:
    double sp      # p = sigmoid(x)
    double sn      # 1 - p, as _sigmoid_neg
    double ce      # softplus(x) - y x
    double q       # 1 - p_t
    double a       # the alpha weight of the element
    double qg      # q^gamma


cdef inline _Focal _focal_parts(double x, double y, double alpha, double gamma) noexcept nogil:
    # What the focal loss's value, gradient and Hessian share (computed once when
    # the kernel inlines both _lg and _h).
    cdef double e = exp(-fabs(x))
    cdef double r = 1.0 / (1.0 + e)
    cdef _Focal f
    f.sn = where(x >= 0, e * r, r)
    f.sp = where(x >= 0, r, e * r)
    # ce enters the gradient too (ce dq below): float64 log1p for any data.
    f.ce = max(x, 0.0) - x * y + log1p(e)
    f.q = f.sp * (1.0 - y) + f.sn * y     # no cancellation
    f.a = where(alpha >= 0, alpha * y + (1.0 - alpha) * (1.0 - y), 1.0)
    # gamma is loop-invariant: GCC unswitches the loop on this test, and the
    # default gamma = 2 then costs one multiply instead of an exp and a log.
    f.qg = f.q * f.q if gamma == 2.0 else _pow01(f.q, gamma)
    return f


cdef inline LG sigmoid_focal_loss_lg(real prec, double x, double y, double alpha, double gamma) noexcept nogil:
    cdef _Focal f = _focal_parts(x, y, alpha, gamma)
    cdef double qg1 = f.q if gamma == 2.0 else _pow01(f.q, gamma - 1.0)
    # d q / dx = p (1 - p) (1 - 2y); gamma q^(gamma-1) dq is 0 where q = 0 (its limit).
    cdef double dq = where((f.q > 0) & (gamma != 0), gamma * qg1 * f.sp * f.sn * (1.0 - 2.0 * y), 0.0)
    return LG(f.a * f.ce * f.qg, f.a * ((f.sp - y) * f.qg + f.ce * dq))


cdef inline double sigmoid_focal_loss_h(real prec, double x, double y, double alpha,
                                        double gamma) noexcept nogil:
    # l = a ce q^gamma. With r = q'/q = p (1 - p)(1 - 2y) / q (0 where q = 0) and
    # q''/q = r (1 - 2p): l'' = a q^gamma (p (1 - p) + 2 gamma (p - y) r
    # + gamma ce r ((gamma - 1) r + 1 - 2p)); no negative power of q.
    cdef _Focal f = _focal_parts(x, y, alpha, gamma)
    cdef double r = where(f.q > 0, f.sp * f.sn * (1.0 - 2.0 * y) / f.q, 0.0)
    return f.a * f.qg * (f.sp * f.sn + 2.0 * gamma * (f.sp - y) * r
                         + gamma * f.ce * r * ((gamma - 1.0) * r + (1.0 - 2.0 * f.sp)))


cdef inline LG soft_margin_loss_lg(real prec, double x, double y) noexcept nogil:
    cdef double z = y * x
    cdef double e = exp(-fabs(z))
    return LG(_softplus_neg(prec, z, e), -y * _sigmoid_neg(z, e))


cdef inline double soft_margin_loss_h(real prec, double x, double y) noexcept nogil:
    cdef double z = y * x
    cdef double e = exp(-fabs(z))
    cdef double r = 1.0 / (1.0 + e)
    return y * y * (e * r * r)


cdef inline LG soft_margin_loss_lg32(float x, float y) noexcept nogil:
    # float32 lanes (_vmathf.h); y x is exact for y = +-1 (the elements that come here).
    cdef fl_sig32 s = sigmoid_parts32(y * x)
    cdef double z = y * x
    return LG(max(-z, 0.0) + s.l1p, -(<double>y) * s.sn)


cdef inline double soft_margin_loss_h32(float x, float y) noexcept nogil:
    # y = +-1 here (_lanes32): y^2 = 1.
    cdef fl_sig32 s = sigmoid_parts32(y * x)
    return s.sp * s.sn


cdef inline bint soft_margin_loss_lanes32(float x, float y) noexcept nogil:
    # The gradient is one product for any target, but z = y x is only exact in
    # float32 for y = +-1; other targets (not -1 / 1 labels) take the float64 math.
    return (y == 1.0) | (y == -1.0)


cdef inline LG hinge_embedding_loss_lg(real prec, double x, double y, double margin) noexcept nogil:
    cdef double d = margin - x
    cdef double not_pos = <double>(y != 1.0)
    cdef double not_neg = <double>(y != -1.0)
    return LG(where(not_neg != 0, x, 0.0) + where(not_pos != 0, max(d, 0.0), 0.0),
              pick(x == x, not_neg - not_pos * <double>(d >= 0), x))


cdef inline double hinge_embedding_loss_hk(double margin) noexcept nogil:
    return 0.0


cdef inline real hinge_embedding_loss_hs(real x, real y, real s) noexcept nogil:
    return pick_r(x == x, s, x)


cdef inline LG kl_div_lg(real prec, double x, double y, double log_target) noexcept nogil:
    cdef double e
    # A zero target probability contributes 0, even where x = -inf. NaN in x
    # propagates to the loss and to the derivative (which does not depend on x).
    cdef double zero = where(x == x, 0.0, x)
    if log_target != 0.0:
        e = exp(y)
        return LG(where(e == 0, zero, e * (y - x)), where(x == x, -e, x))
    return LG(where(y == 0, zero, y * log_(prec, y) - y * x), where(x == x, -y, x))


cdef inline double kl_div_hk(double log_target) noexcept nogil:
    # Linear in x.
    return 0.0


cdef inline real kl_div_hs(real x, real y, real s) noexcept nogil:
    return pick_r(x == x, s, x)
