"""Runtime ISA dispatch: import the fastest build of each kernel module.

setup.py compiles every kernel module once per SIMD level (x86-64: baseline =
x86-64-v2, AVX2+FMA, AVX-512; other targets: baseline only) from the same source, under
the level's module name (``_pointwise_avx2`` ...). At
import, the best level that the CPU (and OS) supports and that was built is
chosen, once, for every kernel module. ``FASTLOSS_SIMD=baseline|avx2|avx512``
caps the level (for tests, benchmarks and bug hunts).

All levels are built with ``-ffp-contract=off`` and use the same polynomial
math (``_vmath.h``): results are bit-identical between levels, except that the
float32 data of losses with float32-lane math (FMA) differ at the baseline by
rounding (tested in tests/test_dispatch.py); otherwise only the speed differs.
"""

from __future__ import annotations

import importlib
import os

from ._dispatch_levels import (LEVELS, REQUIRES, build_levels, cpu_features, cpu_levels,
                               module_name)

__all__ = ["SIMD_LEVEL", "CPU_LEVELS", "AVAILABLE_LEVELS", "load", "load_level"]


def _cpu_levels() -> list[str]:
    """Levels this CPU can run, best first. An x86-64 CPU without the baseline's
    features raises ImportError (its kernels would stop on an illegal instruction);
    where NumPy reports no features at all, the baseline is assumed."""
    feats = cpu_features()
    levels = cpu_levels(feats)
    if "baseline" not in levels:
        missing = [f for f in REQUIRES["baseline"] if not feats.get(f, False)]
        raise ImportError(
            "fastloss needs an x86-64-v2 CPU (SSE4.2 and POPCNT: Intel since 2008, AMD since "
            f"2011-2013; what NumPy 2.4 needs too); this CPU lacks {', '.join(missing)}. "
            "A virtual machine may hide them: give it a CPU model of x86-64-v2 or newer "
            "(e.g. QEMU/libvirt '-cpu host' or 'x86-64-v2')."
        )
    return levels


def _importable(level: str) -> bool:
    try:
        importlib.import_module(f"{__package__}.{module_name('_pointwise', level)}")
        return True
    except ImportError:
        return False


#: Levels the CPU supports, best first.
CPU_LEVELS: list[str] = _cpu_levels()
#: Levels that were built and that this CPU can run, best first.
AVAILABLE_LEVELS: list[str] = [lv for lv in CPU_LEVELS if lv in build_levels() and _importable(lv)]
if "baseline" not in AVAILABLE_LEVELS:
    AVAILABLE_LEVELS.append("baseline")


def _choose() -> str:
    cap = os.environ.get("FASTLOSS_SIMD", "").strip().lower()
    if cap:
        if cap not in LEVELS:
            raise ImportError(f"FASTLOSS_SIMD must be one of {LEVELS}, got {cap!r}")
        allowed = LEVELS[LEVELS.index(cap):]
        return next(lv for lv in AVAILABLE_LEVELS if lv in allowed)
    return AVAILABLE_LEVELS[0]


#: The SIMD level of the kernels in use: "avx512", "avx2" or "baseline".
SIMD_LEVEL: str = _choose()


#: How ``_launch`` turns each kernel module's table of nogil functions into callables
#: (None: the module's own def functions, as _multi's fused kernels, are the callables).
_BINDERS = {"_pointwise": "bind", "_rowwise": "bind", "_simd": "bind_simd", "_multi": None}
_LOADED: dict[tuple[str, str], object] = {}


def load_level(base: str, level: str):
    """Kernel module ``base`` (e.g. "_pointwise") built for ``level``, bound by
    ``_launch``: a ``KernelSet`` whose attributes ``<kernel>_<f32|f64>`` are the
    level's kernels (``_simd``: its ``SimdHelpers``; ``_multi``: the module)."""
    got = _LOADED.get((base, level))
    if got is None:
        from . import _launch

        module = importlib.import_module(f"{__package__}.{module_name(base, level)}")
        binder = _BINDERS[base]
        got = module if binder is None else getattr(_launch, binder)(module, level)
        _LOADED[base, level] = got
    return got


def load(base: str):
    """Kernel module ``base`` at SIMD_LEVEL (what the public API uses)."""
    return load_level(base, SIMD_LEVEL)
