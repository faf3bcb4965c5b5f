"""The Python side of the compiled kernels (compiled; internal)."""

from types import ModuleType
from typing import Any

from typing_extensions import disjoint_base

__test__: dict[str, str]  # Cython's doctest dict

CHUNK: int
PARALLEL_MIN: int
ROWWISE_PARALLEL_MIN: int
VMATH: tuple[str, ...]
VMATH32: tuple[str, ...]

@disjoint_base
class _Kernel:
    name: str

@disjoint_base
class PointwiseKernel(_Kernel):
    def __call__(self, *args: Any) -> float: ...

@disjoint_base
class RowwiseKernel(_Kernel):
    def __call__(self, *args: Any) -> tuple[float, float]: ...

class KernelSet:
    module: ModuleType
    level: str
    KERNELS: tuple[str, ...]
    def __init__(self, module: ModuleType, level: str) -> None: ...
    def __getattr__(self, name: str) -> Any: ...

@disjoint_base
class SimdHelpers:
    level: str
    def vmath(self, name: str, x: Any, out: Any) -> None: ...
    def vmath32(self, name: str, x: Any, out: Any) -> None: ...
    def expdiff32(self, x: Any, m: Any, out: Any) -> None: ...
    def triad(self, x: Any, y: Any, g: Any, n_threads: int, h: Any = None) -> float: ...

def bind(module: ModuleType, level: str) -> KernelSet: ...
def bind_simd(module: ModuleType, level: str) -> SimdHelpers: ...
