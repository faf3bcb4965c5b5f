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


def resolve_n_threads(n_threads: object) -> int:
    """Validate ``n_threads``; ``None`` means OpenMP's default in this thread.

    ``omp_get_max_threads()`` is read in the calling thread, so
    ``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits`` are honoured.
    """
    if n_threads is None:
        n = _omp.get_max_threads()
    else:
        # `type is int` first: the ABC check costs ~0.3 us per call.
        if type(n_threads) is not int and (isinstance(n_threads, bool)
                                           or not isinstance(n_threads, numbers.Integral)):
            raise TypeError(
                f"n_threads must be None or a positive int, got {type(n_threads).__name__}"
            )
        n = int(n_threads)
        if n < 1:
            raise ValueError(f"n_threads must be None or a positive int, got {n}")
        n = min(n, MAX_THREADS)
    return 1 if _in_forked_child else n
