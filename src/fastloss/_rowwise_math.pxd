# cython: language_level=3, cdivision=True
"""The math of each row-wise loss: one inline function per loss and target kind.

``<name>_row(x, cs, C, target, <class vectors>, g, gs, kc, <params>)`` computes
the loss of one row ``x[0], x[cs], ..., x[(C-1)*cs]`` (any column stride) and,
when ``g`` is not NULL, writes ``gs * d loss / d x`` into the contiguous row
``g`` (which may be ``x`` itself: every element is read before it is written).
``target`` is the class index (already checked to lie in [0, C)) or a pointer
to the row's C target values. Losses with a Hessian also have ``<kernel>_row_h``,
the same with ``h`` after ``g`` (both set, neither overlapping ``x``): it also
writes ``gs`` times the diagonal of the row's Hessian into ``h``. ``kc`` holds per-call constants computed once by
``<name>_consts`` (sums over the class vectors). Rows are independent, so these
run inside ``prange`` and return a struct (no shared out-pointers).

Numerics: logsumexp with the row maximum subtracted; the exponentials are
stored in ``g`` during the sum pass and rescaled in place (one exp per logit);
sums of positive terms (m - z_j) instead of differences of large numbers; a
zero coefficient times an infinite log-probability contributes 0.
"""

from libc.math cimport pow, fabs, INFINITY
from libc.stdint cimport int64_t, uint64_t

# The vectorisable math library (not the pointwise losses' math: a change to
# those does not rebuild the row-wise kernels).
from fastloss._math cimport (exp, log, log1p, expdiff32, where, real, LG, lanes_mode, lg_select,
                             F32_LANES)
from fastloss._logistic_math cimport (binary_cross_entropy_with_logits_lg,
                                      binary_cross_entropy_with_logits_h,
                                      binary_cross_entropy_with_logits_lg32,
                                      binary_cross_entropy_with_logits_lanes32)


cdef struct RowR:
    double loss
    double correct   # 1.0 if the row's first maximal score is its target class


cdef struct Consts:
    double a
    double b


cdef inline Consts _no_consts() noexcept nogil:
    return Consts(0.0, 0.0)


# ---- helpers ----

# Row reductions run in 8 float64 lanes (element j goes to lane j % 8; the lanes
# are combined in a fixed tree). Without -ffast-math a single accumulator is a
# serial chain that the compiler may not reorder, so the loop (and every exp in
# it) stays scalar; independent lanes vectorise. The order depends on C only.
# (The exp sums of float32 rows take 16 lanes, see _exp_sums.)


cdef inline double _tree8(const double* a) noexcept nogil:
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))


cdef extern from "_rowreduce.h":
    double row_max_f32 "fl_row_max_f32"(const float* x, Py_ssize_t cs, Py_ssize_t n) noexcept nogil
    double row_max_f64 "fl_row_max_f64"(const double* x, Py_ssize_t cs, Py_ssize_t n) noexcept nogil
    Py_ssize_t count_eq_f32 "fl_count_eq_f32"(const float* x, Py_ssize_t cs, Py_ssize_t n,
                                              double m) noexcept nogil
    Py_ssize_t count_eq_f64 "fl_count_eq_f64"(const double* x, Py_ssize_t cs, Py_ssize_t n,
                                              double m) noexcept nogil
    void tile8_max_f32 "fl_tile8_max_f32"(const float* t, Py_ssize_t C, double* m) noexcept nogil
    void tile8_max_f64 "fl_tile8_max_f64"(const double* t, Py_ssize_t C, double* m) noexcept nogil
    void tile8_top1_f32 "fl_tile8_top1_f32"(const float* t, Py_ssize_t C, const double* m,
                                            const Py_ssize_t* y, double* top1) noexcept nogil
    void tile8_top1_f64 "fl_tile8_top1_f64"(const double* t, Py_ssize_t C, const double* m,
                                            const Py_ssize_t* y, double* top1) noexcept nogil


cdef extern from "_tile8.h":
    void tile8_load_f32 "fl_tile8_load_f32"(const float* x, Py_ssize_t rs, Py_ssize_t C,
                                            float* t) noexcept nogil
    void tile8_store_f32 "fl_tile8_store_f32"(const float* t, Py_ssize_t C, float* g,
                                              Py_ssize_t grs) noexcept nogil
    void tile8_load_f64 "fl_tile8_load_f64"(const double* x, Py_ssize_t rs, Py_ssize_t C,
                                            double* t) noexcept nogil
    void tile8_store_f64 "fl_tile8_store_f64"(const double* t, Py_ssize_t C, double* g,
                                              Py_ssize_t grs) noexcept nogil


cdef inline double _row_max(const real* x, Py_ssize_t cs, Py_ssize_t C) noexcept nogil:
    # NaN entries are skipped here; they reach the loss through exp(x_j - m).
    if real is float:
        return row_max_f32(x, cs, C)
    else:
        return row_max_f64(x, cs, C)


cdef inline double _sexp(real xj, double m, bint low) noexcept nogil:
    # exp(x_j - m) with m the row maximum; fl_expdiff32 (float32 result, all in
    # float32 lanes with FMA) for float32 data when low is set. Callers set low only
    # where no gradient entry is a difference p_j - c_j that may cancel (hard
    # class targets without smoothing): there each entry keeps the relative
    # accuracy of its exp. They pass it as a constant, so each inlined copy
    # has one exp.
    if real is float and low:
        return expdiff32(xj, <float>m)   # m is one of the row's float32 values
    else:
        return exp(xj - m)


