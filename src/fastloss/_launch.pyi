"""The Python side of the compiled kernels (compiled; internal)."""

from types import ModuleType
from typing import Any

__test__: dict[str, str]  # Cython's doctest dict

class PointwiseKernel:
    name: str
    def __call__(self, *args: Any) -> float: ...

class RowwiseKernel:
    name: str
    def __call__(self, *args: Any) -> tuple[float, float]: ...

class KernelSet:
    module: ModuleType
    level: str
    KERNELS: tuple[str, ...]
    def __init__(self, module: ModuleType, level: str) -> None: ...
    def __getattr__(self, name: str) -> Any: ...

def bind(module: ModuleType, level: str) -> KernelSet: ...
