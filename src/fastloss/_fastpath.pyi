"""The per-call fast path of the pointwise losses (compiled; internal)."""

from typing import Any

__test__: dict[str, str]  # Cython's doctest dict

def pointwise(kernels: dict[Any, Any], x: Any, target: Any, out: Any, reduction: Any,
              n_threads: Any, args: tuple[Any, ...], reductions: Any) -> Any: ...
