"""Kernels of the losses of several differentiable inputs (compiled; internal)."""

from typing import Any

__test__: dict[str, str]  # Cython's doctest dict

# Fused (float32 / float64) kernels: index with "float" or "double" (see fastloss._api).
margin_ranking_loss: Any
gaussian_nll_loss: Any
cosine_embedding_loss: Any
triplet_margin_loss: Any
