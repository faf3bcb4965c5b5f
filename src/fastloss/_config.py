"""Build and runtime configuration, for bug reports and sanity checks."""

from __future__ import annotations

import platform
import sys

from . import _omp


def config() -> dict:
    """The configuration as a dict (what show_config prints)."""
    import numpy as np

    from . import __version__

    return {
        "fastloss": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "openmp": _omp.openmp_version != 0,
        "openmp_version": _omp.openmp_version,
        "max_threads": _omp.get_max_threads(),
    }


def show_config() -> None:
    """Print the fastloss version, OpenMP support and thread count."""
    cfg = config()
    width = max(map(len, cfg))
    for key, value in cfg.items():
        print(f"{key:<{width}} : {value}")
    if not cfg["openmp"]:
        print("WARNING: fastloss was built without OpenMP; every kernel runs on one thread.")
