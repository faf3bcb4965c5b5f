"""Numpydoc docstrings of the public losses, generated from their registry entries.

Each docstring carries the loss's formula and gradient as LaTeX math, and an
Examples section on small literal inputs whose printed results come from
``fastloss.reference`` (the plain NumPy definition): the doctests
(``tests/test_docstrings.py``) thus check the compiled kernels, the PyTorch and
the Dask wrappers against the reference at the printed precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import LossSpec

_REDUCTION = {
    "mean": "the weighted mean sum_i w_i l_i / sum_i w_i over all elements (w_i = 1 "
            "without sample_weight, else the weight of the element's row, as np.average)",
    "sum": "sum_i w_i l_i",
    "none": "the array w_i l_i, of the input's shape",
    "batchmean": "sum_i w_i l_i divided by the number of rows (by sum(sample_weight) with "
                 "sample_weight), PyTorch's 'batchmean'",
}
_ROWWISE_REDUCTION: dict[str, Any] = {
    "mean": {"elements": "", "rows": "sum_i w_i l_i / sum_i w_i over the N rows",
             "valid_rows": "sum_i w_i l_i / sum_i w_i over the rows not ignored",
             "target_weight": "PyTorch's weighted mean sum_i w_i l_i / sum_i w_i weight[y_i] over "
                              "the rows not ignored (N for probability targets)"},
    "sum": "sum_i w_i l_i over the rows",
    "none": "the array w_i l_i of shape (N,) (0 for ignored rows)",
}
_TARGETS = {
    "real": "Same shape as {x}; converted to {x}'s dtype.",
    "class": "Class indices of shape (N,), any integer dtype; each in [0, C).",
    "class_or_prob": "Class indices of shape (N,), any integer dtype, each in [0, C); or class "
                     "probabilities (floats) of {x}'s shape.",
    "index_rows": "Integers of {x}'s shape: each row lists class indices in [0, C), ended by "
                  "its first -1 (the entries after it are ignored).",
}


def _param_lines(spec: LossSpec) -> list[str]:
    lines = []
    for p in spec.params:
        lines.append(f"{p.name} : {p.type.__name__}, default {p.default!r}")
        if p.type is bool or (p.type is int and p.low is None and p.high is None and not p.choices):
            bounds = ""
        elif p.choices:
            bounds = f" One of {', '.join(map(repr, p.choices))}."
        else:
            bounds = f" Must lie in {p.bounds_text()}."
        lines.append(f"    {p.doc}{bounds}")
    return lines


def _array_param_lines(spec: LossSpec) -> list[str]:
    lines = []
    for a in spec.array_params:
        shape = "array_like" if a.broadcast else "array_like of shape (C,)"
        lines.append(f"{a.name} : {shape}{'' if a.required else ', optional'}")
        axis = ("the input's class axis (axis 1 of a 2-D or larger input)" if "spatial" in spec.shapes
                else "the input's last axis")
        lines.append(f"    {a.doc} C is the length of {axis}."
                     + ("" if a.required else f" None: {a.fill} for every class."))
    return lines


# Literal inputs of the Examples, per data domain of the registry (none of them
# sits on a kink or gives an exactly zero gradient, whose sign could differ).
_POINTWISE_DATA = {
    "normal": "[0.5, -1.25, 2.0, 0.25]",
    "positive": "[0.5, 1.25, 2.0, 0.75]",
    "counts": "[0.0, 1.0, 3.0, 2.0]",
    "unit": "[0.2, 0.9, 0.65, 0.4]",
    "binary": "[1.0, 0.0, 1.0, 1.0]",
    "sign": "[1.0, -1.0, 1.0, -1.0]",
    "logprob": "[-0.5, -2.0, -1.2, -0.1]",
}
_POINTWISE_TARGET = {  # different from the input's values of the same domain
    "normal": "[0.0, -1.0, 1.5, 1.0]",
    "unit": "[0.7, 0.25, 0.5, 1.0]",
    "counts": "[0.0, 1.0, 3.0, 2.0]",
    "binary": "[1.0, 0.0, 0.0, 1.0]",
    "sign": "[1.0, -1.0, -1.0, 1.0]",
}
_ROW_DATA = {
    "normal": "[[2.0, -1.0, 0.5], [0.1, 0.3, -0.2]]",
    "logprob": "np.log([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])",
}
_CLASS_TARGET = "[0, 2]"
_ROW_TARGET = "[[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]"
_INDEX_ROWS = "[[0, 2, -1], [1, -1, 0]]"  # class lists ended by -1
_PRIOR = "[0.5, 0.3, 0.2]"


# Several inputs: the example's variable of each argument, and the literal rows of
# the losses of rows ((2, 3) arrays, one per input in turn).
_MULTI_VARS = {"input1": "x1", "input2": "x2", "input": "x", "target": "y", "var": "var",
               "anchor": "a", "positive": "p", "negative": "n"}
_MULTI_ROWS = ["[[2.0, -1.0, 0.5], [0.1, 0.3, -0.2]]", "[[1.0, 0.5, -1.0], [0.3, 0.2, 0.1]]",
               "[[-0.5, 1.0, 0.25], [0.4, -0.3, 0.2]]"]
_ROW_LABELS = "[1.0, -1.0]"


def _multi_example_arrays(spec: LossSpec) -> list[tuple[str, str, str]]:
    arrays: list[tuple[str, str, str]] = []
    for name, domain in zip(spec.arrays, spec.domains):
        if spec.mean_over == "rows":
            data = _ROW_LABELS if name == "target" else _MULTI_ROWS[len(arrays)]
        elif name == "target" or (arrays and domain == "normal"):  # distinct from the first
            data = _POINTWISE_TARGET[domain]
        else:
            data = _POINTWISE_DATA[domain]
        arrays.append((_MULTI_VARS[name], f"np.array({data})", name))
    return arrays


def _example_arrays(spec: LossSpec) -> list[tuple[str, str, str]]:
    """(variable name, NumPy expression, argument name) of the example's arrays,
    in call order."""
    if spec.multi_input:
        return _multi_example_arrays(spec)
    x = "w" if spec.family == "penalty" else "x"
    if spec.kind == "rowwise":
        data = _ROW_DATA[spec.input_domain]
        arrays = [(x, data if data.startswith("np.") else f"np.array({data})", spec.input_name)]
        target = {"real": _ROW_TARGET, "index_rows": _INDEX_ROWS}.get(spec.target, _CLASS_TARGET)
        arrays.append(("y", f"np.array({target})", "target"))
    else:
        arrays = [(x, f"np.array({_POINTWISE_DATA[spec.input_domain]})", spec.input_name)]
        if spec.target != "none":
            arrays.append(("y", f"np.array({_POINTWISE_TARGET[spec.target_domain]})", "target"))
    arrays += [(a.name, f"np.array({_PRIOR})", a.name) for a in spec.array_params if a.required]
    return arrays


def _evaluate(expr: str) -> np.ndarray:
    return np.asarray(eval(expr, {"np": np}))  # our own literals above, nothing else


def _shown(value: Any) -> str:
    """How the Examples print a value or a gradient: 6 decimals."""
    if isinstance(value, np.ndarray):
        return repr(np.round(value, 6) + 0.0)  # + 0.0: a zero prints as 0., never -0.
    return repr(round(float(value), 6))


# name -> _reference_results: the NumPy, PyTorch and Dask docstrings of a loss show the
# same results, computed once.
_RESULTS: dict[str, tuple[Any, Any, int | None]] = {}


def _reference_results(spec: LossSpec) -> tuple[Any, Any, int | None]:
    """(value, grad, n_correct) of the example, from fastloss.reference."""
    if spec.name not in _RESULTS:
        _RESULTS[spec.name] = _compute_results(spec)
    return _RESULTS[spec.name]


def _compute_results(spec: LossSpec) -> tuple[Any, Any, int | None]:
    from . import reference

    arrays = [_evaluate(e) for _, e, _ in _example_arrays(spec)]
    value, grad = getattr(reference, spec.name)(*arrays)
    n_correct = None
    if spec.accuracy_option:
        x, y = arrays[0], arrays[1]
        if spec.kind == "pointwise":  # the sign of the logit against the 0/1 target
            x, y = x.reshape(-1), (y.reshape(-1) > 0.5).astype(np.int64)
        n_correct = round(reference.accuracy(x, y, reduction="sum")[0])
    return value, grad, n_correct


def _example_setup(spec: LossSpec) -> list[str]:
    """The lines that build the example's NumPy arrays."""
    return [f">>> {var} = {expr}" for var, expr, _ in _example_arrays(spec)]


