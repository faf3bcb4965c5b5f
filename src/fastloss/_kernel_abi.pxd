# cython: language_level=3
"""The call interface between the Python-facing layer (``_launch``) and the
kernel modules compiled once per SIMD level (``_pointwise*``, ``_rowwise*``).

A kernel is a plain ``nogil`` C function over one of these structs: no Python
objects, no memoryviews. Each kernel module exports a table of them (a
PyCapsule) and the layout of each entry; ``_launch`` checks the arrays once,
fills the struct and calls through the table of the SIMD level in use, so the
Python wrapper code exists once, not once per level.
"""

from libc.stdint cimport int64_t

cdef enum:
    # The most per-column vectors / scalar parameters a kernel takes (the
    # generator checks the registry against these).
    MAX_COLS = 2
    MAX_PARAMS = 4


cdef struct PointwiseCall:
    const void* x           # n elements of the kernel's dtype, contiguous
    const void* y           # target, like x (NULL for losses without a target)
    void* g                 # gradient out, like x, or NULL
    void* h                 # Hessian diagonal out, like x, or NULL (set only with g)
    int no_value            # 1: with h (and no lo), skip the value (*total is then 0)
    void* lo                # per-element loss out, like x, or NULL
    const double* w         # n // row_len weights, or NULL
    Py_ssize_t n
    Py_ssize_t row_len      # elements per weight (1: one weight per element)
    double gscale           # factor of every gradient element
    int n_threads
    Py_ssize_t ncol         # entries of each per-column vector (0: none given)
    const double* cols[MAX_COLS]
    double params[MAX_PARAMS]


cdef struct RowwiseCall:
    const void* x           # (N, C) of the kernel's dtype, element strides rs, cs
    Py_ssize_t N
    Py_ssize_t C
    Py_ssize_t rs
    Py_ssize_t cs
    const int64_t* labels   # class targets: N indices (others: NULL)
    int64_t ignore_index
    const void* tgt         # dense targets: (N, C), strides below (others: NULL)
    void* g                 # (N, C) gradient out (strides below), or NULL
    void* h                 # (N, C) Hessian diagonal out (g's strides), or NULL (set only
                            # with g, neither overlapping x; losses with a Hessian only)
    void* lo                # N per-row losses out, or NULL
    const double* w         # N row weights, or NULL
    # Rows in batches (an (N, C, d1, ..., dk) input as N batches of S = d1...dk rows):
    # row i is position s = i % S of batch b = i // S; its class j is x's element
    # b xbs + s rs + j cs, g's and h's b gbs + s grs + j gcs, a dense target's
    # b tbs + s trs + j tcs. An (N, C) input: S = N, xbs = gbs = tbs = 0, g, h and
    # tgt C-contiguous (grs = trs = C, gcs = tcs = 1).
    Py_ssize_t S
    Py_ssize_t xbs
    Py_ssize_t gbs
    Py_ssize_t grs
    Py_ssize_t gcs
    Py_ssize_t tbs
    Py_ssize_t trs
    Py_ssize_t tcs
    int batched             # 1 for an (N, C, d1, ..., dk) input (wider 8-row tiles)
    double gscale
    int n_threads
    const double* cols[MAX_COLS]   # C entries each
    double params[MAX_PARAMS]


# 0 on success, -1 if a work buffer could not be allocated.
ctypedef int (*pointwise_fn)(const PointwiseCall* a, double* total) noexcept nogil
ctypedef int (*rowwise_fn)(const RowwiseCall* a, double* total, double* correct) noexcept nogil


# The per-level helpers of _simd (vmath accuracy tests, the benchmarks' floor).
cdef struct SimdTable:
    int (*vmath)(int f, const double* x, double* out, Py_ssize_t n) noexcept nogil
    void (*expdiff32)(const float* x, const float* m, double* out, Py_ssize_t n) noexcept nogil
    int (*triad_f32)(const float* x, const float* y, float* g, float* h, Py_ssize_t n,
                     int n_threads, double* total) noexcept nogil
    int (*triad_f64)(const double* x, const double* y, double* g, double* h, Py_ssize_t n,
                     int n_threads, double* total) noexcept nogil
