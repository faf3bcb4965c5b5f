"""The registry: one entry per loss, the single place where a loss is described.

Pure data with no import of the compiled extension, so that the build's generate
step (``tools/gen_kernels.py``, which writes the kernels from it), the public API,
the documentation, the test battery and the benchmarks can all read it.

Adding a loss: the whole checklist (the files written by hand, the generated ones
and the commands that regenerate them) is ``docs/adding_a_loss.md``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

REDUCTIONS = ("mean", "sum", "none")


# 2 threads against 1, float32 out= at 8192 elements (the two 4096-element chunks
# split evenly): BCE-with-logits 14.7 -> 10.1 us on avx512, 27.9 -> 15.7 on avx2;
# poisson_nll 10.0 -> 7.9, 17.8 -> 11.9; log_cosh 19.9 -> 12.6, 33.4 -> 18.2. The
# cheap losses keep PARALLEL_MIN: mse_loss at 16384 was 3.4 -> 4.3 us on avx512.
TRANSCENDENTAL_PARALLEL_MIN = 8192


@dataclass(frozen=True)
class Param:
    """A loss parameter: name, default, type and admissible interval."""

    name: str
    default: Any
    type: type = float
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: ``value > low`` instead of ``value >= low``
    high_open: bool = False
    doc: str = ""
    # Values besides the default that the test battery runs (bools: both).
    examples: tuple = ()
    # For int parameters: the admissible values, if only a few (e.g. p in (1, 2)).
    choices: tuple = ()
    # False: the call layer applies it (fastloss._api.CALL_LAYER_PARAMS) before the
    # kernel, which never takes it.
    kernel: bool = True
    # False: PyTorch's function of the same name has no such argument.
    torch: bool = True

    def bounds_text(self) -> str:
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open or self.high is None else "]"
        a = "-inf" if self.low is None else repr(self.low)
        b = "inf" if self.high is None else repr(self.high)
        return f"{lo}{a}, {b}{hi}"


@dataclass(frozen=True)
class ArrayParam:
    """A per-class (per-column) vector parameter, e.g. class weights.

    It has one value per entry of the input's last axis (the class axis of an
    (N, C) input), as PyTorch broadcasts ``weight``/``pos_weight``. ``None``
    (where not ``required``) means every entry equals ``fill``.
    """

    name: str
    fill: float = 1.0
    doc: str = ""
    required: bool = False
    # "nonnegative" (finite, >= 0) or "distribution" (also sums to 1).
    domain: str = "nonnegative"
    # Pointwise: it may also have any shape that broadcasts to the input's (per
    # element, per row ...), as PyTorch's ``weight``: then it weighs each element.
    broadcast: bool = False


@dataclass(frozen=True)
class LossSpec:
    """Everything the package needs to know about one loss.

    kind
        ``"pointwise"``: the loss of element i depends on ``input[i]`` (and
        ``target[i]``) only; the generic pointwise kernel loops over it.
        ``"rowwise"``: the input is (N, C) (class scores of N samples); the
        loss of row i depends on the whole row, and the reductions run over rows.
        ``"multi"``: several differentiable arrays (``arrays``), one gradient each.
    target
        ``"real"``: a float array of the input's shape; ``"none"``: no target
        (penalties on a weight vector); ``"class"``: integer class indices of
        shape (N,), any integer dtype; ``"class_or_prob"``: class indices, or
        class probabilities of the input's shape; ``"index_rows"``: integer rows of
        the input's shape, each listing class indices up to its first -1;
        ``"broadcast"``: real, any shape that broadcasts to the input's; ``"row_label"``:
        one real label per row (kind "multi", mean_over "rows").
    input_name
        Name of the first argument in the public signature.
    mean_over
        Denominator of reduction="mean" (times sample_weight where given):
        ``"elements"``; ``"rows"`` (N); ``"valid_rows"`` (rows whose target is
        not ``ignore_index``); ``"target_weight"`` (PyTorch's weighted mean:
        sum of ``weight[target_i]`` over valid rows; with probability targets,
        N as PyTorch).
    """

    name: str
    family: str
    kind: str
    target: str
    summary: str
    formula: str
    gradient: str
    params: tuple[Param, ...] = ()
    input_name: str = "input"
    default_reduction: str = "mean"
    reductions: tuple[str, ...] = REDUCTIONS
    sample_weight: bool = True
    # Counterparts in other libraries, and how fastloss differs from them.
    torch: str | None = None
    peers: tuple[str, ...] = ()
    notes: str = ""
    # Generated data for the battery/benchmarks/CLI: "normal" or "positive"
    # (e.g. log_input=False Poisson rates) for input and target.
    input_domain: str = "normal"
    target_domain: str = "normal"
    extra: dict = field(default_factory=dict)
    # Per-class vector parameters (weight, pos_weight, prior ...).
    array_params: tuple[ArrayParam, ...] = ()
    # Parameters that come positionally right after the target (required ones first).
    positional: tuple[str, ...] = ()
    # Input values outside this closed interval raise ValueError (NaN passes).
    input_range: tuple[float, float] | None = None
    mean_over: str = "elements"
    # False for metrics: no gradient, no return_grad/out.
    differentiable: bool = True
    # return_accuracy=True also returns the count of correct predictions: rows whose
    # top-1 score is the target (rowwise), or elements whose logit's sign is the
    # target's (pointwise: logits and 0/1 targets).
    accuracy_option: bool = False
    # A rowwise spec that also takes (N,) input as N rows of one binary logit.
    binary_input: bool = False
    # Rowwise: input shapes besides (N, C), as PyTorch takes them. "unbatched": a
    # (C,) row (target: a 0-d class index, or a (C,) row); "scalar": a 0-d score
    # (one row of one class); "spatial": (N, C, d1, ..., dk), one row of C scores per
    # position (class targets (N, d1, ..., dk), per-position losses for "none").
    shapes: tuple[str, ...] = ()
    # Its class-target (or real-target) row function has an 8-rows-at-once variant
    # ``<kernel>_rows8`` in _rowwise_math.pxd, used for rows of few classes (real
    # targets: contiguous rows only).
    rows8: bool = False
    # Pointwise, float32 data: the element math also exists in float32 lanes
    # (<name>_lg32 and the predicate <name>_lanes32 in _pointwise_math.pxd, which
    # says for which (x, y) those keep the accuracy bound); the other elements
    # take the float64 math.
    float32_lanes: bool = False
    # Pointwise: elements from which the kernel runs in parallel when n_threads > 1;
    # 0 means PARALLEL_MIN (32768, _common.pxd). The losses with transcendental
    # element math set TRANSCENDENTAL_PARALLEL_MIN: 2 threads pay from there.
    parallel_min: int = 0
    # The diagonal of the Hessian (LaTeX, as formula and gradient), computed by the
    # kernels for return_hessian=True; "" where it is not implemented.
    hessian_formula: str = ""
    # Pointwise: the second derivative is a constant of the parameters wherever the
    # element is a number (_pointwise_math.pxd has <name>_hk and <name>_hs in place
    # of <name>_h): the kernels scale it once per chunk, in the data's type.
    constant_hessian: bool = False
    # kind "multi" (several differentiable arrays): the array arguments in signature
    # order, "target" among them if there is one; every other one is differentiated
    # (``inputs``). ``domains``: what the battery draws for each (see input_domain).
    # One loss per element of the first input (mean_over "elements", the inputs of
    # its shape) or per row of its last axis (mean_over "rows": (N, D) or (D,)).
    arrays: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    # kind "multi": inputs that may also have fewer entries than the first, as
    # PyTorch's homoscedastic var: the first's shape without its last axis, with one
    # axis of size 1, or one value; their gradient is summed over the axes they lack.
    reduced_inputs: tuple[str, ...] = ()
    # kind "multi": inputs whose entries must be >= 0 (a negative one is a ValueError).
    nonnegative: tuple[str, ...] = ()
    # Rowwise: the loss of a row is the mean over its C entries of this pointwise loss
    # (same arguments): a weight per element (an ArrayParam.broadcast given in a shape
    # other than (C,)) runs that loss's kernel, its per-element losses summed per row.
    row_mean_of: str = ""

    @functools.cached_property
    def inputs(self) -> tuple[str, ...]:
        """The differentiable array arguments, in signature order: each gets a gradient
        (cached: read on every call)."""
        return tuple(a for a in self.arrays if a != "target") or (self.input_name,)

    @property
    def multi_input(self) -> bool:
        """Whether return_grad=True gives a tuple of gradients (one per input)."""
        return self.kind == "multi"

    @property
    def hessian(self) -> bool:
        """Whether the loss takes return_hessian=True."""
        return self.differentiable and bool(self.hessian_formula)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @functools.cached_property
    def kernel_params(self) -> tuple[Param, ...]:
        """The parameters the compiled kernels take (in order; cached: read every call)."""
        return tuple(p for p in self.params if p.kernel)

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    @property
    def array_param_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.array_params)

    @property
    def kernels(self) -> dict[str, str]:
        """Rowwise: compiled kernel name (before the _f32/_f64 suffix) per target
        kind, "class" (indices), "prob" (probability rows) or "real" (target rows);
        its row function in _rowwise_math.pxd is ``<kernel name>_row``."""
        if self.kind != "rowwise":
            return {}
        kinds = {"class": ("class",), "real": ("real",), "class_or_prob": ("class", "prob"),
                 "index_rows": ("index",)}[self.target]
        return {k: f"{self.name}_{k}" if len(kinds) > 1 else self.name for k in kinds}

    def cases(self) -> list[dict[str, Any]]:
        """Parameter sets to test: the defaults, then each example value in turn."""
        out = [self.defaults]
        for p in self.params:
            out += [{**self.defaults, p.name: v} for v in p.examples]
        return out


_PROB: dict[str, Any] = dict(low=0.0, high=1.0)
_CLASS_WEIGHT = ArrayParam("weight", doc="Weight w_c of each class (entry of the last axis).")
_ELEMENT_WEIGHT = ArrayParam("weight", broadcast=True,
                             doc="Weight of each element's loss: w_c per class (the last axis), or "
                                 "any shape that broadcasts to the input's (per element, per row), "
                                 "as PyTorch's weight.")
_BINARY_SMOOTHING = Param("label_smoothing", 0.0, **_PROB, kernel=False, torch=False, examples=(0.2,),
                          doc="Targets y become y (1 - s) + s / 2 (Keras's binary label "
                              "smoothing).")
_IGNORE_INDEX = Param("ignore_index", -100, type=int, examples=(0,),
                      doc="Target value whose rows are skipped (no loss, zero gradient).")

LOSSES: tuple[LossSpec, ...] = (
    LossSpec(
        name="mse_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Mean squared error.",
        formula=r"l_i = (x_i - y_i)^2",
        gradient=r"\frac{\partial l_i}{\partial x_i} = 2 (x_i - y_i)",
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = 2",
        constant_hessian=True,
        torch="mse_loss",
        peers=("keras.losses.MeanSquaredError", "sklearn.metrics.mean_squared_error"),
    ),
    LossSpec(
        name="l1_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Mean absolute error.",
        formula=r"l_i = \vert x_i - y_i \vert",
        gradient=(r"\frac{\partial l_i}{\partial x_i} = \operatorname{sign}(x_i - y_i), \quad "
                  r"\operatorname{sign}(0) = 0 \text{ (as PyTorch)}"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = 0 \text{ (the kink at } x_i = y_i \text{ too)}",
        constant_hessian=True,
        torch="l1_loss",
        peers=("keras.losses.MeanAbsoluteError", "sklearn.metrics.mean_absolute_error"),
    ),
    LossSpec(
        name="huber_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Huber loss: quadratic near zero, linear in the tails.",
        formula=(r"l_i = \frac{d_i^2}{2} \text{ if } \vert d_i \vert < \delta \text{, else } "
                 r"\delta \left(\vert d_i \vert - \frac{\delta}{2}\right), \quad d_i = x_i - y_i"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = d_i \text{ if } \vert d_i \vert < \delta "
                  r"\text{, else } \delta \operatorname{sign}(d_i)"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = [\vert d_i \vert < \delta] \text{ (0 at the kink } \vert d_i \vert = \delta)",
        params=(Param("delta", 1.0, low=0.0, low_open=True, examples=(0.3, 2.5),
                      doc="Where the loss turns from quadratic to linear."),),
        torch="huber_loss",
        peers=("keras.losses.Huber",),
    ),
    LossSpec(
        name="smooth_l1_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Smooth L1 loss: Huber loss divided by beta; beta = 0 is the L1 loss.",
        formula=(r"l_i = \frac{d_i^2}{2 \beta} \text{ if } \vert d_i \vert < \beta \text{, else "
                 r"} \vert d_i \vert - \frac{\beta}{2}, \quad d_i = x_i - y_i"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = \frac{d_i}{\beta} \text{ if } \vert d_i "
                  r"\vert < \beta \text{, else } \operatorname{sign}(d_i)"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = \frac{1}{\beta} [\vert d_i \vert < \beta] \text{ (0 at the kink; 0 for } \beta = 0)",
        params=(Param("beta", 1.0, low=0.0, examples=(0.0, 0.4),
                      doc="Where the loss turns from quadratic to linear; 0 gives l1_loss."),),
        torch="smooth_l1_loss",
    ),
    LossSpec(
        name="poisson_nll_loss",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="regression",
        kind="pointwise",
        target="real",
        summary="Negative log-likelihood of a Poisson target.",
        formula=(r"l_i = e^{x_i} - y_i x_i \text{ (log\_input), else } x_i - y_i \log(x_i + "
                 r"\epsilon)\text{; full adds } y_i \log y_i - y_i + \frac{1}{2} \log(2 \pi y_i) "
                 r"\text{ where } y_i > 1"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = e^{x_i} - y_i \text{ (log\_input), else "
                  r"} 1 - \frac{y_i}{x_i + \epsilon}"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = e^{x_i} \text{ (log\_input), else } \frac{y_i}{(x_i + \epsilon)^2}",
        params=(
            Param("log_input", True, type=bool, examples=(False,), doc="Whether ``input`` is the log of the rate."),
            Param("full", False, type=bool, examples=(True,), doc="Add the Stirling approximation term."),
            Param("eps", 1e-8, low=0.0, examples=(0.5,), doc="Added to the rate before the log when not log_input."),
        ),
        torch="poisson_nll_loss",
        peers=("keras.losses.Poisson",),
        notes="Like PyTorch, the target is not checked for being a count.",
        input_domain="positive",
        target_domain="counts",
    ),
    LossSpec(
        name="log_cosh_loss",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="regression",
        kind="pointwise",
        target="real",
        summary="Logarithm of the hyperbolic cosine of the error.",
        formula=r"l_i = \log \cosh(x_i - y_i)",
        gradient=r"\frac{\partial l_i}{\partial x_i} = \tanh(x_i - y_i)",
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = \operatorname{sech}^2(x_i - y_i) = \frac{4 E_i}{(1 + E_i)^2}, \quad E_i = e^{-2 \vert x_i - y_i \vert}",
        peers=("keras.losses.LogCosh",),
        notes="Computed as log1p(2 sinh(d/2)^2) for |d| < 1 and |d| + log1p(exp(-2|d|)) - log 2 "
              "otherwise: accurate for tiny |d| and finite up to the float maximum.",
    ),
    LossSpec(
        name="quantile_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Pinball (quantile) loss.",
        formula=r"l_i = \max(q d_i, (q - 1) d_i), \quad d_i = y_i - x_i",
        gradient=(r"\frac{\partial l_i}{\partial x_i} = -q \text{ if } d_i > 0 \text{, } 1 - q "
                  r"\text{ if } d_i < 0 \text{, } 0 \text{ if } d_i = 0"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = 0 \text{ (the kink at } d_i = 0 \text{ too)}",
        constant_hessian=True,
        params=(Param("quantile", 0.5, **_PROB, examples=(0.1, 0.9), doc="The quantile q to estimate."),),
        peers=("sklearn.metrics.mean_pinball_loss",),
        notes="At d = 0 the subgradient 0 is used (it lies in [-q, 1 - q] for every q); "
              "quantile=0.5 is half the L1 loss.",
    ),
    LossSpec(
        name="l1_penalty",
        family="penalty",
        kind="pointwise",
        target="none",
        summary="L1 (lasso) penalty on a weight vector.",
        formula=r"\alpha \sum_i \vert w_i \vert",
        gradient=(r"\frac{\partial}{\partial w_i} = \alpha \operatorname{sign}(w_i), \quad "
                  r"\operatorname{sign}(0) = 0"),
        hessian_formula=r"\frac{\partial^2}{\partial w_i^2} = 0 \text{ (the kink at } w_i = 0 \text{ too)}",
        constant_hessian=True,
        params=(Param("alpha", 1.0, low=0.0, examples=(0.3,), doc="Penalty strength."),),
        input_name="w",
        default_reduction="sum",
        reductions=("sum", "none"),
        sample_weight=False,
    ),
    LossSpec(
        name="l2_penalty",
        family="penalty",
        kind="pointwise",
        target="none",
        summary="L2 (ridge) penalty on a weight vector, in the weight-decay convention.",
        formula=r"\frac{\alpha}{2} \sum_i w_i^2",
        gradient=r"\frac{\partial}{\partial w_i} = \alpha w_i",
        hessian_formula=r"\frac{\partial^2}{\partial w_i^2} = \alpha",
        constant_hessian=True,
        params=(Param("alpha", 1.0, low=0.0, examples=(0.3,), doc="Penalty strength."),),
        input_name="w",
        default_reduction="sum",
        reductions=("sum", "none"),
        sample_weight=False,
        notes="The factor 1/2 makes the gradient alpha * w, so that alpha is the weight-decay "
              "coefficient of SGD; Keras' L2 regularizer has no 1/2.",
    ),
    LossSpec(
        name="elastic_net_penalty",
        family="penalty",
        kind="pointwise",
        target="none",
        summary="Elastic-net penalty, scikit-learn's parametrisation.",
        formula=(r"\alpha \sum_i \left(r \vert w_i \vert + \frac{1 - r}{2} w_i^2\right), \quad r "
                 r"= \text{l1\_ratio}"),
        gradient=(r"\frac{\partial}{\partial w_i} = \alpha \left(r \operatorname{sign}(w_i) + (1 "
                  r"- r) w_i\right)"),
        hessian_formula=r"\frac{\partial^2}{\partial w_i^2} = \alpha (1 - r)",
        constant_hessian=True,
        params=(
            Param("alpha", 1.0, low=0.0, examples=(0.3,), doc="Penalty strength."),
            Param("l1_ratio", 0.5, **_PROB, examples=(0.0, 1.0), doc="Share of the L1 term."),
        ),
        input_name="w",
        default_reduction="sum",
        reductions=("sum", "none"),
        sample_weight=False,
        peers=("sklearn.linear_model.ElasticNet",),
    ),
    # ---- classification: pointwise (one logit or probability per element) ----
    LossSpec(
        name="binary_cross_entropy",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="classification",
        kind="pointwise",
        target="real",
        summary="Binary cross-entropy of probabilities.",
        formula=(r"l_i = -w_c \left(y_i \max(\log x_i, -100) + (1 - y_i) \max(\log(1 - x_i), "
                 r"-100)\right)"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = w_c \frac{x_i - y_i}{\max(x_i (1 - x_i), "
                  r"10^{-12})}"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = w_c \frac{x_i^2 - 2 x_i y_i + y_i}{(x_i (1 - x_i))^2} \text{, or } \frac{w_c}{10^{-12}} \text{ where the clamp of the gradient holds}",
        array_params=(_ELEMENT_WEIGHT,),
        params=(_BINARY_SMOOTHING,),
        input_range=(0.0, 1.0),
        torch="binary_cross_entropy",
        peers=("keras.losses.BinaryCrossentropy", "sklearn.metrics.log_loss"),
        notes="Probabilities outside [0, 1] raise ValueError (NaN propagates). The logs are clamped "
              "at -100 and the gradient uses PyTorch's max(x (1 - x), 1e-12) denominator, so 0 and 1 "
              "give PyTorch's values; prefer binary_cross_entropy_with_logits.",
        input_domain="unit",
        target_domain="unit",
    ),
    LossSpec(
        name="binary_cross_entropy_with_logits",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="classification",
        kind="pointwise",
        float32_lanes=True,
        accuracy_option=True,
        target="real",
        summary="Binary cross-entropy of logits (sigmoid and BCE in one, overflow-free).",
        formula=(r"l_i = w_c \left((1 - y_i) x_i + (1 + (p_c - 1) y_i) "
                 r"\operatorname{softplus}(-x_i)\right), \quad p = \text{pos\_weight}"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = w_c \left((1 - y_i) \sigma(x_i) - p_c "
                  r"y_i \sigma(-x_i)\right)"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = w_c (1 + (p_c - 1) y_i) \sigma(x_i) \sigma(-x_i)",
        array_params=(_ELEMENT_WEIGHT, ArrayParam(
            "pos_weight", doc="Weight of the positive term of each class (last axis), as PyTorch.")),
        params=(_BINARY_SMOOTHING,),
        torch="binary_cross_entropy_with_logits",
        peers=("keras.losses.BinaryCrossentropy(from_logits=True)", "sklearn.metrics.log_loss"),
        notes="softplus(-x) = max(-x, 0) + log1p(exp(-|x|)): finite for every finite logit.",
        target_domain="unit",
    ),
    LossSpec(
        name="sigmoid_focal_loss",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="classification",
        kind="pointwise",
        target="real",
        summary="Focal loss of logits (torchvision.ops.sigmoid_focal_loss).",
        formula=(r"l_i = a_i b_i u_i^\gamma, \quad b_i = \operatorname{softplus}(x_i) - y_i x_i, "
                 r"\; u_i = 1 - p_t = \sigma(x_i) (1 - y_i) + \sigma(-x_i) y_i, \; a_i = \alpha "
                 r"y_i + (1 - \alpha)(1 - y_i) \text{ (1 if } \alpha < 0)"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = a_i u_i^{\gamma - 1} \left(u_i "
                  r"(\sigma(x_i) - y_i) + \gamma b_i \sigma(x_i) \sigma(-x_i) (1 - 2 y_i)\right)"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = a_i u_i^\gamma \left(s_i + 2 \gamma (\sigma(x_i) - y_i) r_i + \gamma b_i r_i ((\gamma - 1) r_i + 1 - 2 \sigma(x_i))\right), \; s_i = \sigma(x_i) \sigma(-x_i), \; r_i = \frac{s_i (1 - 2 y_i)}{u_i}",
        params=(
            Param("alpha", 0.25, high=1.0, examples=(-1.0, 0.6),
                  doc="Weight of the positive class; a negative value disables the weighting."),
            Param("gamma", 2.0, low=0.0, examples=(0.0, 0.5),
                  doc="Focusing exponent; 0 gives (alpha-weighted) BCE with logits."),
        ),
        peers=("torchvision.ops.sigmoid_focal_loss",),
        notes="Default reduction is 'mean' (torchvision's is 'none'). 1 - p_t is computed from "
              "sigmoid(x) and sigmoid(-x) separately, so no cancellation and no NaN at large |x|.",
        target_domain="unit",
    ),
    LossSpec(
        name="soft_margin_loss",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="classification",
        kind="pointwise",
        float32_lanes=True,
        target="real",
        summary="Two-class logistic loss with targets -1 / 1.",
        formula=r"l_i = \log(1 + e^{-y_i x_i}) = \operatorname{softplus}(-y_i x_i)",
        gradient=r"\frac{\partial l_i}{\partial x_i} = -y_i \sigma(-y_i x_i)",
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = y_i^2 \sigma(y_i x_i) \sigma(-y_i x_i)",
        torch="soft_margin_loss",
        target_domain="sign",
    ),
    LossSpec(
        name="hinge_embedding_loss",
        family="classification",
        kind="pointwise",
        target="real",
        summary="Hinge embedding loss (input: a distance, target: 1 similar / -1 dissimilar).",
        formula=(r"l_i = [y_i \ne -1] \, x_i + [y_i \ne 1] \max(0, m - x_i), \quad m = "
                 r"\text{margin}"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = [y_i \ne -1] - [y_i \ne 1] \, [m - x_i "
                  r"\geq 0]"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = 0",
        constant_hessian=True,
        params=(Param("margin", 1.0, examples=(0.3,), doc="Margin of the dissimilar pairs."),),
        torch="hinge_embedding_loss",
        notes="Exactly PyTorch's formula, also for targets other than -1 and 1; at margin - x = 0 "
              "the subgradient is PyTorch's (-1 on the dissimilar term).",
        target_domain="sign",
    ),
    LossSpec(
        name="kl_div",
        parallel_min=TRANSCENDENTAL_PARALLEL_MIN,
        family="classification",
        kind="pointwise",
        target="real",
        summary="Kullback-Leibler divergence, PyTorch's argument order: input = log q, target = p.",
        formula=r"l_i = y_i \log y_i - y_i x_i \text{; log\_target: } e^{y_i} (y_i - x_i)",
        gradient=r"\frac{\partial l_i}{\partial x_i} = -y_i \text{; log\_target: } -e^{y_i}",
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_i^2} = 0",
        constant_hessian=True,
        params=(Param("log_target", False, type=bool, doc="Whether target holds log-probabilities."),),
        reductions=("mean", "batchmean", "sum", "none"),
        torch="kl_div",
        notes="'batchmean' divides the sum by the number of rows (by sum(sample_weight) with "
              "sample_weight); 'mean' divides by the number of elements, as PyTorch. A zero "
              "target contributes 0.",
        input_domain="logprob",
        target_domain="unit",
    ),
    # ---- classification: rowwise ((N, C) class scores) ----
    LossSpec(
        name="cross_entropy",
        shapes=("unbatched", "spatial"),
        rows8=True,
        family="classification",
        kind="rowwise",
        target="class_or_prob",
        summary="Softmax cross-entropy of (N, C) logits with class-index or class-probability targets.",
        formula=(r"l_i = \sum_c q_{ic} w_c \left(\operatorname{logsumexp}(x_i) - x_{ic}\right), "
                 r"\quad q_{ic} = (1 - s) [c = y_i] + \frac{s}{C} \text{ (probability targets: } "
                 r"(1 - s) y_{ic} + \frac{s}{C}\text{)}, \; s = \text{label\_smoothing}"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = \left(\sum_k q_{ik} w_k\right) "
                  r"\operatorname{softmax}(x_i)_c - q_{ic} w_c"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = \left(\sum_k q_{ik} w_k\right) p_{ic} (1 - p_{ic}), \quad p_i = \operatorname{softmax}(x_i)",
        array_params=(_CLASS_WEIGHT,),
        params=(_IGNORE_INDEX, Param("label_smoothing", 0.0, **_PROB, examples=(0.15,),
                                     doc="Mass moved from the target to the uniform distribution.")),
        mean_over="target_weight",
        accuracy_option=True,
        torch="cross_entropy",
        peers=("keras.losses.SparseCategoricalCrossentropy", "sklearn.metrics.log_loss"),
        notes=("'mean' is PyTorch's weighted mean: divided by the sum of weight[target_i] over the "
               "rows not ignored (by N for probability targets). A -inf logit whose target "
               "probability is 0 contributes 0 (PyTorch gives NaN). return_accuracy=True also "
               "returns the number of rows whose first maximal logit is the target class "
               "(ignored rows excluded), from the same pass."),
    ),
    LossSpec(
        name="nll_loss",
        shapes=("unbatched", "spatial"),
        family="classification",
        kind="rowwise",
        target="class",
        summary="Negative log-likelihood of (N, C) log-probabilities and class-index targets.",
        formula=r"l_i = -w_{y_i} x_{iy_i}",
        gradient=r"\frac{\partial l_i}{\partial x_{ic}} = -w_{y_i} [c = y_i]",
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = 0",
        array_params=(_CLASS_WEIGHT,),
        params=(_IGNORE_INDEX,),
        mean_over="target_weight",
        torch="nll_loss",
        input_domain="logprob",
    ),
    LossSpec(
        name="softmax_focal_loss",
        shapes=("unbatched", "spatial"),
        rows8=True,
        family="classification",
        kind="rowwise",
        target="class",
        summary="Multi-class focal loss of (N, C) logits, in log space.",
        formula=(r"l_i = -\alpha_{y_i} (1 - p_{iy_i})^\gamma \log p_{iy_i}, \quad p_i = "
                 r"\operatorname{softmax}(x_i)"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = \alpha_{y_i} \left((1 - "
                  r"p_{iy_i})^\gamma - \gamma p_{iy_i} \log(p_{iy_i}) (1 - p_{iy_i})^{\gamma - "
                  r"1}\right) (p_{ic} - [c = y_i])"),
        hessian_formula=(r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = \alpha_{y_i} \left(K_i p_{ic} (1 - "
                         r"p_{ic}) - q_i^\gamma D_i \rho_{ic}^2\right), \; K_i = q_i^\gamma + \gamma p_{iy_i} "
                         r"L_i q_i^{\gamma - 1}, \; D_i = \gamma p_{iy_i} (q_i (L_i - 2) - (\gamma - 1) "
                         r"p_{iy_i} L_i), \; q_i = 1 - p_{iy_i}, \; L_i = -\log p_{iy_i}, \; \rho_{ic} = "
                         r"\frac{p_{ic}}{q_i} \; (c \ne y_i), \; \rho_{iy_i} = 1"),
        array_params=(ArrayParam("alpha", doc="Per-class weight alpha_c; None: 1 for every class."),),
        params=(Param("gamma", 2.0, low=0.0, examples=(0.0, 0.5), doc="Focusing exponent."),
                _IGNORE_INDEX),
        mean_over="valid_rows",
        notes=("1 - p_y is summed from the other classes' exponentials (no cancellation), so the "
               "loss is finite and NaN-free at any finite logits; gamma = 0 gives exactly "
               "cross_entropy (with alpha as weight, 'mean' dividing by the row count)."),
    ),
    LossSpec(
        name="cross_entropy_with_prior",
        shapes=("unbatched", "spatial"),
        rows8=True,
        family="classification",
        kind="rowwise",
        target="class",
        summary="Cross-entropy plus prior_weight * KL(prior || softmax(input)) per sample.",
        formula=(r"l_i = \operatorname{logsumexp}(x_i) - x_{iy_i} + \lambda \sum_c \pi_c "
                 r"\left(\log \pi_c - \log \operatorname{softmax}(x_i)_c\right)"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = (1 + \lambda) "
                  r"\operatorname{softmax}(x_i)_c - [c = y_i] - \lambda \pi_c"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = (1 + \lambda) p_{ic} (1 - p_{ic}), \quad p_i = \operatorname{softmax}(x_i)",
        array_params=(ArrayParam("prior", required=True, domain="distribution",
                                 doc="Prior class distribution pi (non-negative, sums to 1)."),),
        params=(Param("prior_weight", 1.0, low=0.0, examples=(0.0, 0.3),
                      doc="Strength lambda of the KL term."), _IGNORE_INDEX),
        positional=("prior", "prior_weight"),
        mean_over="valid_rows",
        notes="Label smoothing with smoothing s is (1 + lambda) times this loss with a uniform "
              "prior and lambda = s / (1 - s), up to a constant.",
    ),
    LossSpec(
        name="multilabel_soft_margin_loss",
        shapes=("unbatched",),
        family="classification",
        rows8=True,
        kind="rowwise",
        target="real",
        summary="Multi-label logistic loss of (N, C) logits with 0/1 targets, averaged over classes.",
        formula=(r"l_i = \frac{1}{C} \sum_c w_c \left(\max(x_{ic}, 0) - y_{ic} x_{ic} + \log(1 + "
                 r"e^{-\vert x_{ic} \vert})\right)"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = \frac{w_c}{C} \left(\sigma(x_{ic}) - "
                  r"y_{ic}\right)"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = \frac{w_c}{C} \sigma(x_{ic}) \sigma(-x_{ic})",
        array_params=(_ELEMENT_WEIGHT,),
        row_mean_of="binary_cross_entropy_with_logits",
        mean_over="rows",
        torch="multilabel_soft_margin_loss",
        target_domain="binary",
    ),
    LossSpec(
        name="multi_margin_loss",
        shapes=("unbatched", "scalar"),
        family="classification",
        kind="rowwise",
        target="class",
        summary="Multi-class hinge loss of (N, C) scores.",
        formula=(r"l_i = \frac{w_{y_i}}{C} \sum_{c \ne y_i} \max(0, m - x_{iy_i} + x_{ic})^p, "
                 r"\quad m = \text{margin}"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = \frac{p \, w_{y_i}}{C} \max(0, m - "
                  r"x_{iy_i} + x_{ic})^{p - 1} \; (c \ne y_i), \quad \frac{\partial "
                  r"l_i}{\partial x_{iy_i}} = -\sum_{c \ne y_i} \frac{\partial l_i}{\partial "
                  r"x_{ic}}"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = \frac{2 w_{y_i}}{C} [p = 2] \, [m - x_{iy_i} + x_{ic} > 0] \; (c \ne y_i), \quad \frac{\partial^2 l_i}{\partial x_{iy_i}^2} = \sum_{c \ne y_i} \frac{\partial^2 l_i}{\partial x_{ic}^2}",
        array_params=(_CLASS_WEIGHT,),
        params=(Param("p", 1, type=int, choices=(1, 2), examples=(2,), doc="Exponent, 1 or 2."),
                Param("margin", 1.0, examples=(0.4,), doc="The margin.")),
        mean_over="rows",
        torch="multi_margin_loss",
        notes="As PyTorch, a term at exactly zero margin has zero gradient.",
    ),
    LossSpec(
        name="multilabel_margin_loss",
        shapes=("unbatched", "scalar"),
        family="classification",
        kind="rowwise",
        target="index_rows",
        summary="Multi-label hinge loss of (N, C) scores; each target row lists its classes up to a -1.",
        formula=(r"l_i = \frac{1}{C} \sum_{j < n_i} \sum_{c \notin T_i} \max(0, 1 - x_{i t_{ij}} + "
                 r"x_{ic}), \quad T_i = \{t_{i0}, \dots, t_{i,n_i - 1}\}, \; n_i: \text{the first } "
                 r"t_{ij} = -1"),
        gradient=(r"\frac{\partial l_i}{\partial x_{ic}} = \frac{1}{C} \sum_{j < n_i} [c \notin T_i] "
                  r"[m_{ijc} > 0] - \frac{1}{C} \sum_{j < n_i} [t_{ij} = c] \sum_{d \notin T_i} [m_{ijd} > 0], "
                  r"\quad m_{ijc} = 1 - x_{i t_{ij}} + x_{ic}"),
        hessian_formula=r"\frac{\partial^2 l_i}{\partial x_{ic}^2} = 0",
        mean_over="rows",
        torch="multilabel_margin_loss",
        notes="As PyTorch: a row's list of classes ends at its first negative entry (-1) and the "
              "entries after it are ignored, a class listed twice counts twice, a term at exactly "
              "zero margin has zero gradient. An entry >= C before the end is an error. A NaN "
              "score propagates.",
    ),
    # ---- several differentiable inputs (kind "multi") ----
    LossSpec(
        name="margin_ranking_loss",
        family="ranking",
        kind="multi",
        arrays=("input1", "input2", "target"),
        domains=("normal", "normal", "sign"),
        input_name="input1",
        target="real",
        summary="Ranking hinge loss of pairs of scores: target 1 ranks input1 higher, -1 input2.",
        formula=r"l_i = \max(0, -y_i (x_{1i} - x_{2i}) + m), \quad m = \text{margin}",
        gradient=(r"\frac{\partial l_i}{\partial x_{1i}} = -y_i [u_i \geq 0], \quad "
                  r"\frac{\partial l_i}{\partial x_{2i}} = y_i [u_i \geq 0], \quad u_i = "
                  r"-y_i (x_{1i} - x_{2i}) + m"),
        params=(Param("margin", 0.0, examples=(0.5,), doc="The margin m."),),
        positional=("margin",),
        sample_weight=False,
        torch="margin_ranking_loss",
        notes="As PyTorch, a term at exactly zero margin passes its gradient (u = 0 counts), "
              "and the target is not checked for being -1 or 1. The three arrays have one "
              "shape (no broadcasting).",
    ),
    LossSpec(
        name="cosine_embedding_loss",
        family="ranking",
        kind="multi",
        arrays=("input1", "input2", "target"),
        domains=("normal", "normal", "sign"),
        input_name="input1",
        target="row_label",
        shapes=("unbatched",),
        mean_over="rows",
        summary="Cosine embedding loss of (N, D) pairs of rows: target 1 similar, -1 dissimilar.",
        formula=(r"l_i = 1 - c_i \text{ if } y_i = 1 \text{; } \max(0, c_i - m) \text{ if } "
                 r"y_i = -1 \text{; else } 0, \quad c_i = \frac{\langle a_i, b_i \rangle}"
                 r"{\sqrt{(\Vert a_i \Vert^2 + \epsilon)(\Vert b_i \Vert^2 + \epsilon)}}, \; "
                 r"\epsilon = 10^{-12}"),
        gradient=(r"\frac{\partial l_i}{\partial a_i} = s_i \left(\frac{b_i}{\sqrt{(\Vert "
                  r"a_i \Vert^2 + \epsilon)(\Vert b_i \Vert^2 + \epsilon)}} - \frac{c_i a_i}"
                  r"{\Vert a_i \Vert^2 + \epsilon}\right) \text{ (b alike)}, \quad s_i = -1 "
                  r"\text{ if } y_i = 1 \text{; } [c_i > m] \text{ if } y_i = -1 \text{; else } 0"),
        params=(Param("margin", 0.0, examples=(0.3,),
                      doc="Cosine below which a dissimilar pair costs nothing (in [-1, 1] to "
                          "make sense; not checked, as PyTorch)."),),
        positional=("margin",),
        sample_weight=False,
        torch="cosine_embedding_loss",
        notes="As PyTorch: epsilon = 1e-12 is added to both squared norms, a target other than "
              "1 and -1 gives 0, and a dissimilar pair exactly at the margin has zero gradient. "
              "Unbatched: (D,) rows with a 0-d target.",
    ),
    LossSpec(
        name="triplet_margin_loss",
        family="ranking",
        kind="multi",
        arrays=("anchor", "positive", "negative"),
        domains=("normal", "normal", "normal"),
        input_name="anchor",
        target="none",
        shapes=("unbatched",),
        mean_over="rows",
        summary="Triplet margin loss of (N, D) anchors, positives and negatives.",
        formula=(r"l_i = \max(0, m + d(a_i, p_i) - d^-_i), \quad d(u, v) = \Vert u - v + "
                 r"\epsilon \Vert_p, \; d^-_i = d(a_i, n_i) \text{, or } \min(d(a_i, n_i), "
                 r"d(p_i, n_i)) \text{ with swap}"),
        gradient=(r"\frac{\partial l_i}{\partial a_i} = [l_i \geq 0] \left(\nabla d(a_i, "
                  r"p_i) - \nabla d(a_i, n_i)\right), \quad \nabla_j \Vert v \Vert_p = "
                  r"\operatorname{sign}(v_j) \left(\frac{\vert v_j \vert}{\Vert v \Vert_p}"
                  r"\right)^{p - 1} \text{ (0 where } v = 0) \text{; p and n alike}"),
        params=(Param("margin", 1.0, low=0.0, low_open=True, examples=(0.3,),
                      doc="The margin m (positive)."),
                Param("p", 2.0, low=0.0, low_open=True, examples=(1.0, 3.0),
                      doc="Order of the distance's norm (finite, positive)."),
                Param("eps", 1e-6, low=0.0, examples=(0.0,),
                      doc="Added to each difference u - v before its norm."),
                Param("swap", False, type=bool, examples=(True,),
                      doc="Use the smaller of d(a, n) and d(p, n) as the negative distance.")),
        positional=("margin", "p", "eps", "swap"),
        sample_weight=False,
        torch="triplet_margin_loss",
        notes="As PyTorch: the hinge at exactly zero passes its gradient, a zero distance has "
              "gradient 0, and with swap a tie of the two negative distances splits the "
              "gradient evenly. The three arrays have one shape, (N, D) or (D,).",
    ),
    LossSpec(
        name="gaussian_nll_loss",
        family="regression",
        kind="multi",
        arrays=("input", "target", "var"),
        domains=("normal", "normal", "positive"),
        target="broadcast",
        reduced_inputs=("var",),
        nonnegative=("var",),
        summary="Negative log-likelihood of a Gaussian with predicted mean and variance.",
        formula=(r"l_i = \frac{1}{2} \left(\log v_i + \frac{(x_i - y_i)^2}{v_i}\right) "
                 r"\text{ (+ } \frac{1}{2} \log 2 \pi \text{ if full)}, \quad v_i = "
                 r"\max(\text{var}_i, \epsilon)"),
        gradient=(r"\frac{\partial l_i}{\partial x_i} = \frac{x_i - y_i}{v_i}, \quad "
                  r"\frac{\partial l_i}{\partial \text{var}_i} = \frac{1}{2} \left("
                  r"\frac{1}{v_i} - \frac{(x_i - y_i)^2}{v_i^2}\right) \text{ (at } v_i "
                  r"\text{, also where var is clamped)}"),
        params=(Param("full", False, type=bool, examples=(True,),
                      doc="Add the constant log(2 pi) / 2."),
                Param("eps", 1e-6, low=0.0, low_open=True, examples=(0.5,),
                      doc="Variances below eps are taken as eps.")),
        positional=("full", "eps"),
        sample_weight=False,
        torch="gaussian_nll_loss",
        notes="As PyTorch: var may lack the input's last axis, have one axis of size 1 "
              "(one variance shared along it; its gradient is summed there) or be one value "
              "(a float, or a 0-d array: shared by every element), the target "
              "broadcasts to the input, var < 0 is an error, and the clamp at eps passes the "
              "gradient at eps (torch clamps without recording it).",
    ),
    LossSpec(
        name="accuracy",
        family="metric",
        kind="rowwise",
        target="class",
        summary="Top-k accuracy of (N, C) scores, or of (N,) binary logits (positive iff > 0).",
        formula=(r"l_i = [\#\{c : x_{ic} \text{ ranks above } x_{iy_i}\} < k] \text{ (ties: the "
                 r"lower index ranks above)}"),
        gradient=r"",
        params=(Param("k", 1, type=int, low=1, examples=(2,), doc="Count a row correct if its "
                      "target is among the k highest scores."),),
        mean_over="rows",
        differentiable=False,
        binary_input=True,
        notes="'mean' is the (sample-weighted) fraction of correct rows, 'sum' their (weighted) "
              "count, 'none' 1.0 / 0.0 per row. A row with a NaN score of its target counts as wrong.",
    ),
)

REGISTRY: dict[str, LossSpec] = {spec.name: spec for spec in LOSSES}


def pointwise_specs() -> list[LossSpec]:
    return [s for s in LOSSES if s.kind == "pointwise"]


def rowwise_specs() -> list[LossSpec]:
    return [s for s in LOSSES if s.kind == "rowwise"]


def multi_specs() -> list[LossSpec]:
    return [s for s in LOSSES if s.kind == "multi"]
