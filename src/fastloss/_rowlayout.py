"""The rows of a row-wise call whose input is not (N, C): PyTorch's (N, C, d1, ..., dk).

Its rows are the N d1 ... dk positions, each a vector of C scores along axis 1.
The kernels take it as a (B, C, S) strided view: B batches of S positions, the
class axis keeping the input's stride, so no transposed copy of the input is
made and the gradient is written in the input's own layout. A layout that no
such view describes (e.g. two spatial axes swapped by a transpose) is copied
first.

The positions are put in the order of their memory (outermost first), the
order in which the class targets, the per-row losses and the row weights are
then passed; which B and S split them depends only on the shape and strides.
"""

from __future__ import annotations

import math

import numpy as np


def _one_run(a: np.ndarray, axes: list[int]) -> bool:
    """Whether the axes (outermost first) of ``a`` address one arithmetic sequence."""
    axes = [ax for ax in axes if a.shape[ax] != 1]
    return all(a.strides[o] == a.strides[i] * a.shape[i] for o, i in zip(axes, axes[1:]))


class SpatialRows:
    """How an (N, C, d1, ..., dk) input maps to the kernel's (B, C, S) rows.

    ``order`` lists the input's row axes (0, 2, ..., k + 1) outermost first; the
    first ``split`` of them make the batches, the others the positions of a batch.
    """

    __slots__ = ("shape", "order", "split")

    def __init__(self, x: np.ndarray, natural: bool = False):
        self.shape = x.shape
        rows = [0] + list(range(2, x.ndim))
        # natural: the C order of the axes (a C-contiguous gradient buffer of the caller's)
        self.order = rows if natural else sorted(rows, key=lambda ax: -abs(x.strides[ax]))
        # -1: no split makes x a (B, C, S) view
        self.split = next((p for p in range(len(rows) + 1) if self._is_view(x, p)), -1)

    @property
    def fits(self) -> bool:
        """Whether the input the layout was made from is a (B, C, S) view."""
        return self.split >= 0

    def _axes(self, split: int) -> list[int]:
        return self.order[:split] + [1] + self.order[split:]

    def _bcs(self, split: int) -> tuple[int, int, int]:
        b = math.prod(self.shape[ax] for ax in self.order[:split])
        return b, self.shape[1], math.prod(self.shape[ax] for ax in self.order[split:])

    def _is_view(self, a: np.ndarray, split: int) -> bool:
        # (B, C, S) is a view iff the batch axes and the position axes each form one
        # arithmetic run (decided from the strides: a reshape would copy where not)
        return a.size == 0 or (_one_run(a, self.order[:split]) and _one_run(a, self.order[split:]))

    def holds(self, a: np.ndarray) -> bool:
        """Whether ``a`` (of the input's shape) is a (B, C, S) view in this layout."""
        return self._is_view(a, self.split)

    def view(self, a: np.ndarray) -> np.ndarray:
        """``a`` (the input's shape) as (B, C, S): a view where ``holds(a)``, else a copy."""
        b, c, s = self._bcs(self.split)
        return a.transpose(self._axes(self.split)).reshape(b, c, s)

    def empty(self, x: np.ndarray) -> np.ndarray:
        """A new array like the input ``x``, laid out as it (its view holds)."""
        buf = np.empty_like(x)  # x's order of the axes (dense if x is not)
        if self.holds(buf):
            return buf
        axes = self._axes(self.split)
        buf = np.empty([self.shape[ax] for ax in axes], x.dtype)
        return buf.transpose(np.argsort(axes))

    def _target_axes(self) -> list[int]:
        # the row axes as axes of an (N, d1, ..., dk) array
        return [0 if ax == 0 else ax - 1 for ax in self.order]

    def rows(self, a: np.ndarray, dtype) -> np.ndarray:
        """Per-position values (N, d1, ..., dk) in the kernel's row order, contiguous."""
        return np.ascontiguousarray(a.transpose(self._target_axes()), dtype=dtype).reshape(-1)

    def row_weights(self, w: np.ndarray) -> np.ndarray:
        """Per-sample weights (N,) repeated for each of a sample's positions."""
        full = np.broadcast_to(w.reshape((-1,) + (1,) * (len(self.shape) - 2)),
                               (self.shape[0],) + self.shape[2:])
        return self.rows(full, np.float64)

    def unrows(self, a: np.ndarray) -> np.ndarray:
        """Kernel-ordered per-row values back as (N, d1, ..., dk) (a view)."""
        axes = self._target_axes()
        sizes = [self.shape[0] if ax == 0 else self.shape[ax + 1] for ax in axes]
        return a.reshape(sizes).transpose(np.argsort(axes))
