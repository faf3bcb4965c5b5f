"""A small typed program using fastloss; `mypy --strict` must accept it (see .ci/run)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import fastloss

x: NDArray[np.float32] = np.linspace(-1.0, 1.0, 1000, dtype=np.float32)
y: NDArray[np.float32] = np.zeros_like(x)
buf: NDArray[np.float32] = np.empty_like(x)

value: float = fastloss.mse_loss(x, y)
pair: tuple[float, NDArray[np.floating]] = fastloss.huber_loss(x, y, delta=0.5, return_grad=True)
v2, g2 = fastloss.l1_loss(x, y, reduction="sum", sample_weight=np.ones(1000), out=buf)
per_element: NDArray[np.floating] = fastloss.smooth_l1_loss(x, y, reduction="none", beta=0.2)
penalty: float = fastloss.elastic_net_penalty(x, 0.1, 0.5)
dyn = fastloss.quantile_loss(x, y, quantile=0.9, return_grad=bool(x.size % 2), n_threads=1)
version: str = fastloss.__version__
total: float = value + pair[0] + v2 + float(g2.sum()) + float(per_element.sum()) + penalty
fastloss.show_config()
print(total, dyn, version, fastloss.REGISTRY["mse_loss"].formula)
