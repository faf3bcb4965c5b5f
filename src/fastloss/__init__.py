"""fastloss: loss functions whose value and gradient come from one fused pass.

Every loss takes NumPy arrays (float32 or float64) and returns its value, or
with ``return_grad=True`` the pair ``(value, grad)``. Names, arguments and
defaults follow ``torch.nn.functional`` where PyTorch has the loss.
``fastloss.reference`` holds the plain NumPy definition of each loss.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from ._api import FUNCTIONS as _FUNCTIONS
from ._config import show_config
from ._linear import linear_cross_entropy
from .meter import Meter
from ._registry import REGISTRY

try:  # the single source of the version is pyproject.toml, via the installed metadata
    __version__ = _version("fastloss")
except _PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

globals().update(_FUNCTIONS)

__all__ = sorted(_FUNCTIONS) + ["linear_cross_entropy", "Meter", "REGISTRY", "show_config",
                                "__version__"]

# Submodules reachable as attributes after a plain ``import fastloss`` (PEP 562),
# imported on first use: ``fastloss.torch`` and ``fastloss.dask`` import their
# libraries, which would cost every user seconds of import time (or fail).
_SUBMODULES = ("boosting", "dask", "reference", "testing", "torch")


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
