# Written by hand (nothing here depends on the registry); stubtest checks it against
# fastloss/boosting.py.

"""Stubs of fastloss.boosting: fastloss losses as custom objectives of XGBoost and LightGBM."""

from typing import Any, Callable, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["SUPPORTED", "lightgbm_objective", "xgboost_objective"]

SUPPORTED: tuple[str, ...]

_Array = NDArray[np.floating[Any]]
# obj(predt, dtrain) / obj(preds, train_data) -> (grad, hess)
_ObjectiveFn = Callable[[_Array, Any], tuple[_Array, _Array]]

def xgboost_objective(
    name: str,
    *,
    hessian: Literal["auto", "exact", "unit"] = "auto",
    n_threads: int | None = None,
    **options: Any,
) -> _ObjectiveFn: ...
def lightgbm_objective(
    name: str,
    *,
    hessian: Literal["auto", "exact", "unit"] = "auto",
    n_threads: int | None = None,
    **options: Any,
) -> _ObjectiveFn: ...
