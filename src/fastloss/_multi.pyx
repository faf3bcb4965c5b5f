# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, auto_pickle=False
"""Kernels of the losses with several differentiable inputs (registry kind "multi").

One pass computes the value and every input's gradient. Each kernel is a fused
def function; fastloss._api takes its float32 and float64 specializations
(``kernel["float"]``, ``kernel["double"]``), which accept None for the buffers not
wanted (gradients, per-element losses).

Common to all: the math runs in float64 for float32 data too (these losses do a
few operations per element, against the loads and stores), the value is the sum
of the losses (gradients scaled by ``gscale``), and the sum is formed per fixed
chunk of elements or rows, the chunk sums added in a fixed order (sum_partials):
the same bits for every thread count. Arguments arrive validated (_api): shapes
agree, buffers do not overlap the inputs.

A kernel module of its own, built per SIMD level like the others (its tiles and
fl_log vectorise at AVX2 / AVX-512; _vmath's log, not libm's, so that every level
gives the same bits), but unlike them it keeps its Python glue (def functions, no
table for _launch: four small kernels). A change to these losses recompiles nothing
else. Inside a row or chunk, sums run in TILE fixed lanes.
"""

from cython.parallel cimport prange
from libc.math cimport NAN, fabs, pow, sqrt

import numpy as np

from fastloss._common cimport CHUNK, PARALLEL_MIN, sum_partials
from fastloss._math cimport log as fl_log

ctypedef fused real:
    float
    double

# PyTorch's cosine_embedding_loss adds this to both squared norms.
cdef double COSINE_EPS = 1e-12
cdef double HALF_LOG_2PI = 0.91893853320467274178


cdef inline int _threads(Py_ssize_t work, int n_threads) noexcept nogil:
    return n_threads if work >= PARALLEL_MIN else 1


# ---- margin_ranking_loss: elementwise over three arrays of one shape ----

cdef enum:
    # Elements per tile: loaded into local arrays, computed, then stored, so that the
    # compiler vectorises each step (the buffers may alias as far as it knows); the
    # sum keeps a fixed lane order (lane k adds elements k, k + 8, ...).
    TILE = 8


cdef inline double _lanes(const double* acc) noexcept nogil:
    """The sum of TILE lanes, in a fixed order."""
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


cdef double _ranking_chunk(const real[::1] x1, const real[::1] x2, const real[::1] y,
                           real[::1] g1, real[::1] g2, real[::1] lo, Py_ssize_t a,
                           Py_ssize_t b, double gscale, double margin) noexcept nogil:
    cdef double acc[TILE]
    cdef double u[TILE]
    cdef double g[TILE]
    cdef Py_ssize_t i, k, m
    cdef bint want_g = g1 is not None, want_l = lo is not None
    for k in range(TILE):
        acc[k] = 0.0
    i = a
    while i < b:
        m = min(TILE, b - i)
        if m < TILE:  # the last, partial tile: its unused lanes add 0
            for k in range(m, TILE):
                u[k] = 0.0
        for k in range(m):
            u[k] = margin - <double>y[i + k] * (<double>x1[i + k] - <double>x2[i + k])
            # As torch: u == 0 passes the gradient (clamp_min's derivative is [u >= min]).
            g[k] = <double>y[i + k] * gscale if u[k] >= 0.0 else 0.0
            u[k] = 0.0 if u[k] < 0.0 else u[k]  # NaN stays NaN (torch's clamp_min)
        for k in range(TILE):
            acc[k] += u[k]
        if want_l:
            for k in range(m):
                lo[i + k] = <real>u[k]
        if want_g:
            for k in range(m):
                g1[i + k] = <real>(-g[k])
                g2[i + k] = <real>g[k]
        i += m
    return _lanes(acc)


def margin_ranking_loss(const real[::1] input1, const real[::1] input2, const real[::1] target,
                        real[::1] grad1, real[::1] grad2, real[::1] loss_out, double gscale,
                        int n_threads, double margin):
    cdef Py_ssize_t n = input1.shape[0], nc = (n + CHUNK - 1) // CHUNK, c
    if n == 0:
        return 0.0
    cdef double[::1] part = np.empty(nc)
    cdef double total
    cdef int nt = _threads(n, n_threads)
    with nogil:
        for c in prange(nc, num_threads=nt, schedule="static"):
            part[c] = _ranking_chunk(input1, input2, target, grad1, grad2, loss_out, c * CHUNK,
                                     min(n, (c + 1) * CHUNK), gscale, margin)
        total = sum_partials(&part[0], nc)
    return total


