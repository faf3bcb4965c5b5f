# cython: language_level=3, boundscheck=False, wraparound=False, auto_pickle=False
"""Matrix products for ``linear_cross_entropy``, through the BLAS SciPy ships.

SciPy's ``scipy.linalg.cython_blas`` exports the BLAS functions of the library
it was built with (OpenBLAS in its wheels) as C function pointers, callable
without the GIL. They are read here from its capsules at the first call: fastloss
needs neither BLAS headers nor SciPy at build time, and uses the same tuned
library that ``scipy.linalg`` uses.

``gemm`` speaks row-major (C-order) NumPy arrays; BLAS is column-major, and a
row-major matrix is its transpose in column-major order, so
``C = op(A) op(B)`` is called as ``C^T = op(B)^T op(A)^T`` with the operands
swapped and the same transpose flags. It can cut the product into fixed panels
run by fastloss's own OpenMP threads over a single-threaded BLAS: the result
then does not depend on the thread count, and no second thread pool (the
BLAS's, spinning after each call) competes with fastloss's for the cores.
"""

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cython.parallel cimport prange

cnp.import_array()

ctypedef void (*sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*, int*,
                         float*, float*, int*) noexcept nogil
ctypedef void (*dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*, int*,
                         double*, double*, int*) noexcept nogil

cdef sgemm_t _sgemm = NULL
cdef dgemm_t _dgemm = NULL

# BLAS (LP64) dimensions and leading dimensions are C ints.
cdef Py_ssize_t INT_MAX = 2147483647


def load():
    """Bind SciPy's sgemm/dgemm (ImportError with advice when SciPy is missing)."""
    global _sgemm, _dgemm
    if _sgemm != NULL:
        return
    try:
        from scipy.linalg import cython_blas
    except ImportError as e:
        raise ImportError("fastloss.linear_cross_entropy computes its matrix products with "
                          "SciPy's BLAS: python -m pip install scipy") from e
    caps = cython_blas.__pyx_capi__
    _dgemm = <dgemm_t>PyCapsule_GetPointer(caps["dgemm"], PyCapsule_GetName(caps["dgemm"]))
    _sgemm = <sgemm_t>PyCapsule_GetPointer(caps["sgemm"], PyCapsule_GetName(caps["sgemm"]))


cdef int _ld(cnp.ndarray a, str name) except -1:
    # Rows may be strided (a row block of a larger array), elements may not.
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_STRIDE(a, 1) != item \
            or cnp.PyArray_STRIDE(a, 0) % item or not cnp.PyArray_ISNOTSWAPPED(a):
        raise ValueError(f"gemm: {name} must be a 2-D array with contiguous native rows")
    cdef Py_ssize_t ld = max(cnp.PyArray_STRIDE(a, 0) // item, cnp.PyArray_DIM(a, 1), 1)
    if ld > INT_MAX or cnp.PyArray_DIM(a, 0) > INT_MAX:
        raise ValueError(f"gemm: {name} is too large for a 32-bit BLAS")
    return <int>ld


cdef void _gemm_rm(bint single, char ta, char tb, int m, int n, int k, double alpha,
                   const void* a, int lda, const void* b, int ldb, double beta,
                   void* c, int ldc) noexcept nogil:
    # Row-major C (m x n) = alpha op(A) op(B) + beta C: column-major C^T = op(B)^T op(A)^T.
    cdef float fa = <float>alpha, fb = <float>beta
    if single:
        _sgemm(&tb, &ta, &n, &m, &k, &fa, <float*>b, &ldb, <float*>a, &lda, &fb, <float*>c, &ldc)
    else:
        _dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*>b, &ldb, <double*>a, &lda, &beta,
               <double*>c, &ldc)