cdef inline double _exp_sums(const real* x, Py_ssize_t cs, Py_ssize_t C, double m,
                             Py_ssize_t y, real* g, double* so, bint low) noexcept nogil:
    # Returns S = sum_j exp(x_j - m) and sets *so to the same sum without j = y
    # (1 - p_y = So / S without cancellation); stores each exp in g if not NULL.
    # L lanes: 16 for float32 (fl_expdiff32 then fills a 512-bit vector of
    # floats), 8 for float64; element j goes to lane j % L, whose terms are
    # summed in block order except the target's block, added last.
    cdef Py_ssize_t L = 16 if real is float else 8
    cdef double sl[16]
    cdef double ol[16]
    cdef double e
    cdef Py_ssize_t j, k, b, CL = C - C % L
    for k in range(L):
        sl[k] = 0.0
        ol[k] = 0.0
    # The full blocks without the target's (g != NULL is loop-invariant: GCC
    # unswitches these loops on it), then the target's block: only that one
    # needs the masked sum So (So = the other blocks' sum + its masked terms).
    cdef Py_ssize_t yb = y // L
    for b in range(C // L):
        if b == yb:
            continue
        j = b * L
        for k in range(L):
            e = _sexp(x[(j + k) * cs], m, low)
            if g != NULL:
                g[j + k] = <real>e
            sl[k] = sl[k] + e
    for k in range(L):
        ol[k] = sl[k]
    if yb < C // L:
        j = yb * L
        for k in range(L):
            e = _sexp(x[(j + k) * cs], m, low)
            if g != NULL:
                g[j + k] = <real>e
            sl[k] = sl[k] + e
            ol[k] = ol[k] + where(j + k != y, e, 0.0)
    if C < L:
        for j in range(C):
            e = _sexp(x[j * cs], m, low)
            if g != NULL:
                g[j] = <real>e
            sl[j] = sl[j] + e
            ol[j] = ol[j] + where(j != y, e, 0.0)
    elif CL < C:
        # The tail as one full block ending at C, its first elements masked
        # out: no scalar exps. Those were already done, and where g aliases
        # x they now hold exps, so their g entry is written back unchanged.
        for k in range(L):
            j = C - L + k
            e = _sexp(x[j * cs], m, low)
            if g != NULL:
                g[j] = <real>where(j >= CL, e, <double>g[j])
            sl[k] = sl[k] + where(j >= CL, e, 0.0)
            ol[k] = ol[k] + where((j >= CL) & (j != y), e, 0.0)
    if real is float:
        so[0] = _tree8(ol) + _tree8(ol + 8)
        return _tree8(sl) + _tree8(sl + 8)
    else:
        so[0] = _tree8(ol)
        return _tree8(sl)


cdef inline double _lin_sum(const real* x, Py_ssize_t cs, Py_ssize_t C, double m,
                            const double* v) noexcept nogil:
    # sum_j v_j (m - x_j), a zero v_j contributing 0 even where x_j = -inf.
    cdef double ll[8]
    cdef Py_ssize_t j, k, C8 = C - C % 8
    for k in range(8):
        ll[k] = 0.0
    for j in range(0, C8, 8):
        for k in range(8):
            ll[k] = ll[k] + where(v[j + k] != 0, v[j + k] * (m - x[(j + k) * cs]), 0.0)
    for j in range(C8, C):
        ll[j - C8] = ll[j - C8] + where(v[j] != 0, v[j] * (m - x[j * cs]), 0.0)
    return _tree8(ll)


cdef inline double _is_top1(const real* x, Py_ssize_t cs, Py_ssize_t y, double m) noexcept nogil:
    # 1 if x[y] is the row maximum and no earlier entry equals it (argmax's tie rule).
    if x[y * cs] != m:
        return 0.0
    if real is float:
        return <double>(count_eq_f32(x, cs, y, m) == 0)
    else:
        return <double>(count_eq_f64(x, cs, y, m) == 0)


cdef inline double _neg_log_p(double logS, double m, double zy, double S,
                              double So) noexcept nogil:
    # -log p_y = log(S) - (z_y - m) loses L's digits where p_y ~ 1 (S ~ 1: log S of
    # a rounded S is ~1e-16 off, a relative 1e-11 of a loss of 1e-5, found by the
    # hypothesis battery). Where p_y >= 1/2 (So <= S / 2): log1p(So / e_y) with
    # e_y = S - So (no cancellation there), exact to rounding.
    return where(So <= 0.5 * S, log1p(So / (S - So)), logS + (m - zy))


cdef inline void _softmax_end(double a, double b, double V, double cst, double gs,
                              double m, double zy, double S, double So, double lin,
                              const double* v, Py_ssize_t y, bint grad,
                              double* loss, double* r, double* gy, bint one_row) noexcept nogil:
    # The end of a softmax row from its sums, for the row path and the 8-row tile
    # alike (one definition of the formulas; the two differ only in how they sum):
    # the loss; if grad, r, the factor of every stored exp e_j in the gradient
    # (g_j = r e_j - gs b v_j), and gy, the target's entry a (p_y - 1) +
    # b (V p_y - v_y), with p_y - 1 = -So / S: in double and without the
    # cancellation of p_y - 1 where p_y ~ 1.
    cdef double logS, l
    if one_row and a != 0 and b == 0:
        # The row path's scalar end computes only the side of _neg_log_p's choice it
        # takes (the same bits; the tile's vector lanes need both).
        if So <= 0.5 * S:
            l = a * log1p(So / (S - So))
        else:
            l = a * (log(S) + (m - zy))
    else:
        logS = log(S)
        l = where(a != 0, a * _neg_log_p(logS, m, zy, S, So), 0.0 * logS)
        if b != 0:
            l = l + b * (V * logS + lin)
    loss[0] = l + cst
    if grad:
        r[0] = gs * (a + b * V) / S
        if b != 0:
            gy[0] = -gs * a * (So / S) + gs * b * (V * (exp(zy - m) / S) - v[y])
        else:
            gy[0] = -gs * a * (So / S)


cdef inline double _rest_of_top(const real* e, Py_ssize_t stride, Py_ssize_t C,
                                double S) noexcept nogil:
    # 1 - p_j = 1 - e_j / S cancels only where p_j ~ 1: at the row's maximum (e_j = 1)
    # when S < 1.5 (no other entry can then round to 1). There 1 - p_j is this sum
    # of the other entries over S (0 where S >= 1.5: unused).
    cdef double rest = 0.0
    cdef Py_ssize_t j
    if S < 1.5:
        for j in range(C):
            rest = rest + where(e[j * stride] == 1.0, 0.0, <double>e[j * stride])
    return rest


cdef inline double _one_minus_p(double e, double inv_s, double rest, bint saturated) noexcept nogil:
    # 1 - p_j of the stored exp e_j: the other classes' sum over S (_rest_of_top) at the
    # row's maximum (e_j = 1) of a row with S < 1.5 (saturated), else 1 - e_j / S. Callers
    # pass saturated False as a constant for rows with S >= 1.5: no select then.
    return where(saturated & (e == 1.0), rest * inv_s, 1.0 - e * inv_s)


cdef inline void _softmax_grad_hess_loop(real* g, real* h, Py_ssize_t C, double r, double S,
                                         const double* v, const real* t, double gs, double a,
                                         double b, bint near_one) noexcept nogil:
    cdef Py_ssize_t j
    cdef double ej, inv_s = 1.0 / S, gb = gs * b
    cdef double rest = _rest_of_top(g, 1, C, S) if near_one else 0.0
    for j in range(C):
        ej = g[j]
        h[j] = <real>(r * ej * _one_minus_p(ej, inv_s, rest, near_one))
        if v == NULL:
            g[j] = <real>(r * ej)
        elif t == NULL:
            g[j] = <real>(r * ej - gb * v[j])
        else:
            g[j] = <real>(r * ej - gs * v[j] * (a * t[j] + b))


cdef inline void _softmax_grad_hess(real* g, real* h, Py_ssize_t C, double r, double S,
                                    const double* v, const real* t, double gs, double a,
                                    double b) noexcept nogil:
    # From the stored exponentials e_j = exp(x_j - m) in g, in one pass (a pass of
    # its own for h cost float32 value+grad+Hessian 1.3-1.5x value+grad at C >= 100):
    # h_j = r e_j (1 - e_j / S), r the gradient's factor of e_j, so gs (sum of the
    # coefficients) p_j (1 - p_j); and g_j = r e_j - gs v_j (a t_j + b), or
    # r e_j - gs b v_j without t, or r e_j without v, with the bits of the callers'
    # gradient loops. v and t are loop-invariant: GCC unswitches on them.
    # 1 - p_j can cancel only where S < 1.5 (_rest_of_top): the usual row takes a
    # loop without that select, with the same bits (float32 (66, 1000), avx2:
    # value+grad+Hessian 1.33 -> 1.14x value+grad).
    if S < 1.5:
        _softmax_grad_hess_loop(g, h, C, r, S, v, t, gs, a, b, True)
    else:
        _softmax_grad_hess_loop(g, h, C, r, S, v, t, gs, a, b, False)


cdef inline RowR _softmax_class(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                double a, double b, const double* v, double V, double cst,
                                real* g, real* h, double gs) noexcept nogil:
    """Row loss sum_j c_j (logsumexp(x) - x_j) + cst with c = a onehot(y) + b v,
    V = sum_j v_j; gradient (a + b V) softmax(x) - c; Hessian diagonal (if h is
    set, with g) (a + b V) p_j (1 - p_j)."""
    cdef double m = _row_max(x, cs, C)
    cdef double zy = x[y * cs]
    cdef double correct = _is_top1(x, cs, y, m)
    cdef double S, So, lin = 0.0, loss, r, gy, ey
    cdef Py_ssize_t j
    if b != 0:  # before _exp_sums, which may overwrite x (g may alias it)
        lin = _lin_sum(x, cs, C, m, v)
    if b == 0:
        S = _exp_sums(x, cs, C, m, y, g, &So, True)
    else:
        S = _exp_sums(x, cs, C, m, y, g, &So, False)
    _softmax_end(a, b, V, cst, gs, m, zy, S, So, lin, v, y, g != NULL, &loss, &r, &gy, True)
    if h != NULL:
        ey = g[y]
        _softmax_grad_hess(g, h, C, r, S, v if b != 0 else NULL, NULL, gs, 0.0, b)
        h[y] = <real>(r * ey * (So / S))   # 1 - p_y = So / S, without cancellation
    elif g != NULL:
        if b != 0:
            for j in range(C):
                g[j] = <real>(r * g[j] - gs * b * v[j])
        else:
            for j in range(C):
                g[j] = <real>(r * g[j])
    if g != NULL:
        g[y] = <real>gy
    return RowR(loss, correct)


# ---- 8 rows at once (few classes) ----
# With few classes the work of a row is a short dependent chain (max, a few exps,
# a sum, a log) that leaves the vector units idle. For contiguous rows of at most
# ROWS8_MAX_C classes, the kernels hand over 8 rows at a time: they are copied into
# a tile whose lanes are the rows, and every step is then one vector operation for
# 8 rows (one vector log instead of 8 scalar ones). The sums are the tile's own;
# the loss and gradient formulas are the row path's (_softmax_end, _focal_end).


cdef enum:
    # Rows of an (N, C) input take the tiles up to ROWS8_MAX_C classes (beyond, the row
    # path's vector loops over the classes are as fast). A batched input's rows are
    # positions d (class axis strided, positions contiguous): there the tile's loads
    # are the contiguous ones and the row path's strided, so tiles go to ROWS8_TILE_C
    # (measured, (4, 150, 128, 128) float32, 1 thread: a 64-class limit left 150 classes
    # to the row path at 68 ms, slower than moving the data to (N*d, C), 50 ms; tiles: 45).
    ROWS8_MAX_C = 16
    ROWS8_TILE_C = 256


cdef inline Py_ssize_t rows8_f32_c() noexcept nogil:
    # float32 rows of class targets take the tiles up to this many classes: C < 112
    # where float32 math has FMA lanes, C < 64 at the x86-64 baseline (whose float32
    # results differ by rounding anyway: F32_LANES). The tiles load through register
    # transposes (_tile8.h) and take two columns per 16-lane exp; the row path's
    # 16-lane loops pay for a masked tail block where C is not a multiple of 16.
    # cross_entropy float32 `out=`, 1 thread, 10^5 logits, ns per logit, row path ->
    # tiles (avx512, avx2, baseline): C = 49 1.90-2.06 -> 1.03, 2.33-2.51 -> 1.54,
    # 6.07 -> 4.84; C = 63 -, -, 4.70 -> 4.77; C = 64 1.13 -> 0.89, 1.48 -> 1.35,
    # 4.62 -> 5.01; C = 100 1.18 -> 0.83, 1.59 -> 1.30, 4.84 -> 4.93; C = 111 1.13 ->
    # 0.90, 1.52 -> 1.38; C = 112 0.84 -> 0.82, 1.21 -> 1.28; C = 128 0.80 -> 0.81,
    # 1.18 -> 1.26, 4.21 -> 5.05. float64 rows keep ROWS8_MAX_C (tiles of 8 doubles
    # gain nothing from C = 24).
    return 111 if F32_LANES else 63


cdef inline bint labels_ok8(const int64_t* labels, int64_t ignore_index,
                            Py_ssize_t C) noexcept nogil:
    # True if none of the 8 rows is ignored or out of range (those take the row path).
    cdef Py_ssize_t k
    for k in range(8):
        if labels[k] == ignore_index or labels[k] < 0 or labels[k] >= C:
            return False
    return True


cdef inline void _rows8_exps(const real* x, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t C,
                             const Py_ssize_t* yr, real* t,
                             double* m, double* zy, double* S, double* So, double* correct,
                             double b, const double* v, double* lin, bint low) noexcept nogil:
    # Rows k < 8 (x_kj = x[k*rs + j*cs], any strides) into the tile t (t[j*8 + k] =
    # x_kj; float32 rows of class stride 1 through the transposes of _tile8.h), then
    # per row: the maximum m, the target logit zy, correct (the target is the first
    # maximal entry, argmax's tie rule), lin = sum_j v_j (m - x_kj) if b != 0, and
    # t_kj = exp(x_kj - m) with their sum S and the sum So without the target.
    cdef Py_ssize_t j, k
    cdef double e
    for k in range(8):
        m[k] = -INFINITY
        S[k] = 0.0
        So[k] = 0.0
        lin[k] = 0.0
    if rs == 1:  # the rows are contiguous positions (a batched layout): 8-wide loads
        for j in range(C):
            for k in range(8):
                t[j * 8 + k] = x[j * cs + k]
    elif cs == 1 and rs >= C:
        if real is float:
            tile8_load_f32(x, rs, C, t)
        else:
            tile8_load_f64(x, rs, C, t)
    else:
        for k in range(8):
            for j in range(C):
                t[j * 8 + k] = x[k * rs + j * cs]
    for k in range(8):
        zy[k] = t[yr[k] * 8 + k]
    if real is float:
        tile8_max_f32(t, C, m)
        tile8_top1_f32(t, C, m, yr, correct)
    else:
        tile8_max_f64(t, C, m)
        tile8_top1_f64(t, C, m, yr, correct)
    if b != 0:
        for j in range(C):
            for k in range(8):
                lin[k] = lin[k] + where(v[j] != 0, v[j] * (m[k] - t[j * 8 + k]), 0.0)
    cdef double ee[16]
    cdef double m2[16]
    cdef Py_ssize_t q
    if real is float:
        # Two columns at a time: their 16 float32 exps fill a 512-bit vector (8
        # lanes of one column use half of it); then each row's sums take the two in
        # column order, as below (the same bits).
        for q in range(16):
            m2[q] = m[q & 7]
        for j in range(0, C - 1, 2):
            for q in range(16):
                ee[q] = _sexp(t[j * 8 + q], m2[q], low)
                t[j * 8 + q] = <real>ee[q]
            for k in range(8):
                S[k] = (S[k] + ee[k]) + ee[8 + k]
                So[k] = ((So[k] + where(j != yr[k], ee[k], 0.0))
                         + where(j + 1 != yr[k], ee[8 + k], 0.0))
        j = C - C % 2
    else:
        j = 0
    for j in range(j, C):
        for k in range(8):
            e = _sexp(t[j * 8 + k], m[k], low)
            t[j * 8 + k] = <real>e   # as the row path stores it in g (exact where low)
            S[k] = S[k] + e
            So[k] = So[k] + where(j != yr[k], e, 0.0)


cdef inline void _rows8_store(const real* t, Py_ssize_t C, real* g, Py_ssize_t grs,
                              Py_ssize_t gcs) noexcept nogil:
    # The tile back into the 8 gradient rows, g_kj at k grs + j gcs: (8, C) rows
    # (gcs = 1), or, for a batched layout (grs = 1), 8 contiguous positions per class.
    cdef Py_ssize_t j, k
    if gcs == 1 and grs >= C:
        if real is float:
            tile8_store_f32(t, C, g, grs)
        else:
            tile8_store_f64(t, C, g, grs)
        return
    if gcs == 1:
        for k in range(8):
            for j in range(C):
                g[k * grs + j] = t[j * 8 + k]
    else:
        for j in range(C):
            for k in range(8):
                g[k * grs + j * gcs] = t[j * 8 + k]


cdef inline void rows8_scatter(const real* t, Py_ssize_t C, real* g, Py_ssize_t grs,
                               Py_ssize_t gcs) noexcept nogil:
    # 8 contiguous rows of C (a tile's output) to rows k of g at k grs + j gcs.
    cdef Py_ssize_t j, k
    for j in range(C):
        for k in range(8):
            g[k * grs + j * gcs] = t[k * C + j]


cdef inline void _softmax_class_rows8(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                      Py_ssize_t C, const int64_t* labels,
                                      const double* a, double b, const double* v, double V,
                                      double cst, real* g, real* h, Py_ssize_t grs, Py_ssize_t gcs, const double* gs,
                                      double* loss, double* correct) noexcept nogil:
    # _softmax_class for rows k < 8 of x (row stride rs; a and gs per row); writes
    # loss[k], correct[k] and, if g is not NULL, the gradient rows (g may be x:
    # x is read into the tile before g is written), and if h is set too, the
    # Hessian's diagonal rows (h not overlapping x).
    cdef real t[8 * ROWS8_TILE_C]   # the data's type: float32 rows fill 8 lanes of a vector
    cdef real th[8 * ROWS8_TILE_C]
    cdef double inv_s[8]
    cdef double rest[8]
    cdef double e
    cdef double m[8]
    cdef double S[8]
    cdef double So[8]
    cdef double lin[8]
    cdef double zy[8]
    cdef double rr[8]
    cdef double gy[8]
    cdef Py_ssize_t yr[8]
    cdef Py_ssize_t j, k
    cdef bint near_one
    for k in range(8):
        yr[k] = <Py_ssize_t>labels[k]
    if b == 0:
        _rows8_exps(x, rs, cs, C, yr, t, m, zy, S, So, correct, b, v, lin, True)
    else:
        _rows8_exps(x, rs, cs, C, yr, t, m, zy, S, So, correct, b, v, lin, False)
    for k in range(8):
        _softmax_end(a[k], b, V, cst, gs[k], m[k], zy[k], S[k], So[k], lin[k], v, yr[k],
                     g != NULL, &loss[k], &rr[k], &gy[k], False)
    if g == NULL:
        return
    if h != NULL:  # as _softmax_grad_hess, on the tile (its select only if a row needs it)
        near_one = False
        for k in range(8):
            inv_s[k] = 1.0 / S[k]
            rest[k] = _rest_of_top(t + k, 8, C, S[k])
            near_one = near_one | (S[k] < 1.5)
        if near_one:
            for j in range(C):
                for k in range(8):
                    e = t[j * 8 + k]
                    th[j * 8 + k] = <real>(rr[k] * e * _one_minus_p(e, inv_s[k], rest[k], S[k] < 1.5))
        else:
            for j in range(C):
                for k in range(8):
                    e = t[j * 8 + k]
                    th[j * 8 + k] = <real>(rr[k] * e * _one_minus_p(e, inv_s[k], rest[k], False))
        for k in range(8):
            th[yr[k] * 8 + k] = <real>(rr[k] * t[yr[k] * 8 + k] * (So[k] / S[k]))
        _rows8_store(th, C, h, C, 1)
    if b != 0:
        for j in range(C):
            for k in range(8):
                t[j * 8 + k] = <real>(rr[k] * t[j * 8 + k] - gs[k] * b * v[j])
    else:
        for j in range(C):
            for k in range(8):
                t[j * 8 + k] = <real>(rr[k] * t[j * 8 + k])
    for k in range(8):
        t[yr[k] * 8 + k] = <real>gy[k]
    _rows8_store(t, C, g, grs, gcs)


# ---- cross_entropy ----


cdef inline Consts cross_entropy_consts(Py_ssize_t C, const double* weight,
                                        double label_smoothing) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t j
    for j in range(C):
        s = s + weight[j]
    return Consts(s, 0.0)


cdef inline RowR cross_entropy_class_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                           const double* weight, real* g, real* h, double gs,
                                           Consts kc, double label_smoothing) noexcept nogil:
    # PyTorch: (1 - s) * w_y * nll + s / C * sum_j w_j * (-log p_j).
    return _softmax_class(x, cs, C, y, (1.0 - label_smoothing) * weight[y], label_smoothing / C,
                          weight, kc.a, 0.0, g, h, gs)


