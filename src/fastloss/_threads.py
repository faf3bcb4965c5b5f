"""How many OpenMP threads a kernel call uses."""

from __future__ import annotations

import numbers
import os

from . import _omp

_in_forked_child = False

#: Larger ``n_threads`` are lowered to this. Results do not depend on the thread
#: count, and asking libgomp for 2**16 threads crashed the process (it cannot
#: create them and does not recover): found by tools/fuzz.py.
MAX_THREADS = 256


def _after_fork_in_child() -> None:
    # libgomp's thread pool does not survive fork(): a child that starts a
    # parallel region after the parent used one can hang. Forked children
    # (multiprocessing 'fork', DataLoader workers) therefore run serially.
    global _in_forked_child
    _in_forked_child = True
    _omp.set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS says)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def resolve_n_threads(n_threads: object) -> int:
    """Validate ``n_threads``; ``None`` means OpenMP's default in this thread.

    ``omp_get_max_threads()`` is read in the calling thread, so
    ``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits`` are honoured.
    Negative values count from the usable cores as joblib's ``n_jobs`` does:
    -1 is all of them, -2 all but one, and so on (at least 1).
    """
    if n_threads is None:
        n = _omp.get_max_threads()
    else:
        # `type is int` first: the ABC check costs ~0.3 us per call.
        if type(n_threads) is not int and (isinstance(n_threads, bool)
                                           or not isinstance(n_threads, numbers.Integral)):
            raise TypeError(
                f"n_threads must be None or a nonzero int, got {type(n_threads).__name__}"
            )
        n = int(n_threads)
        if n < 0:
            n = max(usable_cores() + 1 + n, 1)
        elif n == 0:
            raise ValueError("n_threads must be None, a positive int, or -k for all usable "
                             "cores but k - 1 (-1: all), got 0")
        n = min(n, MAX_THREADS)
    return 1 if _in_forked_child else n
