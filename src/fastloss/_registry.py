"""The registry: one entry per loss, the single place where a loss is described.

Pure data with no import of the compiled extension, so that ``setup.py`` (which
generates the kernels from it), the public API, the documentation, the test
battery and the benchmarks can all read it.

Adding a pointwise loss means: an entry here, its scalar math in
``_scalar_math.pxd`` (an inline ``<name>_lg`` function returning loss and
derivative), and its elementwise reference in ``reference.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REDUCTIONS = ("mean", "sum", "none")


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

    def bounds_text(self) -> str:
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open or self.high is None else "]"
        a = "-inf" if self.low is None else repr(self.low)
        b = "inf" if self.high is None else repr(self.high)
        return f"{lo}{a}, {b}{hi}"


@dataclass(frozen=True)
class LossSpec:
    """Everything the package needs to know about one loss.

    kind
        ``"pointwise"``: the loss of element i depends on ``input[i]`` (and
        ``target[i]``) only; the generic pointwise kernel loops over it.
    target
        ``"real"``: a float array of the input's shape; ``"none"``: no target
        (penalties on a weight vector).
    input_name
        Name of the first argument in the public signature.
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

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def cases(self) -> list[dict[str, Any]]:
        """Parameter sets to test: the defaults, then each example value in turn."""
        out = [self.defaults]
        for p in self.params:
            out += [{**self.defaults, p.name: v} for v in p.examples]
        return out


_PROB = dict(low=0.0, high=1.0)

LOSSES: tuple[LossSpec, ...] = (
    LossSpec(
        name="mse_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Mean squared error.",
        formula="l_i = (x_i - y_i)^2",
        gradient="dl_i/dx_i = 2 (x_i - y_i)",
        torch="mse_loss",
        peers=("keras.losses.MeanSquaredError", "sklearn.metrics.mean_squared_error"),
    ),
    LossSpec(
        name="l1_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Mean absolute error.",
        formula="l_i = |x_i - y_i|",
        gradient="dl_i/dx_i = sign(x_i - y_i), with sign(0) = 0 as in PyTorch",
        torch="l1_loss",
        peers=("keras.losses.MeanAbsoluteError", "sklearn.metrics.mean_absolute_error"),
    ),
    LossSpec(
        name="huber_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Huber loss: quadratic near zero, linear in the tails.",
        formula="l_i = d^2 / 2 if |d| < delta else delta (|d| - delta / 2), d = x_i - y_i",
        gradient="dl_i/dx_i = d if |d| < delta else delta sign(d)",
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
        formula="l_i = d^2 / (2 beta) if |d| < beta else |d| - beta / 2, d = x_i - y_i",
        gradient="dl_i/dx_i = d / beta if |d| < beta else sign(d)",
        params=(Param("beta", 1.0, low=0.0, examples=(0.0, 0.4),
                      doc="Where the loss turns from quadratic to linear; 0 gives l1_loss."),),
        torch="smooth_l1_loss",
    ),
    LossSpec(
        name="poisson_nll_loss",
        family="regression",
        kind="pointwise",
        target="real",
        summary="Negative log-likelihood of a Poisson target.",
        formula=("log_input: l_i = exp(x_i) - y_i x_i;  else: l_i = x_i - y_i log(x_i + eps);  "
                 "full adds the Stirling term y log y - y + log(2 pi y) / 2 where y > 1"),
        gradient="log_input: dl_i/dx_i = exp(x_i) - y_i;  else: 1 - y_i / (x_i + eps)",
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
        family="regression",
        kind="pointwise",
        target="real",
        summary="Logarithm of the hyperbolic cosine of the error.",
        formula="l_i = log(cosh(d)), d = x_i - y_i",
        gradient="dl_i/dx_i = tanh(d)",
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
        formula="l_i = max(q d, (q - 1) d), d = y_i - x_i",
        gradient="dl_i/dx_i = -q if d > 0, 1 - q if d < 0, 0 at d = 0",
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
        formula="alpha * sum_i |w_i|",
        gradient="alpha sign(w_i), with sign(0) = 0",
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
        formula="alpha / 2 * sum_i w_i^2",
        gradient="alpha w_i",
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
        formula="alpha * sum_i (r |w_i| + (1 - r) / 2 w_i^2), r = l1_ratio",
        gradient="alpha (r sign(w_i) + (1 - r) w_i)",
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
)

REGISTRY: dict[str, LossSpec] = {spec.name: spec for spec in LOSSES}


def pointwise_specs() -> list[LossSpec]:
    return [s for s in LOSSES if s.kind == "pointwise"]
