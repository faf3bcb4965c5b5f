"""Counts behind return_accuracy (compiled; internal)."""

from typing import Any

__test__: dict[str, str]  # Cython's doctest dict

def sign_agreement(x: Any, y: Any, n_threads: int) -> int: ...
