"""fastloss: loss functions whose value and gradient come from one fused pass.

Every loss takes NumPy arrays (float32 or float64) and returns its value, or
with ``return_grad=True`` the pair ``(value, grad)``. Names, arguments and
defaults follow ``torch.nn.functional`` where PyTorch has the loss.
``fastloss.reference`` holds the plain NumPy definition of each loss.
"""

from ._api import FUNCTIONS as _FUNCTIONS
from ._config import show_config
from .meter import Meter
from ._registry import REGISTRY

__version__ = "0.1.0"

globals().update(_FUNCTIONS)

__all__ = sorted(_FUNCTIONS) + ["Meter", "REGISTRY", "show_config", "__version__"]
