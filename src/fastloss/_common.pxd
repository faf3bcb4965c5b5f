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


# Restrict-qualified pointers, for loops whose outputs GCC cannot otherwise prove apart
# from their inputs: it then vectorises each block of lanes on its own, checks for
# overlap per block and keeps the sums in memory (the pointwise Hessian loop: mse_loss
# float64 (16384,) 2.9x the time without the Hessian; the value + gradient loop: huber_loss
# float64 1.5x; _simd's triad floor 2.8x). The caller must guarantee that nothing the
# loop reads shares memory with them.
cdef extern from *:
    ctypedef float* f32_rp "float* __restrict__"
    ctypedef double* f64_rp "double* __restrict__"


cdef extern from "_partials.h":
    # Pairwise sum in a fixed order: deterministic and O(log n) rounding growth.
    double sum_partials "fl_sum_partials"(const double* p, Py_ssize_t n) noexcept nogil