def _grad_names(spec: LossSpec) -> list[str]:
    return [f"grad_{_MULTI_VARS[k]}" for k in spec.inputs]


def _multi_examples(spec: LossSpec) -> list[str]:
    value, grads, _ = _reference_results(spec)
    names = [v for v, _, _ in _example_arrays(spec)]
    call = f"fastloss.{spec.name}({', '.join(names)}"
    gnames = _grad_names(spec)
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import fastloss"]
    lines += _example_setup(spec)
    lines += [f">>> value, ({', '.join(gnames)}) = {call}, return_grad=True)",
              ">>> round(value, 6)", _shown(value)]
    for g, gv in zip(gnames, grads):
        lines += [f">>> {g}.round(6)", _shown(gv)]
    inputs = [_MULTI_VARS[k] for k in spec.inputs]
    lines += ["", "The gradients can go into preallocated buffers, reused call after call:", "",
              f">>> bufs = ({', '.join(f'np.empty_like({v})' for v in inputs)})",
              f">>> value, grads = {call}, out=bufs)",
              ">>> all(g is b for g, b in zip(grads, bufs))", "True"]
    return lines


def _examples(spec: LossSpec) -> list[str]:
    if spec.multi_input:
        return _multi_examples(spec)
    value, grad, n_correct = _reference_results(spec)
    names = [v for v, _, _ in _example_arrays(spec)]
    call = f"fastloss.{spec.name}({', '.join(names)}"
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import fastloss"]
    lines += _example_setup(spec)
    if not spec.differentiable:
        return lines + [f">>> {call})", _shown(value)]
    lines += [f">>> value, grad = {call}, return_grad=True)", ">>> round(value, 6)",
              _shown(value), ">>> grad.round(6)", _shown(grad)]
    if spec.accuracy_option:
        lines += [f">>> value, grad, n_correct = {call}, return_grad=True, return_accuracy=True)",
                  ">>> n_correct", str(n_correct)]
    lines += ["", "The gradient can go into a preallocated buffer, reused call after call:", "",
              f">>> buf = np.empty_like({names[0]})",
              f">>> value, grad = {call}, out=buf)", ">>> grad is buf", "True"]
    return lines


