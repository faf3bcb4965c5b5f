"""Running loss / accuracy meter for training and evaluation loops."""

from __future__ import annotations

import math
import numbers

from . import _exactsum

__all__ = ["Meter"]


class Meter:
    """Accumulates weighted loss sums, weights and correct counts across batches.

    Feed it each batch's loss **sum** (``reduction="sum"``) and the batch's
    weight (its number of samples, or the sum of its sample weights, i.e. what
    ``reduction="mean"`` divides by). The loss sums and weights are added
    exactly (as ``math.fsum``), so at the end of an epoch ``meter.loss`` is the
    full-data ``reduction="mean"`` value up to one rounding of each batch sum
    (about 1e-16 relative), whatever the batch sizes or their order, and
    ``meter.accuracy`` is exactly the full-data accuracy.

    A batch "mean" value can also be fed as ``update(mean, weight, is_mean=True)``;
    it is multiplied back by ``weight`` (one extra rounding).

    Examples
    --------
    An evaluation epoch in batches; the loss sum and the correct count of each
    batch come from one pass (with ``return_grad=True``, the gradient as well),
    and the epoch means equal the full-data values:

    >>> import numpy as np
    >>> import fastloss
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((96, 5)), rng.integers(0, 3, 96)
    >>> W = rng.standard_normal((5, 3))
    >>> meter = fastloss.Meter()
    >>> for xb, yb in zip(np.split(X, 4), np.split(y, 4)):
    ...     s, n_correct = fastloss.cross_entropy(
    ...         xb @ W, yb, reduction="sum", return_accuracy=True)
    ...     _ = meter.update(s, len(yb), n_correct=n_correct)
    >>> bool(np.isclose(meter.loss, fastloss.cross_entropy(X @ W, y)))
    True
    >>> meter.accuracy == fastloss.accuracy(X @ W, y)
    True

    Binary logits: ``binary_cross_entropy_with_logits`` counts the correct signs.

    >>> logits = np.array([2.0, -1.0, 0.5, -3.0])
    >>> labels = np.array([1.0, 0.0, 0.0, 0.0])
    >>> meter.reset()
    >>> s, n_correct = fastloss.binary_cross_entropy_with_logits(
    ...     logits, labels, reduction="sum", return_accuracy=True)
    >>> meter.update(s, labels.size, n_correct=n_correct).accuracy
    0.75
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Start a new epoch."""
        self._loss: list[float] = []
        self._weight: list[float] = []
        self.n_correct = 0
        self.count = 0
        self.batches = 0

    def update(self, loss, weight, n_correct=None, *, count=None, is_mean=False) -> "Meter":
        """Add one batch.

        loss : float
            The batch's loss sum (``reduction="sum"``), or its mean with ``is_mean=True``.
        weight : float
            What the batch's "mean" divides by: its sample count, or its sum of sample weights.
        n_correct : int, optional
            Correct predictions in the batch (``return_accuracy=True``).
        count : int, optional
            Predictions in the batch, the accuracy's denominator; default ``weight``
            (must then be an integer).

        Examples
        --------
        >>> import fastloss
        >>> meter = fastloss.Meter()
        >>> meter.update(6.0, 4, n_correct=3).update(1.5, 1, n_correct=0)
        Meter(loss=1.5, accuracy=0.6, weight=5, batches=2)
        """
        loss = float(loss)
        weight = float(weight)
        if not weight >= 0 or not math.isfinite(weight):
            raise ValueError(f"weight must be finite and non-negative, got {weight!r}")
        _exactsum.add(self._loss, loss * weight if is_mean else loss)
        _exactsum.add(self._weight, weight)
        if n_correct is not None:
            if count is None:
                if weight != int(weight):
                    raise ValueError("count= is needed with n_correct when weight is not a sample count")
                count = int(weight)
            if not isinstance(n_correct, numbers.Integral) and float(n_correct) != int(n_correct):
                raise TypeError(f"n_correct must be an integer count, got {n_correct!r}")
            n_correct, count = int(n_correct), int(count)
            if not 0 <= n_correct <= count:
                raise ValueError(f"n_correct={n_correct} must lie in [0, count={count}]")
            self.n_correct += n_correct
            self.count += count
        self.batches += 1
        return self

    @property
    def loss_sum(self) -> float:
        return _exactsum.total(self._loss)

    @property
    def weight(self) -> float:
        return _exactsum.total(self._weight)

    @property
    def loss(self) -> float:
        """Weighted mean loss so far: loss_sum / weight (NaN before any weight)."""
        w = self.weight
        return self.loss_sum / w if w else math.nan

    @property
    def accuracy(self) -> float:
        """n_correct / count (NaN when no count was given)."""
        return self.n_correct / self.count if self.count else math.nan

    def __repr__(self) -> str:
        return (f"Meter(loss={self.loss:.6g}, accuracy={self.accuracy:.4g}, "
                f"weight={self.weight:g}, batches={self.batches})")
