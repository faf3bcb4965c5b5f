# cython: language_level=3, cdivision=True
"""Pieces shared by every kernel module: chunking and the fixed-order sum."""

cdef enum:
    # Elements per reduction chunk. Fixed, independent of the thread count, so
    # that partial sums, and hence results, are bit-identical for any n_threads.
    CHUNK = 4096
    # Below this many elements a kernel runs serially: waking the OpenMP pool
    # costs more than the work.
    PARALLEL_MIN = 32768
    # The same for the row-wise kernels, whose elements cost 5-50x a pointwise
    # one's (a softmax per row): at 8192 logits a call is ~8 us on one thread,
    # several times what waking the pool costs (measured, bench/README.md).
    ROWWISE_PARALLEL_MIN = 8192
    # Partials for up to this many chunks live on the stack (no malloc).
    STACK_PARTIALS = 256


cdef extern from "_partials.h":
    # Pairwise sum in a fixed order: deterministic and O(log n) rounding growth.
    double sum_partials "fl_sum_partials"(const double* p, Py_ssize_t n) noexcept nogil