def _math(spec: LossSpec) -> list[str]:
    unit = "row" if spec.kind == "rowwise" or spec.mean_over == "rows" else "element"
    if spec.family == "penalty":
        lines = ["The penalty and its gradient:", "", ".. math::", "", f"    {spec.formula}"]
    else:
        lines = [f"The loss of {unit} i" + (" and its gradient:" if spec.gradient else ":"),
                 "", ".. math::", "", f"    {spec.formula}"]
    if spec.gradient:
        lines += ["", ".. math::", "", f"    {spec.gradient}"]
    if spec.hessian:
        lines += ["", "The diagonal of its Hessian (``return_hessian=True``):", "", ".. math::", "",
                  f"    {spec.hessian_formula}"]
    return lines + [""]


_N_THREADS = [
    "n_threads : int, optional",
    "    OpenMP threads; None uses omp_get_max_threads() of the calling thread, so "
    "OMP_NUM_THREADS and threadpoolctl limits apply. Negative values count from the usable "
    "cores as joblib's n_jobs: -1 all of them, -2 all but one. Results do not depend on it; "
    "values above 256 count as 256.",
]


# What LossSpec.shapes admits besides (N, C), as the docstrings say it.
_SHAPE_DOCS = {
    "unbatched": " Or shape (C,): one unbatched row (target: a 0-d class index, or a (C,) "
                 "row; reduction 'none' gives a 0-d value).",
    "scalar": " Or a 0-d score: one row of one class.",
    "spatial": " Or shape (N, C, d1, ..., dk): a row of C scores at each of the d1...dk "
               "positions of each sample (class targets (N, d1, ..., dk); 'none' gives that "
               "shape; 'mean' averages over the positions; the gradient comes back in the "
               "input's layout, computed without a transposed copy).",
}


