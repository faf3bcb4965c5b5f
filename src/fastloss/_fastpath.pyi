"""The per-call fast path of the losses (compiled; internal)."""

from typing import Any

from typing_extensions import disjoint_base

__test__: dict[str, str]  # Cython's doctest dict

def pointwise(kernels: dict[Any, Any], x: Any, target: Any, out: Any, return_grad: bool,
              reduction: Any, n_threads: Any, args: tuple[Any, ...], reductions: Any) -> Any: ...

@disjoint_base
class RowwisePlan:
    def __init__(self, kernels: dict[Any, Any], input_name: str, vector_names: tuple[str, ...],
                 fills: tuple[float, ...], names: tuple[str, ...], defaults: tuple[Any, ...],
                 checked: tuple[Any, ...], bounds: tuple[Any, ...], has_ignore: bool,
                 ignore_default: Any, count_valid: bool, differentiable: bool) -> None: ...
    def __call__(self, a: dict[str, Any]) -> Any: ...