cdef inline RowR cross_entropy_class_row(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                         const double* weight, real* g, double gs, Consts kc,
                                         double label_smoothing) noexcept nogil:
    return cross_entropy_class_row_h(x, cs, C, y, weight, g, NULL, gs, kc, label_smoothing)


cdef inline void cross_entropy_class_rows8_h(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                             Py_ssize_t C, const int64_t* labels,
                                             const double* weight, real* g, real* h, Py_ssize_t grs, Py_ssize_t gcs,
                                             const double* gs, Consts kc, double label_smoothing,
                                             double* loss, double* correct) noexcept nogil:
    cdef double a[8]
    cdef Py_ssize_t k
    for k in range(8):
        a[k] = (1.0 - label_smoothing) * weight[labels[k]]
    _softmax_class_rows8(x, rs, cs, C, labels, a, label_smoothing / C, weight, kc.a, 0.0, g, h, grs, gcs,
                         gs, loss, correct)


cdef inline void cross_entropy_class_rows8(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                           Py_ssize_t C, const int64_t* labels,
                                           const double* weight, real* g, Py_ssize_t grs, Py_ssize_t gcs, const double* gs,
                                           Consts kc, double label_smoothing, double* loss,
                                           double* correct) noexcept nogil:
    cross_entropy_class_rows8_h(x, rs, cs, C, labels, weight, g, NULL, grs, gcs, gs, kc, label_smoothing,
                                loss, correct)


