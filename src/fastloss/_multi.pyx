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

A compiled module of its own, built once (not per SIMD level): a change to these
losses recompiles nothing else.
"""

from cython.parallel cimport prange
from libc.math cimport NAN, fabs, log, pow, sqrt

import numpy as np

from fastloss._common cimport CHUNK, PARALLEL_MIN, sum_partials

ctypedef fused real:
    float
    double

# PyTorch's cosine_embedding_loss adds this to both squared norms.
cdef double COSINE_EPS = 1e-12
cdef double HALF_LOG_2PI = 0.91893853320467274178


cdef inline int _threads(Py_ssize_t work, int n_threads) noexcept nogil:
    return n_threads if work >= PARALLEL_MIN else 1


# ---- margin_ranking_loss: elementwise over three arrays of one shape ----

cdef double _ranking_chunk(const real[::1] x1, const real[::1] x2, const real[::1] y,
                           real[::1] g1, real[::1] g2, real[::1] lo, Py_ssize_t a,
                           Py_ssize_t b, double gscale, double margin) noexcept nogil:
    cdef double s = 0.0, u, l, g
    cdef Py_ssize_t i
    for i in range(a, b):
        u = margin - <double>y[i] * (<double>x1[i] - <double>x2[i])
        l = 0.0 if u < 0.0 else u  # NaN stays NaN (torch's clamp_min)
        s += l
        if lo is not None:
            lo[i] = <real>l
        if g1 is not None:
            # As torch: u == 0 passes the gradient (clamp_min's derivative is [u >= min]).
            g = <double>y[i] * gscale if u >= 0.0 else 0.0
            g1[i] = <real>(-g)
            g2[i] = <real>g
    return s


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


# ---- gaussian_nll_loss: (A, M, B) views; var (A, B) is shared along M ----

cdef double _gaussian_rows(const real[:, :, :] x, const real[:, :, :] t, const real[:, :] var,
                           real[:, :, :] gx, real[:, :] gv, real[:, :, :] lo, Py_ssize_t a0,
                           Py_ssize_t a1, double gscale, double full, double eps) noexcept nogil:
    cdef Py_ssize_t a, m, b, M = x.shape[1], B = x.shape[2]
    cdef double s = 0.0, v, inv, half_log, d, e, l, acc
    for a in range(a0, a1):
        for b in range(B):
            v = var[a, b]
            v = eps if v < eps else v  # NaN stays NaN, as torch's clamp
            inv = 1.0 / v
            half_log = 0.5 * log(v) + full * HALF_LOG_2PI
            acc = 0.0
            for m in range(M):
                d = <double>x[a, m, b] - <double>t[a, m, b]
                e = d * inv
                l = half_log + 0.5 * d * e
                s += l
                if lo is not None:
                    lo[a, m, b] = <real>l
                if gx is not None:
                    gx[a, m, b] = <real>(e * gscale)
                    acc += 0.5 * (inv - e * e)
            if gv is not None:
                gv[a, b] = <real>(acc * gscale)
    return s


def gaussian_nll_loss(const real[:, :, :] input, const real[:, :, :] target,
                      const real[:, :] var, real[:, :, :] grad_input, real[:, :] grad_var,
                      real[:, :, :] loss_out, double gscale, int n_threads, double full,
                      double eps):
    """``grad_input`` and ``grad_var`` are both given or both None."""
    cdef Py_ssize_t A = input.shape[0], per = input.shape[1] * input.shape[2]
    if A == 0 or per == 0:
        if grad_var is not None:
            grad_var[:, :] = 0
        return 0.0
    cdef Py_ssize_t rows = max(1, CHUNK // per), nc = (A + rows - 1) // rows, c
    cdef double[::1] part = np.empty(nc)
    cdef double total
    cdef int nt = _threads(A * per, n_threads)
    with nogil:
        for c in prange(nc, num_threads=nt, schedule="static"):
            part[c] = _gaussian_rows(input, target, var, grad_input, grad_var, loss_out,
                                     c * rows, min(A, (c + 1) * rows), gscale, full, eps)
        total = sum_partials(&part[0], nc)
    return total


# ---- cosine_embedding_loss: rows of (N, D) pairs ----

cdef double _cosine_rows(const real[:, ::1] x1, const real[:, ::1] x2, const double[::1] y,
                         real[:, ::1] g1, real[:, ::1] g2, real[::1] lo, Py_ssize_t r0,
                         Py_ssize_t r1, double gscale, double margin) noexcept nogil:
    cdef Py_ssize_t r, j, D = x1.shape[1]
    cdef double s = 0.0, s12, m1, m2, den, cos, l, k, a, b
    for r in range(r0, r1):
        s12 = 0.0
        m1 = 0.0
        m2 = 0.0
        for j in range(D):
            a = x1[r, j]
            b = x2[r, j]
            s12 += a * b
            m1 += a * a
            m2 += b * b
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
        if g1 is not None:
            k = k * gscale
            for j in range(D):
                a = x1[r, j]
                b = x2[r, j]
                g1[r, j] = <real>(k * (b / den - cos * a / m1))
                g2[r, j] = <real>(k * (a / den - cos * b / m2))
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
    """||u[r] - v[r] + eps||_p, as torch's pairwise_distance."""
    cdef Py_ssize_t j, D = u.shape[1]
    cdef double s = 0.0, d
    for j in range(D):
        d = fabs(<double>u[r, j] - <double>v[r, j] + eps)
        if p == 2.0:
            s += d * d
        elif p == 1.0:
            s += d
        else:
            s += pow(d, p)
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
