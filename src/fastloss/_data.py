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
    if domain == "unit":  # probabilities, away from the clamped ends
        return rng.uniform(0.02, 0.98, shape)
    if domain == "binary":
        return rng.integers(0, 2, shape).astype(np.float64)
    if domain == "sign":
        return rng.choice([-1.0, 1.0], shape)
    if domain == "logprob":
        return np.log(rng.uniform(0.01, 1.0, shape))
    raise ValueError(f"unknown domain {domain!r}")


#: Classes of a rowwise input when a caller asks for a 1-D shape (n,).
DEFAULT_CLASSES = 10


def rowwise_shape(spec: LossSpec, shape) -> tuple:
    """The (N, C) shape a rowwise spec uses for ``shape``: 2-D shapes as given, (n,) as
    about n elements in rows of DEFAULT_CLASSES (at least one row unless n = 0)."""
    shape = tuple(shape)
    if spec.kind != "rowwise" and not (spec.multi_input and spec.mean_over == "rows"):
        return shape
    if len(shape) == 2:  # at least one class, so that rows can have a label
        return (shape[0], max(shape[1], 1))
    n = int(np.prod(shape))
    return (max(n // DEFAULT_CLASSES, 1) if n else 0, DEFAULT_CLASSES)


def make_arrays(spec: LossSpec, shape, dtype=np.float64, seed=0) -> list[np.ndarray]:
    """The positional arguments of ``spec``: ``data_arrays``, then any required
    per-class vectors (e.g. a prior), for the given shape and dtype."""
    shape = rowwise_shape(spec, shape)
    return data_arrays(spec, shape, dtype, seed) + list(required_kwargs(spec, shape, seed).values())


def data_arrays(spec: LossSpec, shape, dtype=np.float64, seed=0) -> list[np.ndarray]:
    """The per-row arrays of ``spec``: ``[input]`` or ``[input, target]`` (a loss of
    several inputs: its arrays in signature order).

    Rowwise specs get an (N, C) input (see ``rowwise_shape``) and, for class
    targets, int64 class indices of shape (N,)."""
    rng = np.random.default_rng(seed)
    shape = rowwise_shape(spec, shape)
    if spec.multi_input:  # every array of spec.arrays, in signature order
        rows = spec.mean_over == "rows"
        return [_draw(domain, shape[:-1] if rows and name == "target" else shape, rng)
                .astype(dtype) for name, domain in zip(spec.arrays, spec.domains)]
    arrays = [_draw(spec.input_domain, shape, rng).astype(dtype)]
    if spec.target in ("class", "class_or_prob"):
        n_classes = max(shape[1], 2) if spec.binary_input and shape[1] == 1 else shape[1]
        arrays.append(rng.integers(0, n_classes, shape[0]))
    elif spec.target == "index_rows":  # each row: distinct classes, -1, then anything
        t = rng.integers(-1, shape[1], shape) if shape[0] else np.zeros(shape, np.int64)
        for row in t:
            k = int(rng.integers(0, shape[1] + 1))
            row[:k] = rng.permutation(shape[1])[:k]
            if k < shape[1]:
                row[k] = -1
        arrays.append(t)
    elif spec.target != "none":
        arrays.append(_draw(spec.target_domain, shape, rng).astype(dtype))
    return arrays


def make_prob_target(shape, dtype=np.float64, seed=0) -> np.ndarray:
    """Rows of class probabilities (each row sums to 1), for class_or_prob targets."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype)


def make_class_vectors(spec: LossSpec, n_classes: int, seed=0) -> dict[str, np.ndarray]:
    """A value for every per-class vector parameter of ``spec`` (weights in
    [0.5, 2], distributions from a Dirichlet)."""
    rng = np.random.default_rng(seed)
    return {a.name: rng.dirichlet(np.ones(n_classes)) if a.domain == "distribution"
            else rng.uniform(0.5, 2.0, n_classes) for a in spec.array_params}


def required_kwargs(spec: LossSpec, shape, seed=0) -> dict[str, np.ndarray]:
    """Arguments without a default (e.g. the prior of cross_entropy_with_prior)."""
    n_classes = rowwise_shape(spec, shape)[-1] if len(shape) else 1
    vectors = make_class_vectors(spec, n_classes, seed)
    return {a.name: vectors[a.name] for a in spec.array_params if a.required}


def differentiated(spec: LossSpec) -> list[bool]:
    """For each positional array of make_arrays(spec, ...): whether the loss
    differentiates it (the input; every input of a loss of several)."""
    if spec.multi_input:
        return [k in spec.inputs for k in spec.arrays]
    return [True] + [False] * ((spec.target != "none") + sum(a.required for a in spec.array_params))
