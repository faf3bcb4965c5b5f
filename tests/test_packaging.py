"""The package as shipped: version, configuration report, type stubs, metadata."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

import fastloss
from fastloss import _omp
from fastloss._registry import LOSSES

from _helpers import ROOT, load_tool

PKG = Path(fastloss.__file__).resolve().parent


def test_version_is_the_pyproject_version():
    assert fastloss.__version__ == metadata.version("fastloss")
    pyproject = ROOT / "pyproject.toml"
    if pyproject.exists():
        m = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.M)
        assert m and m.group(1) == fastloss.__version__


def test_metadata_has_license_classifiers_and_urls():
    md = metadata.metadata("fastloss")
    assert md["License-Expression"] == "BSD-3-Clause"
    classifiers = md.get_all("Classifier")
    for v in ("3.10", "3.11", "3.12", "3.13", "3.14"):
        assert f"Programming Language :: Python :: {v}" in classifiers
    assert "Typing :: Typed" in classifiers
    urls = dict(u.split(", ", 1) for u in md.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)


def test_show_config(capsys):
    fastloss.show_config()
    text = capsys.readouterr().out
    for key in ("fastloss", "compiler", "openmp", "openmp_runtime", "max_threads", "simd_level",
                "reproducibility"):
        assert re.search(rf"^{key}\s+:", text, re.M), key
    assert fastloss.__version__ in text
    assert "bit-identical for every n_threads, and across the SIMD levels with FMA" in text
    assert "the baseline (no FMA) gives float32 data" in text  # tests/test_dispatch.py
    assert _omp.compiler.split()[0] in ("gcc", "clang", "msvc", "unknown")
    if _omp.openmp_version == 0:
        assert "WARNING: fastloss was built without OpenMP" in text
        assert re.search(r"^max_threads\s+: 1$", text, re.M)
    else:
        assert "WARNING" not in text


def test_typed_package_ships_stubs():
    assert (PKG / "py.typed").exists()
    for name in ("__init__.pyi", "_pointwise.pyi", "_omp.pyi"):
        assert (PKG / name).exists(), name


def test_generated_stubs_are_current():
    """The stubs in the package equal what tools/gen_stubs.py renders from the registry."""
    gen = load_tool("gen_stubs")
    if gen is None:
        pytest.skip("tools/gen_stubs.py is not available")
    for name, text in gen.render_all().items():
        assert (PKG / name).read_text() == text, f"{name} is stale: run python tools/gen_stubs.py"


def test_every_loss_is_public_and_in_the_stub():
    stub = (PKG / "__init__.pyi").read_text()
    for spec in LOSSES:
        assert callable(getattr(fastloss, spec.name))
        assert f"def {spec.name}(" in stub
        assert spec.name in fastloss.__all__


def test_api_docs_cover_every_loss():
    gen = load_tool("gen_api_docs")
    if gen is None:
        pytest.skip("tools/gen_api_docs.py is not available")
    text = gen.render(LOSSES)
    for spec in LOSSES:
        assert f".. autofunction:: fastloss.{spec.name}" in text
        for p in spec.params:
            assert f"``{p.name}``" in text