cdef inline void _prob_term(double z, double tj, double wj, double a, double b, double m,
                            real* g, Py_ssize_t j, double* s, double* lin,
                            double* ctot, double* below, double* n_max) noexcept nogil:
    # Element j of a probability-target row: c_j = w_j (a t_j + b) into ctot,
    # c_j (m - z_j) into lin (0 where c_j = 0), exp(z_j - m) into s (and g), and
    # into below too unless z_j is the maximum m, which counts 1 in n_max instead
    # (S - 1 = below + n_max - 1, without rounding S first).
    cdef double c = wj * (a * tj + b)
    cdef double e = exp(z - m)
    lin[0] = lin[0] + where(c != 0, c * (m - z), 0.0)
    ctot[0] = ctot[0] + c
    s[0] = s[0] + e
    below[0] = below[0] + where(z != m, e, 0.0)
    n_max[0] = n_max[0] + <double>(z == m)
    if g != NULL:
        g[j] = <real>e


cdef inline RowR cross_entropy_prob_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C, const real* t,
                                          const double* weight, real* g, real* h, double gs,
                                          Consts kc, double label_smoothing) noexcept nogil:
    # PyTorch: c_j = w_j ((1 - s) t_j + s / C); loss sum_j c_j (-log p_j).
    cdef double a = 1.0 - label_smoothing
    cdef double b = label_smoothing / C
    cdef double m = _row_max(x, cs, C)
    cdef double sl[8]
    cdef double ll[8]
    cdef double cl[8]
    cdef double bl[8]
    cdef double nl[8]
    cdef double S, lin, ctot, r, logS
    cdef Py_ssize_t j, k, C8 = C - C % 8
    for k in range(8):
        sl[k] = 0.0
        ll[k] = 0.0
        cl[k] = 0.0
        bl[k] = 0.0
        nl[k] = 0.0
    for j in range(0, C8, 8):
        for k in range(8):
            _prob_term(x[(j + k) * cs], t[j + k], weight[j + k], a, b, m, g, j + k,
                       &sl[k], &ll[k], &cl[k], &bl[k], &nl[k])
    for j in range(C8, C):
        _prob_term(x[j * cs], t[j], weight[j], a, b, m, g, j,
                   &sl[j - C8], &ll[j - C8], &cl[j - C8], &bl[j - C8], &nl[j - C8])
    S = _tree8(sl)
    lin = _tree8(ll)
    ctot = _tree8(cl)
    # log S = log1p(S - 1), S - 1 summed without the first maximum's exact 1: log of
    # a rounded S ~ 1 is ~1e-16 off, a large relative error of a small loss.
    logS = where(m - m == 0, log1p(_tree8(bl) + (_tree8(nl) - 1.0)), log(S))
    if g != NULL:
        r = gs * ctot / S
        if h != NULL:
            _softmax_grad_hess(g, h, C, r, S, weight, t, gs, a, b)
        else:
            for j in range(C):
                g[j] = <real>(r * g[j] - gs * weight[j] * (a * t[j] + b))
    return RowR(where(ctot != 0, ctot * logS, 0.0 * S) + lin, 0.0)