# ---- gaussian_nll_loss: (A, M, B) views, B contiguous; var (A, B) is shared along M ----

cdef double _gaussian_rows(const real[:, :, ::1] x, const real[:, :, ::1] t,
                           const real[:, ::1] var, real[:, :, ::1] gx, real[:, ::1] gv,
                           real[:, :, ::1] lo, double* acc_v, Py_ssize_t a0, Py_ssize_t a1,
                           double gscale, double full, double eps) noexcept nogil:
    """Rows a0..a1; acc_v: B doubles of scratch (var's gradient, summed over M)."""
    cdef Py_ssize_t a, m, b, k, w, M = x.shape[1], B = x.shape[2]
    cdef double acc[TILE]
    cdef double v[TILE]
    cdef double e[TILE]
    cdef double l[TILE]
    cdef double inv[TILE]
    cdef double d
    cdef bint want_g = gx is not None, want_l = lo is not None
    for k in range(TILE):
        acc[k] = 0.0
    for a in range(a0, a1):
        if want_g:
            for b in range(B):
                acc_v[b] = 0.0
        for m in range(M):
            b = 0
            while b < B:
                w = min(TILE, B - b)
                for k in range(w, TILE):  # a partial tile's unused lanes add 0
                    l[k] = 0.0
                for k in range(w):
                    v[k] = var[a, b + k]
                    v[k] = eps if v[k] < eps else v[k]  # NaN stays NaN, as torch's clamp
                for k in range(w):
                    d = <double>x[a, m, b + k] - <double>t[a, m, b + k]
                    inv[k] = 1.0 / v[k]
                    e[k] = d * inv[k]
                    l[k] = 0.5 * (fl_log(v[k]) + d * e[k]) + full * HALF_LOG_2PI
                for k in range(TILE):  # (a constant count: one vector operation)
                    acc[k] += l[k]
                if want_l:
                    for k in range(w):
                        lo[a, m, b + k] = <real>l[k]
                if want_g:
                    for k in range(w):
                        gx[a, m, b + k] = <real>(e[k] * gscale)
                        acc_v[b + k] += 0.5 * (inv[k] - e[k] * e[k])
                b += w
        if want_g:
            for b in range(B):
                gv[a, b] = <real>(acc_v[b] * gscale)
    return _lanes(acc)


