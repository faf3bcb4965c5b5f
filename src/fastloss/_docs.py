"""Numpydoc docstrings of the public losses, generated from their registry entries."""

from __future__ import annotations

from typing import Any

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
        lines.append(f"{a.name} : array_like of shape (C,){'' if a.required else ', optional'}")
        lines.append(f"    {a.doc} C is the length of the input's last axis."
                     + ("" if a.required else f" None: {a.fill} for every class."))
    return lines


def docstring(spec: LossSpec) -> str:
    x = spec.input_name
    rowwise = spec.kind == "rowwise"
    unit = "row" if rowwise else "element"
    lines = [spec.summary, ""]
    lines += [f"Loss of {unit} i: ``{spec.formula}``", "",
              f"Gradient of {unit} i: ``{spec.gradient}``", ""]
    lines += ["Parameters", "----------", f"{x} : array_like of float32 or float64"]
    if rowwise:
        lines.append("    Shape (N, C): N rows (samples) of C class scores; any strides."
                     + (" Or shape (N,): one binary logit per row." if spec.binary_input else ""))
    else:
        lines.append("    Any shape; the first axis is the row (sample) axis.")
    if spec.target != "none":
        lines += ["target : array_like", "    " + _TARGETS[spec.target].format(x=x)]
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
            "out : ndarray, optional",
            f"    C-contiguous writeable array of {x}'s shape and dtype that receives the gradient "
            f"(may be {x} itself). Implies return_grad.",
        ]
    if spec.accuracy_option:
        lines += ["return_accuracy : bool, default False",
                  "    Also return the number of rows (not ignored) whose first maximal score is "
                  "the target class, from the same pass (class-index targets)."]
    lines += [
        "n_threads : int, optional",
        "    OpenMP threads; None uses omp_get_max_threads() of the calling thread, so "
        "OMP_NUM_THREADS and threadpoolctl limits apply. Results do not depend on it; "
        "values above 256 count as 256.",
    ]
    if spec.family != "penalty":
        lines += _param_lines(spec)
    none_shape = "(N,)" if rowwise else "the input's shape"
    lines += ["", "Returns", "-------",
              "value : float or ndarray",
              f'    A Python float, or an array of the input\'s dtype and shape {none_shape} for '
              'reduction="none".']
    if spec.differentiable:
        lines += ["grad : ndarray",
                  f"    Only with return_grad=True or out: d value / d {x}, {x}'s shape and dtype; "
                  'for reduction="none", d value[i] / d input[i]' + (" (row i)." if rowwise else ".")]
    if spec.accuracy_option:
        lines += ["n_correct : int",
                  "    Only with return_accuracy=True: rows whose top-1 prediction is the target."]
    notes = []
    if spec.notes:
        notes.append(spec.notes)
    if spec.torch:
        notes.append(f"Same semantics as torch.nn.functional.{spec.torch}.")
    if spec.peers:
        notes.append("Related: " + ", ".join(spec.peers) + ".")
    notes.append(f"Reference implementation: fastloss.reference.{spec.name}.")
    lines += ["", "Notes", "-----"] + notes
    return "\n".join(lines)