cdef inline RowR cross_entropy_prob_row(const real* x, Py_ssize_t cs, Py_ssize_t C, const real* t,
                                        const double* weight, real* g, double gs, Consts kc,
                                        double label_smoothing) noexcept nogil:
    return cross_entropy_prob_row_h(x, cs, C, t, weight, g, NULL, gs, kc, label_smoothing)


# ---- nll_loss ----


cdef inline Consts nll_loss_consts(Py_ssize_t C, const double* weight) noexcept nogil:
    return _no_consts()


cdef inline RowR nll_loss_row(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                              const double* weight, real* g, double gs, Consts kc) noexcept nogil:
    cdef double zy = x[y * cs]
    cdef double wy = weight[y]
    cdef Py_ssize_t j
    if g != NULL:
        for j in range(C):
            g[j] = 0
        g[y] = <real>where(zy == zy, -gs * wy, zy)  # NaN propagates
    return RowR(where(wy != 0, -wy * zy, where(zy == zy, 0.0, zy)), 0.0)


cdef inline RowR nll_loss_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                const double* weight, real* g, real* h, double gs,
                                Consts kc) noexcept nogil:
    # Linear in x: a zero Hessian.
    cdef Py_ssize_t j
    for j in range(C):
        h[j] = 0
    return nll_loss_row(x, cs, C, y, weight, g, gs, kc)


# ---- softmax_focal_loss ----


cdef inline Consts softmax_focal_loss_consts(Py_ssize_t C, const double* alpha,
                                             double gamma) noexcept nogil:
    return _no_consts()


cdef inline void _focal_end(double al, double gamma, double gs, double m, double zy,
                            double S, double So, bint grad, double* loss, double* r,
                            double* gy) noexcept nogil:
    # The end of a focal-loss row from its sums, for the row path and the 8-row tile
    # alike: l = alpha_y q^gamma L, L = -log p_y, q = 1 - p_y summed from the other
    # classes; if grad, dl/dx_c = K (p_c - [c = y]), K = alpha (q^g + g p L q^(g-1))
    # (the second term tends to 0 where q = 0): r = gs K / S is the factor of every
    # stored exp, gy = -gs K q the target's entry (= r e_y - gs K, without its
    # cancellation where p_y ~ 1).
    # L as cross_entropy's (_neg_log_p, so gamma = 0 gives its bits): exact where
    # p_y ~ 1, so the loss q^gamma L is right where it is ~1e-34 (was 1e-4 off).
    cdef double ey = exp(zy - m)
    cdef double L = _neg_log_p(log(S), m, zy, S, So)
    cdef double q = So / S
    cdef double qg = pow(q, gamma)
    cdef double K
    loss[0] = where(al != 0, al * qg * L, 0.0 * S)
    if grad:
        K = al * (qg + where((q > 0) & (gamma != 0), gamma * (ey / S) * L * pow(q, gamma - 1.0), 0.0))
        r[0] = gs * K / S
        gy[0] = -gs * K * q


