"""Generated inputs for the demo, the test battery and the benchmarks."""

from __future__ import annotations

import numpy as np

from ._registry import LossSpec


def _draw(domain: str, shape, rng: np.random.Generator) -> np.ndarray:
    if domain == "normal":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.1, 3.0, shape)
    if domain == "counts":
        return rng.poisson(2.0, shape).astype(np.float64)
    raise ValueError(f"unknown domain {domain!r}")


def make_arrays(spec: LossSpec, shape, dtype=np.float64, seed=0) -> list[np.ndarray]:
    """``[input]`` or ``[input, target]`` for ``spec``, of the given shape and dtype."""
    rng = np.random.default_rng(seed)
    arrays = [_draw(spec.input_domain, shape, rng)]
    if spec.target != "none":
        arrays.append(_draw(spec.target_domain, shape, rng))
    return [a.astype(dtype) for a in arrays]
