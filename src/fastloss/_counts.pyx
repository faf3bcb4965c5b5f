# cython: language_level=3, boundscheck=False, wraparound=False, auto_pickle=False
"""Counts behind ``return_accuracy`` that a loss kernel does not make itself.

``binary_cross_entropy_with_logits`` shares its kernel template with every
pointwise loss, whose one accumulator is the loss sum; its correct-sign count is
this separate pass over the validated, contiguous arrays instead (no temporaries,
GIL released). The count is an integer sum, so it is the same for every thread
count.
"""

from cython.parallel cimport prange

ctypedef fused real:
    float
    double

# Below this many elements a parallel region costs more than the count.
cdef Py_ssize_t PARALLEL_MIN = 1 << 16


def sign_agreement(const real[::1] x, const real[::1] y, int n_threads):
    """Elements where the logit's sign predicts the target: ``x > 0`` and
    ``y > 0.5``, or ``x <= 0`` and ``y <= 0.5``. A NaN logit or target counts as
    wrong."""
    cdef Py_ssize_t i, n = x.shape[0]
    cdef Py_ssize_t count = 0
    if y.shape[0] != n:
        raise ValueError(f"x and y differ in length: {n} and {y.shape[0]}")
    with nogil:
        if n_threads > 1 and n >= PARALLEL_MIN:
            for i in prange(n, num_threads=n_threads, schedule="static"):
                count += ((x[i] > 0) & (y[i] > 0.5)) | ((x[i] <= 0) & (y[i] <= 0.5))
        else:
            for i in range(n):
                count += ((x[i] > 0) & (y[i] > 0.5)) | ((x[i] <= 0) & (y[i] <= 0.5))
    return count