cdef inline void _focal_hess(double al, double gamma, double gs, double m, double zy,
                             double S, double So, const real* e, Py_ssize_t stride,
                             Py_ssize_t C, Py_ssize_t y, real* h) noexcept nogil:
    # The Hessian's diagonal of l = al q^gamma L from the stored exps e_c (every
    # stride-th entry): with K = q^gamma + gamma p L
    # q^(gamma-1) (the gradient's factor, _focal_end) and
    # D = gamma p (q (L - 2) - (gamma - 1) p L),
    #   h_c = al (K p_c (1 - p_c) - q^gamma D rho_c^2), rho_c = p_c / q (c != y), rho_y = 1,
    # so no negative power of q (q^(gamma-2) p_c^2 = q^gamma rho_c^2); gamma = 0 gives
    # cross_entropy's al p_c (1 - p_c).
    cdef double L = _neg_log_p(log(S), m, zy, S, So)
    cdef double q = So / S
    cdef double p = exp(zy - m) / S   # not (S - So) / S: S rounds to 1 where p_y ~ 1e-17
    cdef double qg = pow(q, gamma)
    cdef double K = qg + where((q > 0) & (gamma != 0), gamma * p * L * pow(q, gamma - 1.0), 0.0)
    cdef double D = gamma * p * (q * (L - 2.0) - (gamma - 1.0) * p * L)
    cdef double A = gs * al
    cdef double inv_s = 1.0 / S
    cdef double inv_so = where(So > 0, 1.0 / So, 0.0)
    cdef double rest = _rest_of_top(e, stride, C, S)
    cdef double ec, pc, rho, one_minus
    cdef Py_ssize_t j
    for j in range(C):
        ec = e[j * stride]
        pc = ec * inv_s
        rho = ec * inv_so
        one_minus = _one_minus_p(ec, inv_s, rest, S < 1.5)
        h[j] = <real>(A * (K * pc * one_minus - qg * D * rho * rho))
    h[y] = <real>(A * (K * p * q - qg * D))


cdef inline RowR softmax_focal_loss_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                          const double* alpha, real* g, real* h, double gs,
                                          Consts kc, double gamma) noexcept nogil:
    cdef double m = _row_max(x, cs, C)
    cdef double zy = x[y * cs]
    cdef double correct = _is_top1(x, cs, y, m)
    cdef double S, So, loss, r, gy
    cdef Py_ssize_t j
    # Every gradient entry is K p_j or -K q, products of sums of positive
    # terms: nothing cancels, so the float32-precision exp is enough (low).
    S = _exp_sums(x, cs, C, m, y, g, &So, True)
    _focal_end(alpha[y], gamma, gs, m, zy, S, So, g != NULL, &loss, &r, &gy)
    if h != NULL:
        _focal_hess(alpha[y], gamma, gs, m, zy, S, So, g, 1, C, y, h)
    if g != NULL:
        for j in range(C):
            g[j] = <real>(r * g[j])
        g[y] = <real>gy
    return RowR(loss, correct)


cdef inline RowR softmax_focal_loss_row(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                        const double* alpha, real* g, double gs, Consts kc,
                                        double gamma) noexcept nogil:
    return softmax_focal_loss_row_h(x, cs, C, y, alpha, g, NULL, gs, kc, gamma)


cdef inline void softmax_focal_loss_rows8_h(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                            Py_ssize_t C, const int64_t* labels,
                                            const double* alpha, real* g, real* h, Py_ssize_t grs, Py_ssize_t gcs,
                                            const double* gs, Consts kc, double gamma,
                                            double* loss, double* correct) noexcept nogil:
    # softmax_focal_loss_row for 8 rows (see _rows8_exps); gamma = 0 gives the same
    # bits as cross_entropy_class_rows8, as the row functions do. h (with g): the
    # Hessian's diagonal rows, from the tile's exps (_focal_hess).
    cdef real t[8 * ROWS8_TILE_C]   # the data's type: float32 rows fill 8 lanes of a vector
    cdef double m[8]
    cdef double S[8]
    cdef double So[8]
    cdef double lin[8]
    cdef double zy[8]
    cdef double rr[8]
    cdef double gy[8]
    cdef Py_ssize_t yr[8]
    cdef Py_ssize_t j, k
    for k in range(8):
        yr[k] = <Py_ssize_t>labels[k]
    _rows8_exps(x, rs, cs, C, yr, t, m, zy, S, So, correct, 0.0, alpha, lin, True)
    for k in range(8):
        _focal_end(alpha[yr[k]], gamma, gs[k], m[k], zy[k], S[k], So[k], g != NULL,
                   &loss[k], &rr[k], &gy[k])
    if g == NULL:
        return
    if h != NULL:
        for k in range(8):
            _focal_hess(alpha[yr[k]], gamma, gs[k], m[k], zy[k], S[k], So[k], t + k, 8, C, yr[k],
                        h + k * C)
    for j in range(C):
        for k in range(8):
            t[j * 8 + k] = <real>(rr[k] * t[j * 8 + k])
    for k in range(8):
        t[yr[k] * 8 + k] = <real>gy[k]
    _rows8_store(t, C, g, grs, gcs)


cdef inline void softmax_focal_loss_rows8(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                          Py_ssize_t C, const int64_t* labels,
                                          const double* alpha, real* g, Py_ssize_t grs, Py_ssize_t gcs, const double* gs,
                                          Consts kc, double gamma, double* loss,
                                          double* correct) noexcept nogil:
    softmax_focal_loss_rows8_h(x, rs, cs, C, labels, alpha, g, NULL, grs, gcs, gs, kc, gamma, loss, correct)


# ---- cross_entropy_with_prior ----


cdef inline Consts cross_entropy_with_prior_consts(Py_ssize_t C, const double* prior,
                                                   double prior_weight) noexcept nogil:
    # a = sum pi, b = sum pi log pi (0 log 0 = 0): the KL's constant part.
    cdef double s = 0.0, h = 0.0
    cdef Py_ssize_t j
    for j in range(C):
        s = s + prior[j]
        h = h + where(prior[j] > 0, prior[j] * log(prior[j]), 0.0)
    return Consts(s, h)


cdef inline RowR cross_entropy_with_prior_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                                Py_ssize_t y, const double* prior, real* g,
                                                real* h, double gs, Consts kc,
                                                double prior_weight) noexcept nogil:
    return _softmax_class(x, cs, C, y, 1.0, prior_weight, prior, kc.a, prior_weight * kc.b, g, h, gs)


cdef inline RowR cross_entropy_with_prior_row(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                              Py_ssize_t y, const double* prior, real* g,
                                              double gs, Consts kc,
                                              double prior_weight) noexcept nogil:
    return cross_entropy_with_prior_row_h(x, cs, C, y, prior, g, NULL, gs, kc, prior_weight)


cdef inline void cross_entropy_with_prior_rows8_h(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                                  Py_ssize_t C, const int64_t* labels,
                                                  const double* prior, real* g, real* h, Py_ssize_t grs, Py_ssize_t gcs,
                                                  const double* gs, Consts kc, double prior_weight,
                                                  double* loss, double* correct) noexcept nogil:
    cdef double a[8]
    cdef Py_ssize_t k
    for k in range(8):
        a[k] = 1.0
    _softmax_class_rows8(x, rs, cs, C, labels, a, prior_weight, prior, kc.a, prior_weight * kc.b, g,
                         h, grs, gcs, gs, loss, correct)


# ---- multilabel_soft_margin_loss ----


cdef inline void cross_entropy_with_prior_rows8(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                                Py_ssize_t C,
                                                const int64_t* labels, const double* prior,
                                                real* g, Py_ssize_t grs, Py_ssize_t gcs, const double* gs, Consts kc,
                                                double prior_weight, double* loss,
                                                double* correct) noexcept nogil:
    cross_entropy_with_prior_rows8_h(x, rs, cs, C, labels, prior, g, NULL, grs, gcs, gs, kc, prior_weight,
                                     loss, correct)