def gemm(cnp.ndarray c, cnp.ndarray a, cnp.ndarray b, bint trans_a, bint trans_b,
         double alpha, double beta, str split="", Py_ssize_t panel=0, int n_threads=1):
    """``c = alpha op(a) op(b) + beta c`` in place, op = transpose where asked
    (``beta = 0``: c's old contents are not read). All three of one dtype,
    float32 or float64, with contiguous rows.

    ``split="m"`` / ``"n"``: c's rows / columns are cut into panels of ``panel``,
    one BLAS call each, run by ``n_threads`` OpenMP threads. The panels depend on
    ``panel`` only, so the result is the same for every ``n_threads``; the BLAS
    must then be single-threaded (the caller sees to it), as each call runs in
    one of our threads."""
    load()
    cdef int typenum = cnp.PyArray_TYPE(c)
    if typenum not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64) or cnp.PyArray_TYPE(a) != typenum \
            or cnp.PyArray_TYPE(b) != typenum:
        raise TypeError("gemm: a, b and c must share one dtype, float32 or float64")
    if not cnp.PyArray_ISWRITEABLE(c):
        raise ValueError("gemm: c is read-only")
    if split not in ("", "m", "n") or (split and panel < 1):
        raise ValueError("gemm: split must be '', 'm' or 'n', with a panel size >= 1")
    cdef int lda = _ld(a, "a"), ldb = _ld(b, "b"), ldc = _ld(c, "c")
    cdef Py_ssize_t m = cnp.PyArray_DIM(c, 0), n = cnp.PyArray_DIM(c, 1)
    cdef Py_ssize_t k = cnp.PyArray_DIM(a, 0) if trans_a else cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t am = cnp.PyArray_DIM(a, 1) if trans_a else cnp.PyArray_DIM(a, 0)
    cdef Py_ssize_t bk = cnp.PyArray_DIM(b, 1) if trans_b else cnp.PyArray_DIM(b, 0)
    cdef Py_ssize_t bn = cnp.PyArray_DIM(b, 0) if trans_b else cnp.PyArray_DIM(b, 1)
    if am != m or bn != n or bk != k:
        raise ValueError(f"gemm: shapes do not chain: c {(m, n)}, op(a) {(am, k)}, op(b) {(bk, bn)}")
    if m == 0 or n == 0:
        return
    if k == 0:  # BLAS would leave c as beta c; so do we, without calling it
        if beta == 0.0:
            c[...] = 0
        elif beta != 1.0:
            c *= beta
        return
    cdef bint single = typenum == cnp.NPY_FLOAT32
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(c)
    cdef char ta = b"T" if trans_a else b"N"
    cdef char tb = b"T" if trans_b else b"N"
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    cdef char* pc = <char*>cnp.PyArray_DATA(c)
    cdef Py_ssize_t extent = m if split == "m" else n
    cdef Py_ssize_t p, p0, width, n_panels = (extent + panel - 1) // panel if split else 1
    # Byte offset of panel start p0 in a (split m) or b (split n), and in c.
    cdef Py_ssize_t step_a = item * (1 if trans_a else lda)
    cdef Py_ssize_t step_b = item * (ldb if trans_b else 1)
    with nogil:
        if not split:
            _gemm_rm(single, ta, tb, <int>m, <int>n, <int>k, alpha, pa, lda, pb, ldb, beta,
                     pc, ldc)
        elif split == "m":
            for p in prange(n_panels, num_threads=max(n_threads, 1), schedule="dynamic"):
                p0 = p * panel
                width = min(panel, m - p0)
                _gemm_rm(single, ta, tb, <int>width, <int>n, <int>k, alpha, pa + p0 * step_a,
                         lda, pb, ldb, beta, pc + p0 * ldc * item, ldc)
        else:
            for p in prange(n_panels, num_threads=max(n_threads, 1), schedule="dynamic"):
                p0 = p * panel
                width = min(panel, n - p0)
                _gemm_rm(single, ta, tb, <int>m, <int>width, <int>k, alpha, pa, lda,
                         pb + p0 * step_b, ldb, beta, pc + p0 * item, ldc)


ctypedef fused real:
    float
    double


def add_column_sums(double[::1] acc, const real[:, ::1] g, int n_threads):
    """``acc[j] += sum_i g[i, j]``, each column summed in row order in float64
    (so the same bits for every thread count)."""
    cdef Py_ssize_t i, j, n = g.shape[0], m = g.shape[1]
    cdef double s
    if acc.shape[0] != m:
        raise ValueError(f"add_column_sums: acc has {acc.shape[0]} entries, g {m} columns")
    with nogil:
        for j in prange(m, num_threads=max(n_threads, 1), schedule="static"):
            s = acc[j]
            for i in range(n):
                s = s + g[i, j]
            acc[j] = s