def _notes(spec: LossSpec) -> list[str]:
    notes = []
    if spec.notes:
        notes.append(spec.notes)
    if spec.torch:
        notes.append(f"Same semantics as torch.nn.functional.{spec.torch}.")
    if spec.peers:
        notes.append("Related: " + ", ".join(spec.peers) + ".")
    notes.append(f"Reference implementation: fastloss.reference.{spec.name}.")
    return ["", "Notes", "-----"] + notes


def _multi_docstring(spec: LossSpec, examples: list[str] | None) -> str:
    """The docstring of a loss of several differentiable inputs (kind "multi")."""
    first = spec.inputs[0]
    rows = spec.mean_over == "rows"
    lines = [spec.summary, ""] + _math(spec) + ["Parameters", "----------"]
    for name in spec.arrays:
        if name == "target":
            what = {"real": f"Same shape as {first}; converted to its dtype.",
                    "broadcast": f"Any shape that broadcasts to {first}'s.",
                    "row_label": "One label per row: shape (N,), or 0-d for unbatched rows."}
            lines += ["target : array_like", "    " + what[spec.target]]
        elif name == first:
            lines += [f"{name} : array_like of float32 or float64",
                      "    Shape (N, D): N rows of D features" + (
                          "; or (D,), one unbatched row." if "unbatched" in spec.shapes else ".")
                      if rows else "    Any shape."]
        else:
            shape = f"{first}'s shape" + (
                f", or that shape without its last axis, or with a 1 in place of one axis "
                f"(shared along it), or one value (shared by all)" if name in spec.reduced_inputs
                else "")
            lines += [f"{name} : array_like", f"    {shape}; converted to {first}'s dtype."
                      + (" Must be >= 0." if name in spec.nonnegative else "")]
    red = ", ".join(f'"{r}"' for r in spec.reductions)
    unit = "rows" if rows else "elements"
    lines += [f'reduction : {{{red}}}, default "{spec.default_reduction}"',
              f'    "mean": the mean of the {unit}\' losses; "sum": their sum; "none": the '
              f"array of them ({'shape (N,), 0-d for one row' if rows else f'{first}' + chr(39) + 's shape'})."]
    grads = ", ".join(f"d value / d {k}" for k in spec.inputs)
    lines += [
        "return_grad : bool, default False",
        f"    Also return the gradients ({grads}), computed in the same pass.",
        "return_hessian : bool, default False",
        f"    Not available: {spec.name} has no Hessian in fastloss yet (ValueError).",
        "out : tuple of ndarray, optional",
        f"    One C-contiguous writeable buffer per input ({', '.join(spec.inputs)}, in that "
        "order), each of its input's shape and dtype, that receives its gradient. Implies "
        "return_grad.",
    ] + _N_THREADS + _param_lines(spec)
    lines += ["", "Returns", "-------", "value : float or ndarray",
              f'    A Python float; for reduction="none", an array of {first}\'s dtype.',
              "grads : tuple of ndarray",
              f"    Only with return_grad=True or out: ({grads}), each of its input's shape "
              'and dtype; for reduction="none", the derivatives of each ' + unit[:-1] + "'s loss."]
    lines += _notes(spec)
    lines += _examples(spec) if examples is None else examples
    return "\n".join(lines)


