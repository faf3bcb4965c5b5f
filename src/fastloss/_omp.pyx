# cython: language_level=3
"""What the build knows about OpenMP, for thread resolution and show_config."""

cdef extern from "_openmp_compat.h":
    int FASTLOSS_OPENMP
    const char* FASTLOSS_COMPILER
    int omp_get_max_threads() nogil
    void omp_set_num_threads(int n) nogil
    int fastloss_team_size(int n) nogil

#: The OpenMP version date (e.g. 201511) the extension was built with, 0 without.
openmp_version = FASTLOSS_OPENMP

#: The C compiler (and its version) that built the extension.
compiler = FASTLOSS_COMPILER.decode("ascii", "replace")


def get_max_threads():
    """``omp_get_max_threads()`` of the calling thread (1 without OpenMP)."""
    return omp_get_max_threads()


def set_num_threads(int n):
    """``omp_set_num_threads(n)`` for the calling thread (no-op without OpenMP)."""
    omp_set_num_threads(n)


def team_size(int n):
    """Threads that a parallel region asking for ``n`` threads really runs (1 without OpenMP)."""
    if n < 1:
        raise ValueError(f"n must be a positive int, got {n}")
    cdef int size
    with nogil:
        size = fastloss_team_size(n)
    return size