def gaussian_nll_loss(const real[:, :, ::1] input, const real[:, :, ::1] target,
                      const real[:, ::1] var, real[:, :, ::1] grad_input, real[:, ::1] grad_var,
                      real[:, :, ::1] loss_out, double gscale, int n_threads, double full,
                      double eps):
    """``grad_input`` and ``grad_var`` are both given or both None."""
    cdef Py_ssize_t A = input.shape[0], B = input.shape[2], per = input.shape[1] * B
    if A == 0 or per == 0:
        if grad_var is not None:
            grad_var[:, :] = 0
        return 0.0
    cdef Py_ssize_t rows = max(1, CHUNK // per), nc = (A + rows - 1) // rows, c
    cdef double[::1] part = np.empty(nc)
    cdef double[:, ::1] scratch = np.empty((nc, B))
    cdef double total
    cdef int nt = _threads(A * per, n_threads)
    with nogil:
        for c in prange(nc, num_threads=nt, schedule="static"):
            part[c] = _gaussian_rows(input, target, var, grad_input, grad_var, loss_out,
                                     &scratch[c, 0], c * rows, min(A, (c + 1) * rows), gscale,
                                     full, eps)
        total = sum_partials(&part[0], nc)
    return total


# ---- cosine_embedding_loss: rows of (N, D) pairs ----

cdef double _cosine_rows(const real[:, ::1] x1, const real[:, ::1] x2, const double[::1] y,
                         real[:, ::1] g1, real[:, ::1] g2, real[::1] lo, Py_ssize_t r0,
                         Py_ssize_t r1, double gscale, double margin) noexcept nogil:
    cdef Py_ssize_t r, j, q, w, D = x1.shape[1]
    cdef double s = 0.0, s12, m1, m2, den, cos, l, k, a, b
    cdef double sab[TILE]
    cdef double saa[TILE]
    cdef double sbb[TILE]
    cdef double u[TILE]
    cdef double v[TILE]
    for r in range(r0, r1):
        for j in range(TILE):
            sab[j] = 0.0
            saa[j] = 0.0
            sbb[j] = 0.0
        j = 0
        while j < D:  # in lanes: the compiler vectorises each step
            w = min(TILE, D - j)
            for q in range(w, TILE):  # a partial tile's unused lanes add 0
                u[q] = 0.0
                v[q] = 0.0
            for q in range(w):
                u[q] = x1[r, j + q]
                v[q] = x2[r, j + q]
            for q in range(TILE):
                sab[q] += u[q] * v[q]
                saa[q] += u[q] * u[q]
                sbb[q] += v[q] * v[q]
            j += w
        s12 = _lanes(sab)
        m1 = _lanes(saa)
        m2 = _lanes(sbb)
        m1 += COSINE_EPS
        m2 += COSINE_EPS
        den = sqrt(m1 * m2)
        cos = s12 / den
        if y[r] == 1.0:
            l, k = 1.0 - cos, -1.0
        elif y[r] == -1.0:
            l = cos - margin
            # torch clamps in place: the derivative is then [result > 0], 0 at the margin
            k = 1.0 if l > 0.0 else 0.0
            l = 0.0 if l < 0.0 else l
        else:
            l, k = 0.0, 0.0
        s += l
        if lo is not None:
            lo[r] = <real>l
        if g1 is not None:  # (the divisions hoisted: four per element cost as much as the rest)
            k = k * gscale
            u[0] = k / den
            u[1] = k * cos / m1
            u[2] = k * cos / m2
            for j in range(D):
                a = x1[r, j]
                b = x2[r, j]
                g1[r, j] = <real>(b * u[0] - a * u[1])
                g2[r, j] = <real>(a * u[0] - b * u[2])
    return s


def cosine_embedding_loss(const real[:, ::1] input1, const real[:, ::1] input2,
                          const double[::1] target, real[:, ::1] grad1, real[:, ::1] grad2,
                          real[::1] loss_out, double gscale, int n_threads, double margin):
    cdef Py_ssize_t N = input1.shape[0], D = input1.shape[1]
    if N == 0:
        return 0.0
    cdef Py_ssize_t rows = max(1, CHUNK // max(D, 1)), nc = (N + rows - 1) // rows, c
    cdef double[::1] part = np.empty(nc)
    cdef double total
    cdef int nt = _threads(N * D, n_threads)
    with nogil:
        for c in prange(nc, num_threads=nt, schedule="static"):
            part[c] = _cosine_rows(input1, input2, target, grad1, grad2, loss_out, c * rows,
                                   min(N, (c + 1) * rows), gscale, margin)
        total = sum_partials(&part[0], nc)
    return total


# ---- triplet_margin_loss: rows of (N, D) triplets ----

cdef inline double _norm(const real[:, ::1] u, const real[:, ::1] v, Py_ssize_t r, double eps,
                         double p) noexcept nogil:
    """||u[r] - v[r] + eps||_p, as torch's pairwise_distance (summed in lanes)."""
    cdef Py_ssize_t j = 0, k, w, D = u.shape[1]
    cdef double acc[TILE]
    cdef double d[TILE]
    cdef double s
    for k in range(TILE):
        acc[k] = 0.0
    while j < D:
        w = min(TILE, D - j)
        for k in range(w, TILE):  # a partial tile's unused lanes add 0
            d[k] = 0.0
        for k in range(w):
            d[k] = fabs(<double>u[r, j + k] - <double>v[r, j + k] + eps)
        if p == 2.0:
            for k in range(TILE):
                acc[k] += d[k] * d[k]
        elif p == 1.0:
            for k in range(TILE):
                acc[k] += d[k]
        else:
            for k in range(TILE):
                acc[k] += pow(d[k], p)
        j += w
    s = _lanes(acc)
    if p == 2.0:
        return sqrt(s)
    if p == 1.0:
        return s
    return pow(s, 1.0 / p)


cdef inline double _dnorm(double d, double norm, double p) noexcept nogil:
    """d ||v||_p / d v_j at v_j = d: sign(d) (|d| / ||v||)^(p - 1); 0 where v = 0 (torch
    masks a zero norm, and a zero entry for p < 1)."""
    if norm == 0.0 or d == 0.0:
        return 0.0
    if p == 2.0:
        return d / norm
    if p == 1.0:
        return 1.0 if d > 0.0 else -1.0
    return (1.0 if d > 0.0 else -1.0) * pow(fabs(d) / norm, p - 1.0)


cdef double _triplet_rows(const real[:, ::1] an, const real[:, ::1] po, const real[:, ::1] ne,
                          real[:, ::1] ga, real[:, ::1] gp, real[:, ::1] gn, real[::1] lo,
                          Py_ssize_t r0, Py_ssize_t r1, double gscale, double margin, double p,
                          double eps, bint swap) noexcept nogil:
    cdef Py_ssize_t r, j, D = an.shape[1]
    cdef double s = 0.0, dap, dan, dpn = 0.0, dneg, l, c, wan, wpn, eap, ean, epn
    cdef double d_ap, d_an, d_pn
    for r in range(r0, r1):
        dap = _norm(an, po, r, eps, p)
        dan = _norm(an, ne, r, eps, p)
        wan, wpn, dneg = 1.0, 0.0, dan
        if swap:
            dpn = _norm(po, ne, r, eps, p)
            # torch's minimum: NaN wins; its derivative halves at a tie and goes to both
            # operands where they are unordered (NaN)
            if dan != dan or dpn != dpn:
                dneg, wan, wpn = NAN, 1.0, 1.0
            elif dan == dpn:
                wan, wpn = 0.5, 0.5
            elif dpn < dan:
                dneg, wan, wpn = dpn, 0.0, 1.0
        l = margin + dap - dneg
        c = gscale if l >= 0.0 else 0.0  # clamp_min: [l >= 0], the hinge passes at 0
        l = 0.0 if l < 0.0 else l
        s += l
        if lo is not None:
            lo[r] = <real>l
        if ga is not None:
            wan *= c
            wpn *= c
            if p == 2.0:  # the gradient of a 2-norm is v / ||v||: one division per row
                eap = c / dap if dap != 0.0 else 0.0
                ean = wan / dan if dan != 0.0 else 0.0
                epn = wpn / dpn if dpn != 0.0 else 0.0
                if wpn == 0.0:  # (then p - n is not read: an infinite one must not leak)
                    for j in range(D):
                        d_ap = <double>an[r, j] - <double>po[r, j] + eps
                        d_an = <double>an[r, j] - <double>ne[r, j] + eps
                        ga[r, j] = <real>(eap * d_ap - ean * d_an)
                        gp[r, j] = <real>(-eap * d_ap)
                        gn[r, j] = <real>(ean * d_an)
                else:
                    for j in range(D):
                        d_ap = <double>an[r, j] - <double>po[r, j] + eps
                        d_an = <double>an[r, j] - <double>ne[r, j] + eps
                        d_pn = <double>po[r, j] - <double>ne[r, j] + eps
                        ga[r, j] = <real>(eap * d_ap - ean * d_an)
                        gp[r, j] = <real>(-eap * d_ap - epn * d_pn)
                        gn[r, j] = <real>(ean * d_an + epn * d_pn)
                continue
            for j in range(D):
                eap = _dnorm(<double>an[r, j] - <double>po[r, j] + eps, dap, p)
                ean = _dnorm(<double>an[r, j] - <double>ne[r, j] + eps, dan, p)
                epn = _dnorm(<double>po[r, j] - <double>ne[r, j] + eps, dpn, p) if wpn != 0.0 else 0.0
                ga[r, j] = <real>(c * eap - wan * ean)
                gp[r, j] = <real>(-c * eap - wpn * epn)
                gn[r, j] = <real>(wan * ean + wpn * epn)
    return s


def triplet_margin_loss(const real[:, ::1] anchor, const real[:, ::1] positive,
                        const real[:, ::1] negative, real[:, ::1] grad_anchor,
                        real[:, ::1] grad_positive, real[:, ::1] grad_negative,
                        real[::1] loss_out, double gscale, int n_threads, double margin,
                        double p, double eps, double swap):
    cdef Py_ssize_t N = anchor.shape[0], D = anchor.shape[1]
    if N == 0:
        return 0.0
    cdef Py_ssize_t rows = max(1, CHUNK // max(D, 1)), nc = (N + rows - 1) // rows, c
    cdef double[::1] part = np.empty(nc)
    cdef double total
    cdef int nt = _threads(N * D, n_threads)
    cdef bint sw = swap != 0.0
    with nogil:
        for c in prange(nc, num_threads=nt, schedule="static"):
            part[c] = _triplet_rows(anchor, positive, negative, grad_anchor, grad_positive,
                                    grad_negative, loss_out, c * rows, min(N, (c + 1) * rows),
                                    gscale, margin, p, eps, sw)
        total = sum_partials(&part[0], nc)
    return total