def docstring(spec: LossSpec, examples: list[str] | None = None) -> str:
    """The numpydoc docstring of ``fastloss.<loss>``; ``examples`` replaces its
    Examples section (the PyTorch and Dask wrappers show their own)."""
    if spec.multi_input:
        return _multi_docstring(spec, examples)
    x = spec.input_name
    rowwise = spec.kind == "rowwise"
    lines = [spec.summary, ""] + _math(spec)
    lines += ["Parameters", "----------", f"{x} : array_like of float32 or float64"]
    if rowwise:
        lines.append("    Shape (N, C): N rows (samples) of C class scores; any strides."
                     + (" Or shape (N,): one binary logit per row." if spec.binary_input else "")
                     + "".join(_SHAPE_DOCS[s] for s in spec.shapes))
    else:
        lines.append("    Any shape; the first axis is the row (sample) axis.")
    if spec.target != "none":
        target = _TARGETS[spec.target].format(x=x)
        if spec.binary_input:
            target += " With (N,) logits, also 0/1 floats of the logits' shape."
        lines += ["target : array_like", "    " + target]
    if spec.family == "penalty":
        lines += _param_lines(spec)
    lines += _array_param_lines(spec)
    red = ", ".join(f'"{r}"' for r in spec.reductions)
    lines += [f'reduction : {{{red}}}, default "{spec.default_reduction}"']
    texts = {**_REDUCTION, **_ROWWISE_REDUCTION, "mean": _ROWWISE_REDUCTION["mean"][spec.mean_over]} \
        if rowwise else _REDUCTION
    lines += [f'    "{r}": {texts[r]}.' for r in spec.reductions]
    if spec.sample_weight:
        lines += ["sample_weight : array_like of shape (N,), optional",
                  f"    Non-negative weight w of each row of {x} (shape (N, ...))."]
    if spec.differentiable:
        lines += [
            "return_grad : bool, default False",
            "    Also return the gradient of the value, computed in the same pass.",
            "return_hessian : bool, default False",
            ("    Also return the gradient and the diagonal of the Hessian of the value (the "
             "second derivative of each element's term, with the gradient's weights and "
             "scaling), from the same pass." if spec.hessian else
             f"    Not available: {spec.name} has no Hessian in fastloss yet (ValueError)."),
            "out : ndarray or (ndarray, ndarray), optional",
            f"    C-contiguous writeable array of {x}'s shape and dtype that receives the gradient "
            f"(may be {x} itself). Implies return_grad."
            + (" A pair of two such arrays receives the gradient and the Hessian's diagonal, "
               "and implies return_hessian." if spec.hessian else ""),
        ]
    if spec.accuracy_option and rowwise:
        lines += ["return_accuracy : bool, default False",
                  "    Also return the number of rows (not ignored) whose first maximal score is "
                  "the target class, from the same pass (class-index targets)."]
    elif spec.accuracy_option:
        lines += ["return_accuracy : bool, default False",
                  "    Also return the number of elements whose logit's sign is the target's: "
                  "x > 0 where y > 0.5, x <= 0 where y <= 0.5 (a NaN counts as wrong); an "
                  "unweighted count, from a second pass over the arrays in C."]
    lines += _N_THREADS
    if spec.family != "penalty":
        lines += _param_lines(spec)
    shape = "of shape (N,)" if rowwise else "of the input's shape"
    lines += ["", "Returns", "-------",
              "value : float or ndarray",
              f'    A Python float; for reduction="none", an array of the input\'s dtype {shape}.']
    if spec.differentiable:
        lines += ["grad : ndarray",
                  f"    Only with return_grad=True or out: d value / d {x}, of {x}'s shape and "
                  'dtype; for reduction="none", d value[i] / d input[i]'
                  + (" (row i)." if rowwise else ".")]
    if spec.hessian:
        lines += ["hess : ndarray",
                  f"    Only with return_hessian=True or a pair for out: the diagonal of the Hessian "
                  f"of the value with respect to {x}, of {x}'s shape and dtype"
                  + (" (row i's block for row i)." if rowwise else ".")]
    if spec.accuracy_option:
        what = "rows whose top-1 prediction is the target" if rowwise else \
            "elements whose logit's sign is the target's"
        lines += ["n_correct : int", f"    Only with return_accuracy=True: {what}."]
    lines += _notes(spec)
    lines += _examples(spec) if examples is None else examples
    return "\n".join(lines)


