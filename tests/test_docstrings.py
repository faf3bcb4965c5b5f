"""The Examples sections of the public docstrings, run as doctests.

The losses' examples print results computed from ``fastloss.reference`` when
the docstring was made (``fastloss._docs``), so these doctests check the
kernels, the PyTorch and the Dask wrappers against the reference; the
hand-written examples (Meter, show_config, check_grad) check what they show.
"""

from __future__ import annotations

import doctest
import importlib
import re

import numpy as np
import pytest

import fastloss
from fastloss import meter, reference, testing
from fastloss._registry import LOSSES

_TORCH = importlib.util.find_spec("torch") is not None
_DASK = importlib.util.find_spec("dask") is not None


def _public_objects():
    """(qualified name, object) of every public callable with a docstring."""
    objs = [(f"fastloss.{s.name}", getattr(fastloss, s.name)) for s in LOSSES]
    objs += [(f"fastloss.reference.{s.name}", getattr(reference, s.name)) for s in LOSSES]
    objs += [("fastloss.Meter", meter.Meter), ("fastloss.Meter.update", meter.Meter.update),
             ("fastloss.show_config", fastloss.show_config),
             ("fastloss.testing.check_grad", testing.check_grad),
             ("fastloss.testing.GradCheckResult", testing.GradCheckResult),
             ("fastloss.linear_cross_entropy", fastloss.linear_cross_entropy),
             ("fastloss.reference.linear_cross_entropy", reference.linear_cross_entropy)]
    return objs


def _wrapper_objects(module):
    mod = importlib.import_module(f"fastloss.{module}")
    return [(f"fastloss.{module}.{s.name}", getattr(mod, s.name)) for s in LOSSES]


class _SignlessZeros(doctest.OutputChecker):
    """A printed -0. equals 0.: the sign of a zero gradient entry is not part of
    the result (the docstrings print the reference's zeros as 0.)."""

    _NEG_ZERO = re.compile(r"-0\.(?!\d*[1-9])")

    def check_output(self, want, got, optionflags):
        return super().check_output(want, self._NEG_ZERO.sub(" 0.", got), optionflags)


def run_doctest(name, obj):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(obj.__doc__ or "", {}, name, None, 0)
    assert len(test.examples) >= 2, f"{name} has no Examples to run"
    runner = doctest.DocTestRunner(checker=_SignlessZeros(),
                                   optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    with np.printoptions(legacy=False):
        runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


@pytest.mark.parametrize("name,obj", _public_objects(), ids=lambda v: v if isinstance(v, str) else "")
def test_examples_run(name, obj):
    assert "\nExamples\n" in obj.__doc__.replace("    ", ""), f"{name}: no Examples section"
    run_doctest(name, obj)


@pytest.mark.skipif(not _TORCH, reason="torch is not installed")
@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_torch_examples_run(spec):
    run_doctest(*[o for o in _wrapper_objects("torch") if o[0].endswith(f".{spec.name}")][0])


@pytest.mark.skipif(not _TORCH, reason="torch is not installed")
def test_torch_linear_cross_entropy_example_runs():
    import fastloss.torch as flt

    run_doctest("fastloss.torch.linear_cross_entropy", flt.linear_cross_entropy)


@pytest.mark.skipif(not _DASK, reason="dask is not installed")
@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_dask_examples_run(spec):
    run_doctest(*[o for o in _wrapper_objects("dask") if o[0].endswith(f".{spec.name}")][0])


def test_a_wrong_kernel_result_fails_its_doctest(monkeypatch):
    # The check can fail: a loss that is off in the 4th digit no longer prints the
    # reference's value.
    real = fastloss.mse_loss

    def off(*args, **kwargs):
        value, grad = real(*args, **kwargs)
        return value * (1 + 1e-4), grad

    off.__doc__ = real.__doc__
    monkeypatch.setattr(fastloss, "mse_loss", off)  # what the example's `import fastloss` finds
    with pytest.raises(AssertionError, match="Failed example"):
        run_doctest("fastloss.mse_loss", off)


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_formulas_are_latex_math(spec):
    # The API pages render them with Sphinx's math directive; matplotlib's TeX
    # parser (a subset of LaTeX) checks that they parse at all.
    mathtext = pytest.importorskip("matplotlib.mathtext")
    doc = getattr(fastloss, spec.name).__doc__
    parser = mathtext.MathTextParser("path")
    for tex in filter(None, (spec.formula, spec.gradient)):
        assert f".. math::\n\n    {tex}\n" in doc
        parser.parse(f"${tex}$")


def test_docstrings_point_to_no_private_module():
    for _, obj in _public_objects():
        assert "sklearn._" not in obj.__doc__
        assert "dtype and shape the input" not in obj.__doc__
