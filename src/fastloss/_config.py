"""Build and runtime configuration, for bug reports and sanity checks."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from typing import Any

from . import _omp

#: What show_config says about reproducibility (README, "Performance and reproducibility").
REPRODUCIBILITY = (
    "value and gradient bit-identical for every n_threads, and across the SIMD levels "
    "with FMA (avx2 = avx512; fixed-order sums, FMA only as fmaf()); the baseline "
    "(no FMA) gives float32 data of the float32-lane losses float64 math: within "
    "4 float32 ulp of avx2/avx512, not the same bits (float64 data: the same bits)"
)

NO_OPENMP_WARNING = (
    "WARNING: fastloss was built without OpenMP; every kernel runs on one thread "
    "(n_threads is accepted and ignored). Rebuild with an OpenMP-capable compiler "
    "and without FASTLOSS_NO_OPENMP for multi-threaded kernels."
)


def simd_level() -> str:
    """The SIMD level of the kernels in use: ``fastloss._dispatch.SIMD_LEVEL`` if the
    build has runtime dispatch, else ``"baseline"`` (the compiler's default ISA)."""
    try:
        dispatch = importlib.import_module("fastloss._dispatch")
    except ImportError:
        return "baseline"
    return str(getattr(dispatch, "SIMD_LEVEL", "baseline"))


def openmp_runtime() -> dict[str, Any] | None:
    """threadpoolctl's record of the OpenMP runtime this process loaded (None if
    threadpoolctl is not installed or sees none). With several OpenMP runtimes
    loaded (e.g. PyTorch's as well), the one shipped inside fastloss is preferred."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return None
    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "openmp"]
    if not infos:
        return None
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ours = [i for i in infos if os.path.abspath(i.get("filepath", "")).startswith(here)
            and "fastloss" in i.get("filepath", "")]
    return (ours or infos)[0]


def config() -> dict[str, Any]:
    """The configuration as a dict (what show_config prints)."""
    import numpy as np

    from . import __version__

    rt = openmp_runtime()
    return {
        "fastloss": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "compiler": _omp.compiler,
        "openmp": _omp.openmp_version != 0,
        "openmp_version": _omp.openmp_version,
        "openmp_runtime": None if rt is None else f"{rt.get('internal_api')} {rt.get('version')} "
                                                 f"({rt.get('filepath')})",
        "max_threads": _omp.get_max_threads(),
        "simd_level": simd_level(),
        "reproducibility": REPRODUCIBILITY,
    }


def show_config() -> None:
    """Print the fastloss version, compiler, OpenMP runtime, thread count, SIMD level
    and what is reproducible across thread counts and SIMD levels.

    ``FASTLOSS_SIMD`` (``baseline``, ``avx2``, ``avx512``), set before the import,
    caps the SIMD level that is loaded; ``simd_level`` says which one was.

    Examples
    --------
    >>> import fastloss
    >>> fastloss.show_config()  # doctest: +ELLIPSIS
    fastloss        : ...
    python          : ...
    simd_level      : ...
    """
    cfg = config()
    if cfg["openmp"] and cfg["openmp_runtime"] is None:
        cfg["openmp_runtime"] = "(install threadpoolctl to see which library)"
    width = max(map(len, cfg))
    for key, value in cfg.items():
        print(f"{key:<{width}} : {value}")
    if not cfg["openmp"]:
        print(NO_OPENMP_WARNING)
