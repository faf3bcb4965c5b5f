"""Matrix products through SciPy's BLAS (compiled; internal)."""

from typing import Any

__test__: dict[str, str]  # Cython's doctest dict

def load() -> None: ...
def gemm(c: Any, a: Any, b: Any, trans_a: bool, trans_b: bool, alpha: float, beta: float,
         split: str = ..., panel: int = ..., n_threads: int = ...) -> None: ...
def add_column_sums(acc: Any, g: Any, n_threads: int) -> None: ...