def _torch_value(expr: str) -> str:
    """The tensor of an example array: float64 like the reference, class indices int64."""
    if not expr.startswith("np.array("):
        return f"torch.from_numpy({expr})"
    data = expr[len("np.array("):-1]
    return f"torch.tensor({data}{', dtype=torch.float64' if '.' in data else ''})"


def _multi_torch_docstring(spec: LossSpec) -> str:
    value, grads, _ = _reference_results(spec)
    inputs = ", ".join(f"``{k}``" for k in spec.inputs)
    head = (f"``fastloss.{spec.name}`` on CPU tensors, differentiable with respect to {inputs} "
            f"through autograd.\n\nArguments as ``fastloss.{spec.name}`` (below; without "
            "return_grad and out), tensors or arrays. Returns a tensor of the inputs' dtype: a "
            "scalar for \"mean\"/\"sum\", the losses for \"none\".\n\n")
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import torch",
             ">>> import fastloss.torch as flt"]
    arrays = _example_arrays(spec)
    for var, expr, name in arrays:
        t = _torch_value(expr)
        lines.append(f">>> {var} = {t}.requires_grad_()" if name in spec.inputs
                     else f">>> {var} = {t}")
    call = f"flt.{spec.name}({', '.join(v for v, _, _ in arrays)})"
    lines += [f">>> loss = {call}", ">>> loss.backward()", ">>> round(loss.item(), 6)",
              _shown(value)]
    for (var, _, name) in arrays:
        if name in spec.inputs:
            lines += [f">>> {var}.grad.numpy().round(6)", _shown(grads[spec.inputs.index(name)])]
    return head + docstring(spec, lines)


def _multi_dask_docstring(spec: LossSpec) -> str:
    value, grads, _ = _reference_results(spec)
    head = (f"``fastloss.{spec.name}`` over Dask arrays, chunk by chunk (see "
            "``fastloss.dask``).\n\nArguments as the in-memory function (below; ``out`` "
            "excepted), plus ``split_every``: the fan-in of the exact tree reduction. Returns "
            "lazy Dask arrays: the value (0-d, or the losses for reduction=\"none\"), then "
            "with return_grad=True the tuple of gradients, each chunked like the first input "
            "(a reduced input's summed to its shape).\n\n")
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import dask",
             ">>> import dask.array as da", ">>> import fastloss.dask as fld"]
    arrays = _example_arrays(spec)
    chunks = 1 if spec.mean_over == "rows" else 2
    for var, expr, _ in arrays:
        lines.append(f">>> {var} = da.from_array({expr}, chunks={chunks})")
    call = f"fld.{spec.name}({', '.join(v for v, _, _ in arrays)}"
    gnames = _grad_names(spec)
    lines += [f">>> value, grads = {call}, return_grad=True)",
              f">>> value, ({', '.join(gnames)}) = dask.compute(value, grads)",
              ">>> round(float(value), 6)", _shown(value)]
    for g, gv in zip(gnames, grads):
        lines += [f">>> {g}.round(6)", _shown(gv)]
    return head + docstring(spec, lines)


def torch_docstring(spec: LossSpec) -> str:
    """The docstring of ``fastloss.torch.<loss>``."""
    if spec.multi_input:
        return _multi_torch_docstring(spec)
    value, grad, _ = _reference_results(spec)
    x = spec.input_name
    head = (f"``fastloss.{spec.name}`` on CPU tensors, differentiable with respect to ``{x}`` "
            f"through autograd.\n\nArguments as ``fastloss.{spec.name}`` (below; without "
            "return_grad and out), tensors or arrays. Returns a tensor of the input's dtype: a "
            "scalar for \"mean\"/\"sum\", the per-element losses for \"none\""
            + ("; with return_accuracy=True, the pair (loss, n_correct)." if spec.accuracy_option
               else ".") + "\n\n")
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import torch",
             ">>> import fastloss.torch as flt"]
    arrays = _example_arrays(spec)
    for i, (var, expr, _) in enumerate(arrays):
        t = _torch_value(expr)
        if i == 0 and spec.differentiable:
            t = f"{t}.requires_grad_()"
        lines.append(f">>> {var} = {t}")
    call = f"flt.{spec.name}({', '.join(v for v, _, _ in arrays)})"
    if not spec.differentiable:
        lines += [f">>> round({call}.item(), 6)", _shown(value)]
    else:
        lines += [f">>> loss = {call}", ">>> loss.backward()", ">>> round(loss.item(), 6)",
                  _shown(value), f">>> {arrays[0][0]}.grad.numpy().round(6)", _shown(grad)]
    return head + docstring(spec, lines)