cdef inline Consts multilabel_soft_margin_loss_consts(Py_ssize_t C,
                                                      const double* weight) noexcept nogil:
    return _no_consts()


cdef inline LG _ml_term(real prec, real z, real y, double wj, int mode) noexcept nogil:
    # w_j (softplus(z) - y z) and w_j (sigmoid(z) - y): binary_cross_entropy_with_logits'
    # element with weight w_j (_logistic_math.pxd), in lanes_mode's mode for float32
    # data (_math.pxd); float64 data: float64. The callers pass mode as a constant.
    if real is float:
        if mode == 0:
            return binary_cross_entropy_with_logits_lg32(z, y, wj, 1.0)
        if mode == 2:
            return lg_select(binary_cross_entropy_with_logits_lanes32(z, y),
                             binary_cross_entropy_with_logits_lg32(z, y, wj, 1.0),
                             binary_cross_entropy_with_logits_lg(prec, z, y, wj, 1.0))
    return binary_cross_entropy_with_logits_lg(prec, z, y, wj, 1.0)


cdef inline int _ml_mode(const real* t, Py_ssize_t n) noexcept nogil:
    # The mode of _ml_term for n targets: 0 all 0/1, 1 none, 2 some (float32 data).
    cdef int n32 = 0
    cdef Py_ssize_t j
    if real is double:
        return 1
    for j in range(n):
        n32 = n32 + <int>binary_cross_entropy_with_logits_lanes32(0.0, t[j])
    return lanes_mode(n32, n)


cdef inline void _ml_row_terms(const real* x, Py_ssize_t cs, Py_ssize_t C, const real* t,
                               const double* weight, real* g, double gsc, double* al,
                               int mode) noexcept nogil:
    # One row's terms: element j's loss into al[j % 8], gsc times its gradient into g[j].
    cdef real prec = 0
    cdef LG r
    cdef Py_ssize_t j, k, C8 = C - C % 8
    for j in range(0, C8, 8):
        for k in range(8):
            r = _ml_term(prec, x[(j + k) * cs], t[j + k], weight[j + k], mode)
            if g != NULL:
                g[j + k] = <real>(gsc * r.grad)
            al[k] = al[k] + r.loss
    for j in range(C8, C):
        r = _ml_term(prec, x[j * cs], t[j], weight[j], mode)
        if g != NULL:
            g[j] = <real>(gsc * r.grad)
        al[j - C8] = al[j - C8] + r.loss


cdef inline RowR multilabel_soft_margin_loss_row(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                                 const real* t, const double* weight, real* g,
                                                 double gs, Consts kc) noexcept nogil:
    cdef double al[8]
    cdef double gsc = gs / C
    cdef Py_ssize_t k
    cdef int mode = _ml_mode(t, C)
    for k in range(8):
        al[k] = 0.0
    if mode == 0:
        _ml_row_terms(x, cs, C, t, weight, g, gsc, al, 0)
    elif mode == 1:
        _ml_row_terms(x, cs, C, t, weight, g, gsc, al, 1)
    else:
        _ml_row_terms(x, cs, C, t, weight, g, gsc, al, 2)
    return RowR(_tree8(al) / C, 0.0)


cdef inline RowR multilabel_soft_margin_loss_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                                   const real* t, const double* weight, real* g,
                                                   real* h, double gs, Consts kc) noexcept nogil:
    # (w_j / C) sigmoid(x_j) sigmoid(-x_j), as binary_cross_entropy_with_logits' element.
    cdef real prec = 0
    cdef double gsc = gs / C
    cdef Py_ssize_t j
    for j in range(C):
        h[j] = <real>(gsc * binary_cross_entropy_with_logits_h(prec, x[j * cs], t[j], weight[j], 1.0))
    return multilabel_soft_margin_loss_row(x, cs, C, t, weight, g, gs, kc)


cdef inline void _ml_flat_terms(const real* x, const real* t, const double* wr, const double* sr,
                                Py_ssize_t n, real* g, double* lb, int mode) noexcept nogil:
    # n contiguous elements: loss of element e into lb[e], sr[e] times its gradient into g[e].
    cdef real prec = 0
    cdef LG r
    cdef Py_ssize_t e
    for e in range(n):
        r = _ml_term(prec, x[e], t[e], wr[e], mode)
        if g != NULL:
            g[e] = <real>(sr[e] * r.grad)
        lb[e] = r.loss


cdef inline void multilabel_soft_margin_loss_rows8(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                                   Py_ssize_t C, const real* t,
                                                   const double* weight, real* g, Py_ssize_t grs, Py_ssize_t gcs,
                                                   const double* gs, Consts kc, double* loss,
                                                   double* correct) noexcept nogil:
    # 8 contiguous rows (rs == C, cs == 1, and so g's grs == C, gcs == 1: the kernel
    # takes this path only then) as
    # one flat run of 8 C elements, vectorised along it; then each row's sum in the
    # row path's order (element j into lane j % 8), so both paths give the same bits.
    cdef double lb[8 * ROWS8_MAX_C]
    cdef double wr[8 * ROWS8_MAX_C]
    cdef double sr[8 * ROWS8_MAX_C]
    cdef double al[8]
    cdef Py_ssize_t n = 8 * C, j, k
    cdef int mode = _ml_mode(t, n)
    for k in range(8):
        for j in range(C):
            wr[k * C + j] = weight[j]
            sr[k * C + j] = gs[k] / C
    if mode == 0:
        _ml_flat_terms(x, t, wr, sr, n, g, lb, 0)
    elif mode == 1:
        _ml_flat_terms(x, t, wr, sr, n, g, lb, 1)
    else:
        _ml_flat_terms(x, t, wr, sr, n, g, lb, 2)
    for k in range(8):
        for j in range(8):
            al[j] = 0.0
        for j in range(C):
            al[j % 8] = al[j % 8] + lb[k * C + j]
        loss[k] = _tree8(al) / C
        correct[k] = 0.0


cdef inline void multilabel_soft_margin_loss_rows8_h(const real* x, Py_ssize_t rs, Py_ssize_t cs,
                                                     Py_ssize_t C, const real* t,
                                                     const double* weight, real* g, real* h, Py_ssize_t grs, Py_ssize_t gcs,
                                                     const double* gs, Consts kc, double* loss,
                                                     double* correct) noexcept nogil:
    # The 8 contiguous rows as one flat run, as multilabel_soft_margin_loss_rows8.
    cdef real prec = 0
    cdef Py_ssize_t j, k
    for k in range(8):
        for j in range(C):
            h[k * C + j] = <real>(gs[k] / C * binary_cross_entropy_with_logits_h(
                prec, x[k * C + j], t[k * C + j], weight[j], 1.0))
    multilabel_soft_margin_loss_rows8(x, rs, cs, C, t, weight, g, grs, gcs, gs, kc, loss, correct)


# ---- multi_margin_loss ----


cdef inline Consts multi_margin_loss_consts(Py_ssize_t C, const double* weight, double p,
                                            double margin) noexcept nogil:
    return _no_consts()


