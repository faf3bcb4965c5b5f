"""SIMD levels of the kernel modules: names and what each needs (pure data).

Read by setup.py (which builds one copy of every kernel module per level) and
by fastloss._dispatch (which imports the best copy the CPU supports).
"""

from __future__ import annotations

import platform

#: Best first. "baseline" is the plain build for the target: x86-64-v2 on x86-64
#: (SSE4.2 and POPCNT, as NumPy 2.4's own x86-64 wheels: Intel CPUs since 2008, AMD
#: ones since 2011-2013), NEON on arm64, which is part of the aarch64 baseline.
LEVELS = ("avx512", "avx2", "baseline")

#: NumPy CPU feature names each x86-64 level needs at run time (NumPy's
#: detection also checks that the OS saves the wide registers). An x86-64 CPU
#: without the baseline's cannot run fastloss: importing it says so.
REQUIRES = {
    "avx512": ("AVX512F", "AVX512CD", "AVX512VL", "AVX512BW", "AVX512DQ", "AVX2", "FMA3"),
    "avx2": ("AVX2", "FMA3", "F16C"),
    "baseline": ("SSSE3", "SSE41", "SSE42", "POPCNT"),
}


def is_x86_64(machine: str | None = None) -> bool:
    m = (machine or platform.machine()).lower()
    return m in ("x86_64", "amd64", "x64")


def cpu_features() -> dict:
    """NumPy's runtime CPU feature detection (a private but stable module); {} if absent."""
    import importlib

    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # NumPy 2, 1
        try:
            return dict(importlib.import_module(name).__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}


def cpu_levels(features: dict, machine: str | None = None) -> list[str]:
    """Levels a CPU with these NumPy feature flags can run, best first; with no flags
    at all (NumPy could not tell), the baseline."""
    if not is_x86_64(machine) or not features:
        return ["baseline"]
    return [lv for lv in LEVELS if all(features.get(f, False) for f in REQUIRES[lv])]


def build_levels(machine: str | None = None) -> list[str]:
    """Levels that setup.py builds for this target, best first."""
    return list(LEVELS) if is_x86_64(machine) else ["baseline"]


def module_name(base: str, level: str) -> str:
    """Module of kernel module ``base`` at ``level``: _pointwise, _pointwise_avx2, ..."""
    return base if level == "baseline" else f"{base}_{level}"


def level_of(module: str) -> str:
    """Inverse of module_name: the level of a kernel module's (dotted) name."""
    return next((lv for lv in LEVELS if lv != "baseline" and module.endswith(f"_{lv}")), "baseline")