def dask_docstring(spec: LossSpec) -> str:
    """The docstring of ``fastloss.dask.<loss>``."""
    if spec.multi_input:
        return _multi_dask_docstring(spec)
    value, grad, _ = _reference_results(spec)
    head = (f"``fastloss.{spec.name}`` over Dask arrays, chunk by chunk (see "
            "``fastloss.dask``).\n\nArguments as the in-memory function (below; ``out`` "
            "excepted), plus ``split_every``: the fan-in of the exact tree reduction. Returns "
            "lazy Dask arrays: the value (0-d, or the per-element losses for "
            "reduction=\"none\"), then the gradient with the input's chunks (return_grad=True), "
            "then the correct count (return_accuracy=True).\n\n")
    lines = ["", "Examples", "--------", ">>> import numpy as np", ">>> import dask",
             ">>> import dask.array as da", ">>> import fastloss.dask as fld"]
    arrays = _example_arrays(spec)
    # pointwise: chunks of 2 elements; row-wise: one row per chunk (whole rows)
    chunks = 2 if spec.kind == "pointwise" else 1
    for i, (var, expr, name) in enumerate(arrays):
        lines.append(f">>> {var} = da.from_array({expr}, chunks={chunks})"
                     if name in (spec.input_name, "target") else f">>> {var} = {expr}")
    call = f"fld.{spec.name}({', '.join(v for v, _, _ in arrays)}"
    if not spec.differentiable:
        lines += [f">>> round(float({call}).compute()), 6)", _shown(value)]
    else:
        lines += [f">>> value, grad = dask.compute(*{call}, return_grad=True))",
                  ">>> round(float(value), 6)", _shown(value), ">>> grad.round(6)", _shown(grad)]
    return head + docstring(spec, lines)


def reference_docstring(spec: LossSpec) -> str:
    """The docstring of ``fastloss.reference.<loss>``."""
    arrays = _example_arrays(spec)
    names = ", ".join(v for v, _, _ in arrays)
    lines = [f"{spec.summary} Plain NumPy float64 definition of ``fastloss.{spec.name}``.", "",
             f"Takes the arguments of ``fastloss.{spec.name}`` (without return_grad, out and "
             "n_threads) and returns ``(value, grad)`` in float64"
             + (" (grad: one gradient per input, in signature order)." if spec.multi_input else
                " (grad is zero: a metric)." if not spec.differentiable else
                ("; ``(value, grad, hess)`` with return_hessian=True." if spec.hessian else ".")),
             ""]
    lines += _math(spec)
    lines += ["Examples", "--------", ">>> import numpy as np", ">>> import fastloss"]
    lines += _example_setup(spec)
    lines.append(f">>> value, grad = fastloss.reference.{spec.name}({names})")
    if spec.multi_input:
        lines += [f">>> fast_value, fast_grad = fastloss.{spec.name}({names}, return_grad=True)",
                  ">>> bool(np.isclose(value, fast_value) and all(np.allclose(a, b) for a, b in "
                  "zip(grad, fast_grad)))", "True"]
    elif spec.differentiable:
        lines += [f">>> fast_value, fast_grad = fastloss.{spec.name}({names}, return_grad=True)",
                  ">>> bool(np.isclose(value, fast_value) and np.allclose(grad, fast_grad))",
                  "True"]
    else:
        lines += [f">>> bool(np.isclose(value, fastloss.{spec.name}({names})))", "True"]
    return "\n".join(lines)