cdef inline void _multi_margin_term(const real* x, Py_ssize_t cs, Py_ssize_t j, Py_ssize_t y,
                                    double zy, double p, double margin, double gw,
                                    double* acc, double* gy, real* g) noexcept nogil:
    # Class j's term of the row: adds it to *acc, its derivative to *gy, writes g[j].
    cdef double d = margin - zy + x[j * cs]
    cdef bint pos = (j != y) & (not (d <= 0))  # NaN counts as active: it propagates
    cdef double dg = where(pos, where(p == 1, where(d == d, 1.0, d), 2.0 * d), 0.0)
    acc[0] = acc[0] + where(pos, where(p == 1, d, d * d), 0.0)
    gy[0] = gy[0] + dg
    if g != NULL:
        g[j] = <real>(gw * dg)


cdef inline RowR multi_margin_loss_row(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                       const double* weight, real* g, double gs, Consts kc,
                                       double p, double margin) noexcept nogil:
    # The two sums in 8 float64 lanes (_tree8) from 8 classes (float32) or 16
    # (float64) on: with one accumulator each, the loop is a scalar chain, and
    # float32 rows cost 3-5x float64's at C = 64 and 1000; below those sizes the
    # lanes' set-up costs more than the chain (float64 C = 10: 0.8x).
    cdef double zy = x[y * cs]
    cdef double wc = weight[y] / C
    cdef double gw = gs * wc
    cdef double acc = 0.0, gy = 0.0
    cdef double al[8]
    cdef double gl[8]
    cdef Py_ssize_t b, j, k, C8 = C - C % 8, few = 8
    if real is double:
        few = 16
    if C < few:
        for j in range(C):
            _multi_margin_term(x, cs, j, y, zy, p, margin, gw, &acc, &gy, g)
    else:
        for k in range(8):
            al[k] = 0.0
            gl[k] = 0.0
        for b in range(0, C8, 8):
            for k in range(8):
                _multi_margin_term(x, cs, b + k, y, zy, p, margin, gw, &al[k], &gl[k], g)
        for j in range(C8, C):
            _multi_margin_term(x, cs, j, y, zy, p, margin, gw, &al[j - C8], &gl[j - C8], g)
        acc = _tree8(al)
        gy = _tree8(gl)
    if g != NULL:
        g[y] = <real>(-gw * gy)
    return RowR(wc * acc, 0.0)


cdef inline RowR multi_margin_loss_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                                         const double* weight, real* g, real* h, double gs,
                                         Consts kc, double p, double margin) noexcept nogil:
    # p = 1: piecewise linear, 0. p = 2: 2 w_y / C for each active term (margin
    # strictly positive, as the gradient), on its class and on the target's.
    cdef double zy = x[y * cs]
    cdef double hc = where(p == 2, 2.0 * gs * weight[y] / C, 0.0)
    cdef double d, n_active = 0.0
    cdef bint pos
    cdef Py_ssize_t j
    for j in range(C):
        d = margin - zy + x[j * cs]
        pos = (j != y) & (d > 0)
        n_active = n_active + <double>pos
        h[j] = <real>where(d == d, where(pos, hc, 0.0), d)
    h[y] = <real>where(zy == zy, hc * n_active, zy)
    return multi_margin_loss_row(x, cs, C, y, weight, g, gs, kc, p, margin)


# ---- multilabel_margin_loss ----


cdef enum:
    ML_MARK_WORDS = 64   # the targets' bitmap on the stack: rows of up to 4096 classes


cdef inline Consts multilabel_margin_loss_consts(Py_ssize_t C) noexcept nogil:
    return _no_consts()


cdef inline bint _ml_is_target(const uint64_t* mark, const int64_t* t, Py_ssize_t n_t,
                               Py_ssize_t c, bint big) noexcept nogil:
    cdef Py_ssize_t k
    if not big:
        return (mark[c >> 6] >> (c & 63)) & 1
    for k in range(n_t):  # rows wider than the bitmap: a scan of the targets
        if t[k] == c:
            return True
    return False


cdef inline RowR multilabel_margin_loss_row(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                            const int64_t* t, real* g, double gs,
                                            Consts kc) noexcept nogil:
    # PyTorch's: the targets are t[0], ..., t[n_t - 1], n_t the first entry outside
    # [0, C) (-1 by convention; the call layer rejects an entry >= C before it);
    # l = sum over target entries j and non-target classes c of
    # max(0, 1 - x_{t_j} + x_c), divided by C. A target listed twice counts twice.
    # g is written while x is read again: the call layer keeps them apart.
    cdef uint64_t mark[ML_MARK_WORDS]
    cdef bint big = C > 64 * ML_MARK_WORDS
    cdef Py_ssize_t n_t = 0, j, c
    cdef double acc = 0.0, z, xt, n_active, s = gs / C
    cdef bint on
    while n_t < C and t[n_t] >= 0 and t[n_t] < C:
        n_t = n_t + 1
    if not big:
        for c in range((C + 63) >> 6):
            mark[c] = 0
        for j in range(n_t):
            mark[t[j] >> 6] = mark[t[j] >> 6] | ((<uint64_t>1) << (t[j] & 63))
    if g != NULL:
        for c in range(C):
            g[c] = 0
    for j in range(n_t):
        xt = x[t[j] * cs]
        n_active = 0.0
        for c in range(C):
            z = 1.0 - xt + x[c * cs]
            on = (not _ml_is_target(mark, t, n_t, c, big)) & (not (z <= 0))  # NaN propagates
            acc = acc + where(on, z, 0.0)
            n_active = n_active + where(on, where(z == z, 1.0, z), 0.0)
            if g != NULL:
                g[c] = <real>(g[c] + where(on, where(z == z, s, z), 0.0))
        if g != NULL:
            g[t[j]] = <real>(g[t[j]] - s * n_active)
    return RowR(acc / C, 0.0)


cdef inline RowR multilabel_margin_loss_row_h(const real* x, Py_ssize_t cs, Py_ssize_t C,
                                              const int64_t* t, real* g, real* h, double gs,
                                              Consts kc) noexcept nogil:
    # Piecewise linear: 0.
    cdef Py_ssize_t c
    for c in range(C):
        h[c] = 0
    return multilabel_margin_loss_row(x, cs, C, t, g, gs, kc)


# ---- accuracy (a metric: the row "loss" is 1 if correct) ----


cdef inline Consts accuracy_consts(Py_ssize_t C, double k) noexcept nogil:
    return _no_consts()


cdef inline RowR accuracy_row(const real* x, Py_ssize_t cs, Py_ssize_t C, Py_ssize_t y,
                              real* g, double gs, Consts kc, double k) noexcept nogil:
    cdef double zy, z
    cdef double above = 0.0
    cdef Py_ssize_t j
    if C == 1:  # one binary logit: class 1 iff x > 0
        z = x[0]
        return RowR(<double>((z == z) and ((z > 0) == (y == 1))), 0.0)
    zy = x[y * cs]
    if zy != zy:
        return RowR(0.0, 0.0)
    for j in range(C):
        z = x[j * cs]
        above = above + <double>((z > zy) | ((z == zy) & (j < y)))
    return RowR(<double>(above < k), 0.0)
