# cython: language_level=3
"""What the build knows about OpenMP, for thread resolution and show_config."""

cdef extern from "_openmp_compat.h":
    int FASTLOSS_OPENMP
    int omp_get_max_threads() nogil
    void omp_set_num_threads(int n) nogil

#: The OpenMP version date (e.g. 201511) the extension was built with, 0 without.
openmp_version = FASTLOSS_OPENMP


def get_max_threads():
    """``omp_get_max_threads()`` of the calling thread (1 without OpenMP)."""
    return omp_get_max_threads()


def set_num_threads(int n):
    """``omp_set_num_threads(n)`` for the calling thread (no-op without OpenMP)."""
    omp_set_num_threads(n)
