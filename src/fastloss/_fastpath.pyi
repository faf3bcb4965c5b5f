"""The per-call fast path of the losses (compiled; internal)."""

import enum
from typing import Any

from typing_extensions import disjoint_base

__test__: dict[str, str]  # Cython's doctest dict

def weight_max(w: Any) -> float: ...

def pointwise(kernels: dict[Any, Any], x: Any, target: Any, out: Any, return_grad: bool,
              reduction: Any, n_threads: Any, args: tuple[Any, ...], reductions: Any,
              hessian: bool = ..., value: bool = ...) -> Any: ...

@disjoint_base
class RowwisePlan:
    def __init__(self, kernels: dict[Any, Any], input_name: str, vector_names: tuple[str, ...],
                 fills: tuple[float, ...], names: tuple[str, ...], defaults: tuple[Any, ...],
                 checked: tuple[Any, ...], bounds: tuple[Any, ...], has_ignore: bool,
                 ignore_default: Any, count_valid: bool, differentiable: bool,
                 has_hessian: bool = ...) -> None: ...
    def __call__(self, a: dict[str, Any]) -> Any: ...

class Layout(enum.IntEnum):
    FLAT = 0
    ROWS = 1
    SHARED = 2

@disjoint_base
class MultiPlan:
    def __init__(self, kernels: dict[Any, Any], names: tuple[str, ...],
                 grad_of: tuple[bool, ...], reduced: tuple[bool, ...], nonneg: tuple[bool, ...],
                 layout: int, row: int, label: int, pnames: tuple[str, ...],
                 defaults: tuple[Any, ...],
                 checked: tuple[Any, ...], bounds: tuple[Any, ...],
                 reductions: tuple[str, ...]) -> None: ...
    def __call__(self, a: dict[str, Any]) -> Any: ...
