"""The registry is honest: every loss is complete, nothing compiled is unregistered."""

from __future__ import annotations

import inspect

import pytest

import fastloss
from fastloss import _dispatch, reference
from fastloss._registry import LOSSES, REGISTRY
from fastloss._validation import check_param
from helpers import specs


@pytest.mark.parametrize("spec", specs())
def test_loss_is_complete(spec):
    fn = getattr(fastloss, spec.name)
    assert spec.name in fastloss.__all__
    assert callable(getattr(reference, spec.name))
    # numpydoc docstring with the formula of the loss and of its gradient
    for text in (spec.summary, spec.formula, spec.gradient, "Parameters", "Returns"):
        assert text in fn.__doc__
    sig = inspect.signature(fn)
    assert list(sig.parameters)[0] == spec.input_name
    for p in spec.params:
        assert sig.parameters[p.name].default == p.default
        assert p.name in fn.__doc__
    assert sig.parameters["reduction"].default == spec.default_reduction
    assert ("sample_weight" in sig.parameters) == spec.sample_weight


@pytest.mark.parametrize("spec", specs())
def test_parameter_defaults_and_examples_are_admissible(spec):
    for p in spec.params:
        for value in (p.default, *p.examples):
            check_param(p, value)
        assert p.doc


def test_compiled_pointwise_kernels_match_registry():
    _pointwise = _dispatch.load("_pointwise")
    registered = {s.name for s in LOSSES if s.kind == "pointwise"}
    assert set(_pointwise.KERNELS) == registered
    for name in registered:
        assert callable(getattr(_pointwise, f"{name}_f32"))
        assert callable(getattr(_pointwise, f"{name}_f64"))


def test_compiled_rowwise_kernels_match_registry():
    _rowwise = _dispatch.load("_rowwise")
    expected = {k for s in LOSSES for k in s.kernels.values()}
    assert set(_rowwise.KERNELS) == expected
    for name in expected:
        assert callable(getattr(_rowwise, f"{name}_f32"))
        assert callable(getattr(_rowwise, f"{name}_f64"))


@pytest.mark.parametrize("spec", specs())
def test_class_vectors_documented(spec):
    fn = getattr(fastloss, spec.name)
    for a in spec.array_params:
        assert a.doc and a.name in fn.__doc__ and a.name in inspect.signature(fn).parameters


def test_names_are_unique_and_public_api_is_the_registry():
    assert len(REGISTRY) == len(LOSSES)
    public = {n for n in fastloss.__all__ if callable(getattr(fastloss, n)) and n in REGISTRY}
    assert public == set(REGISTRY)
