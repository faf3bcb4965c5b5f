# cython: language_level=3, boundscheck=False, wraparound=False, auto_pickle=False
"""The per-call fast path of the losses, in C.

A small call spends most of its time in Python checking that the arrays are
plain (exact ndarray, native dtype, C-contiguous, writable ``out``, equal
shapes, no overlap): ``x.flags`` alone builds a Python object. Here those are
reads of the array struct, and for the row-wise losses one pass over the class
labels that checks their range and counts the rows not ignored (the "mean"
denominator). Anything unusual returns None and the caller takes the general
path in ``_api``, which validates and raises the named errors; this module
never raises for bad input (only ``n_threads`` is validated, as there), it only
declines. It never writes an output before it has decided to take the call.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.string cimport memcmp

cnp.import_array()

from numpy import may_share_memory as _may_share_memory

from fastloss._threads import resolve_n_threads


cdef inline bint _plain(object a, cnp.PyArray_Descr* dt, int ndim, cnp.npy_intp* dims):
    # An exact ndarray of dtype dt, C-contiguous, of the given shape.
    if type(a) is not cnp.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    return (cnp.PyArray_DESCR(arr) == dt and cnp.PyArray_NDIM(arr) == ndim
            and cnp.PyArray_ISCARRAY_RO(arr)
            and memcmp(cnp.PyArray_DIMS(arr), dims, ndim * sizeof(cnp.npy_intp)) == 0)


cdef inline bint _owns(cnp.ndarray a):
    return cnp.PyArray_CHKFLAGS(a, cnp.NPY_ARRAY_OWNDATA) and cnp.PyArray_BASE(a) is NULL


cdef inline bint _may_overlap(cnp.ndarray out, cnp.ndarray a, bint own_out):
    # out may be a itself; two arrays that both own their memory cannot overlap.
    if out is a or (own_out and _owns(a)):
        return False
    return _may_share_memory(out, a)


cdef inline bint _plain_out(object out, cnp.PyArray_Descr* dt, int ndim, cnp.npy_intp* dims,
                            cnp.ndarray a, object b):
    # out is plain, writable, and either a (or b) itself or not overlapping them.
    if not _plain(out, dt, ndim, dims) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
        return False
    cdef bint own_out = _owns(<cnp.ndarray>out)
    if _may_overlap(<cnp.ndarray>out, a, own_out):
        return False
    return b is None or not _may_overlap(<cnp.ndarray>out, <cnp.ndarray>b, own_out)


cdef inline bint _plain_pair(tuple out, cnp.PyArray_Descr* dt, int ndim, cnp.npy_intp* dims,
                             cnp.ndarray a, object b, bint restrict_outs):
    # out = (grad, hess): two plain writable buffers, apart from each other. Each is a
    # (or b) itself or apart from them; with restrict_outs (the pointwise Hessian
    # kernel's outputs are restrict pointers) neither is, and else the Hessian's is
    # not a (the row-wise kernels read the row again after writing the gradient).
    if len(out) != 2:
        return False
    g, h = out
    if h is a or (restrict_outs and (g is a or g is b or h is b)):
        return False
    return (h is not g
            and _plain_out(g, dt, ndim, dims, a, b) and _plain_out(h, dt, ndim, dims, a, b)
            and not _may_overlap(<cnp.ndarray>g, <cnp.ndarray>h, _owns(<cnp.ndarray>g)))


cdef extern from *:
    """
    #include <float.h>
    #include "_rowreduce.h"  /* FL_OMP_SIMD */
    /* The largest of w[0..n), or -1 if one is negative, infinite or NaN. A float
       maximum carried across a loop stays scalar without -ffast-math; `omp simd
       reduction` lets it vectorise, and every reduction here is exact in any order:
       the maximum, the minimum (< 0: a negative entry) and a sum of w_i * 0 (NaN
       where an entry is infinite or NaN, else 0). */
    static double fl_weight_max(const double *w, Py_ssize_t n)
    {
        double mx = 0.0, mn = 0.0, z = 0.0;
        FL_OMP_SIMD(reduction(max:mx) reduction(min:mn) reduction(+:z))
        for (Py_ssize_t i = 0; i < n; i++) {
            double v = w[i];
            mx = v > mx ? v : mx;
            mn = v < mn ? v : mn;
            z += v * 0.0;
        }
        return (mn < 0.0) | (z != 0.0) ? -1.0 : mx;
    }
    """
    double fl_weight_max(const double* w, Py_ssize_t n) noexcept nogil


def weight_max(const double[::1] w):
    """The largest entry of the weights ``w`` (0.0 if there is none), or -1.0 if one is
    negative, infinite or NaN: the weight check of ``_validation`` and the scale of
    ``pow2_normalized`` in one pass without temporaries. NumPy's isfinite, < 0 and max
    took 3.7 us at 256 weights (this: 0.2 us); at 10**6 both take ~300 us, as this
    module is built at the baseline level and NumPy dispatches its passes to AVX-512."""
    cdef Py_ssize_t n = w.shape[0]
    if n == 0:
        return 0.0
    cdef double m
    with nogil:
        m = fl_weight_max(&w[0], n)
    return m


def pointwise(dict kernels, object x, object target, object out, bint return_grad,
              object reduction, object n_threads, tuple args, object reductions,
              bint hessian=False, bint value=True):
    """The common call's result (``value``, or ``(value, grad)`` with ``out`` or
    ``return_grad``, or ``(value, grad, hess)`` with ``hessian`` or an ``out``
    pair), or None to take the general path.

    The common call: C-contiguous native float ndarrays of one dtype and shape,
    reduction "mean" or "sum" (and in ``reductions``, the loss's), n > 0,
    ``out`` None, or a buffer or a pair of buffers (grad, hess), each writable
    and either x (or target) itself or not overlapping them, the pair not
    overlapping each other. ``args`` are the kernel's trailing arguments (the
    loss parameters, already checked); ``value`` False skips the value's math
    where the Hessian is asked for (the value is then meaningless)."""
    if type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.PyArray_Descr* dt = cnp.PyArray_DESCR(xa)
    kernel = kernels.get(<object>dt)  # native float32/float64 only: other dtypes miss
    if kernel is None:
        return None
    cdef int ndim = cnp.PyArray_NDIM(xa)
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(xa)
    if n == 0 or not cnp.PyArray_ISCARRAY_RO(xa):
        return None
    if target is not None and not _plain(target, dt, ndim, dims):
        return None
    cdef bint mean = reduction == "mean"
    if (not mean and reduction != "sum") or reduction not in reductions:
        return None
    cdef object h = None
    if type(out) is tuple:
        # (an input itself as a buffer: the general path copies the input, apart_from)
        if not _plain_pair(<tuple>out, dt, ndim, dims, xa, target, True):
            return None
        out, h = out
    elif hessian and out is not None:  # a single buffer: the general path names the error
        return None
    elif out is not None and not _plain_out(out, dt, ndim, dims, xa, target):
        return None
    nt = resolve_n_threads(n_threads)  # validates (and raises) like the general path
    if hessian and h is None:
        h = cnp.PyArray_EMPTY(ndim, dims, cnp.PyArray_TYPE(xa), 0)
    if out is None and (return_grad or h is not None):
        out = cnp.PyArray_EMPTY(ndim, dims, cnp.PyArray_TYPE(xa), 0)
    g = out
    hk = h
    if ndim != 1:  # the kernels take 1-D views
        x = cnp.PyArray_Ravel(xa, cnp.NPY_CORDER)
        if g is not None:
            g = cnp.PyArray_Ravel(<cnp.ndarray>out, cnp.NPY_CORDER)
        if h is not None:
            hk = cnp.PyArray_Ravel(<cnp.ndarray>h, cnp.NPY_CORDER)
        if target is not None:
            target = cnp.PyArray_Ravel(<cnp.ndarray>target, cnp.NPY_CORDER)
    cdef double scale = 1.0 / <double>n if mean else 1.0
    if h is not None:
        if target is None:
            total = kernel(x, g, None, None, 1, scale, nt, *args, hess=hk, value=value)
        else:
            total = kernel(x, target, g, None, None, 1, scale, nt, *args, hess=hk, value=value)
    elif target is None:
        total = kernel(x, g, None, None, 1, scale, nt, *args)
    else:
        total = kernel(x, target, g, None, None, 1, scale, nt, *args)
    result = total / <double>n if mean else total
    if h is not None:
        return (result, out, h)
    return result if out is None else (result, out)


cdef Py_ssize_t _scan_labels(const int64_t* t, Py_ssize_t n, int64_t n_classes,
                             bint has_ignore, int64_t ignore) noexcept nogil:
    """The number of rows not ignored, or -1 if a label is neither a class
    index in [0, n_classes) nor (with has_ignore) the ignored value."""
    cdef Py_ssize_t i, valid = 0
    cdef int64_t v
    cdef bint bad = False
    for i in range(n):
        v = t[i]
        if has_ignore and v == ignore:
            continue
        bad |= (v < 0) | (v >= n_classes)
        valid += 1
    return -1 if bad else valid


cdef object _scalar_params(dict a, tuple names, tuple defaults, tuple checked, tuple bounds):
    """A kernel's scalar arguments: each parameter's checked default where it is given as
    its default object, a float in its bounds (finite) as given; else None (decline)."""
    cdef Py_ssize_t i
    cdef double v, lo, hi
    values = None
    for i in range(len(names)):
        given = a[names[i]]
        if given is defaults[i]:
            continue
        b = bounds[i]
        if b is None or type(given) is not float:
            return None
        v = <double>given
        lo, hi = b[0], b[1]
        if (not (v >= lo and v <= hi) or (b[2] and v == lo) or (b[3] and v == hi)
                or v - v != 0.0):
            return None  # NaN and infinities too
        if values is None:
            values = list(checked)
        values[i] = v
    return checked if values is None else tuple(values)


cdef class RowwisePlan:
    """The row-wise fast path of one loss: ``plan(a)`` answers the common call
    (``a``: the public function's arguments by name) or returns None.

    The common call: a C-contiguous native float (N, C) input, N, C > 0; a
    C-contiguous native int64 target of N class indices; no per-class vector
    and no sample_weight; every other parameter its default object, except
    ``ignore_index`` (any int) and float parameters given as floats in their
    bounds; reduction "mean", "sum" or "none"; ``out`` None or plain, writable
    and apart from the input and target, or (for a loss with a Hessian) a pair
    of such buffers apart from each other, as with ``return_hessian=True``. The
    class vectors are the loss's fills, built once per C and cached."""

    cdef dict kernels           # dtype -> the "class" kernel
    cdef tuple vector_names     # per-class vector parameters (must be None)
    cdef tuple fills            # their fills
    cdef tuple names            # scalar parameters the kernel takes, in order
    cdef tuple defaults         # their default objects
    cdef tuple checked          # and their checked values
    cdef tuple bounds           # (low, high, low_open, high_open) of float ones, else None
    cdef str input_name
    cdef bint has_ignore
    cdef object ignore_default
    cdef bint count_valid       # "mean" divides by the rows not ignored (else by N)
    cdef bint differentiable
    cdef bint has_hessian
    cdef dict vectors           # C -> tuple of read-only fill vectors

    def __init__(self, dict kernels, str input_name, tuple vector_names, tuple fills,
                 tuple names, tuple defaults, tuple checked, tuple bounds, bint has_ignore,
                 object ignore_default, bint count_valid, bint differentiable,
                 bint has_hessian=False):
        self.kernels = kernels
        self.input_name = input_name
        self.vector_names, self.fills = vector_names, fills
        self.names, self.defaults, self.checked, self.bounds = names, defaults, checked, bounds
        self.has_ignore, self.ignore_default = has_ignore, ignore_default
        self.count_valid = count_valid
        self.differentiable = differentiable
        self.has_hessian = has_hessian
        self.vectors = {}

    cdef tuple _fill_vectors(self, Py_ssize_t C):
        v = self.vectors.get(C)
        if v is None:
            arrays = []
            for fill in self.fills:
                arr = cnp.PyArray_EMPTY(1, <cnp.npy_intp*>&C, cnp.NPY_FLOAT64, 0)
                arr.fill(fill)
                arr.flags.writeable = False
                arrays.append(arr)
            v = tuple(arrays)
            if len(self.vectors) < 64:  # a loop uses a few class counts
                self.vectors[C] = v
        return <tuple>v

    cdef object _params(self, dict a):
        return _scalar_params(a, self.names, self.defaults, self.checked, self.bounds)

    def __call__(self, dict a):
        x = a[self.input_name]
        target = a["target"]
        if type(x) is not cnp.ndarray or type(target) is not cnp.ndarray:
            return None
        cdef cnp.ndarray xa = <cnp.ndarray>x
        cdef cnp.ndarray ta = <cnp.ndarray>target
        kernel = self.kernels.get(<object>cnp.PyArray_DESCR(xa))
        if (kernel is None or cnp.PyArray_NDIM(xa) != 2 or not cnp.PyArray_ISCARRAY_RO(xa)
                or cnp.PyArray_TYPE(ta) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(ta)
                or cnp.PyArray_NDIM(ta) != 1 or not cnp.PyArray_ISCARRAY_RO(ta)):
            return None
        cdef Py_ssize_t N = cnp.PyArray_DIM(xa, 0), C = cnp.PyArray_DIM(xa, 1)
        if N == 0 or C == 0 or cnp.PyArray_DIM(ta, 0) != N:
            return None
        for name in self.vector_names:
            if a[name] is not None:
                return None
        if a.get("sample_weight") is not None:
            return None
        params = self._params(a)
        if params is None:
            return None
        reduction = a["reduction"]
        if reduction != "mean" and reduction != "sum" and reduction != "none":
            return None
        want_acc = a.get("return_accuracy", False)
        if want_acc is not True and want_acc is not False:
            return None
        cdef bint return_grad = False
        cdef object want_h = False
        out = None
        h = None
        if self.differentiable:
            out = a["out"]
            if a["return_grad"] is not True and a["return_grad"] is not False:
                return None
            want_h = a.get("return_hessian", False)
            if want_h is not True and want_h is not False:
                return None
            if type(out) is tuple:  # (grad, hess)
                # (a Hessian buffer that is the input: the general path copies the input,
                # which a row's Hessian would overwrite before the row is read again)
                if not self.has_hessian or not _plain_pair(
                        <tuple>out, cnp.PyArray_DESCR(xa), 2, cnp.PyArray_DIMS(xa), xa, target,
                        False):
                    return None
                out, h = out
                want_h = True
            elif want_h is True and (out is not None or not self.has_hessian):
                return None  # the general path names the error
            elif out is not None and not _plain_out(out, cnp.PyArray_DESCR(xa), 2,
                                                    cnp.PyArray_DIMS(xa), xa, target):
                return None
            return_grad = out is not None or a["return_grad"] is True or want_h is True
        cdef int64_t ignore = -1
        if self.has_ignore:
            iv = a["ignore_index"]
            if iv is not self.ignore_default and type(iv) is not int:
                return None
            if not (-(2**63) <= iv < 2**63):
                return None
            ignore = iv
        cdef const int64_t* labels = <const int64_t*>cnp.PyArray_DATA(ta)
        cdef Py_ssize_t valid
        with nogil:
            valid = _scan_labels(labels, N, C, self.has_ignore, ignore)
        if valid < 0:
            return None  # the general path names the label
        nt = resolve_n_threads(a["n_threads"])  # validates (and raises) like the general path
        cdef double denom = <double>valid if self.count_valid else <double>N
        if want_h is True and h is None:
            h = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
        if return_grad and out is None:
            out = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
        loss_out = None
        if reduction == "none":
            loss_out = cnp.PyArray_ZEROS(1, <cnp.npy_intp*>&N, cnp.PyArray_TYPE(xa), 0)
        cdef bint mean = reduction == "mean"
        cdef double gscale = (1.0 / denom if denom else 0.0) if mean else 1.0
        if h is None:
            total, correct = kernel(x, target, ignore, out, loss_out, None, gscale, nt,
                                    *self._fill_vectors(C), *params)
        else:
            total, correct = kernel(x, target, ignore, out, loss_out, None, gscale, nt,
                                    *self._fill_vectors(C), *params, hess=h)
        if loss_out is not None:
            value = loss_out
        elif mean:
            value = total / denom if denom else float("nan")
        else:
            value = total
        if h is not None:
            return ((value, out, h, int(correct)) if want_acc else (value, out, h))
        if return_grad:
            return ((value, out, int(correct)) if want_acc else (value, out))
        return (value, int(correct)) if want_acc else value


cdef bint _apart(object buf, list arrays):
    # buf shares no memory with any of the arrays (not even as the same array).
    cdef bint own = _owns(<cnp.ndarray>buf)
    for arr in arrays:
        if buf is arr:
            return False
        if not (own and _owns(<cnp.ndarray>arr)) and _may_share_memory(buf, arr):
            return False
    return True


cdef bint _has_negative(cnp.ndarray v) noexcept:
    # Any entry < 0 (a NaN is not), of a C-contiguous float32 or float64 array.
    cdef Py_ssize_t i, n = cnp.PyArray_SIZE(v)
    cdef const float* f
    cdef const double* d
    cdef bint neg = False
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        f = <const float*>cnp.PyArray_DATA(v)
        with nogil:
            for i in range(n):
                neg |= f[i] < 0
    else:
        d = <const double*>cnp.PyArray_DATA(v)
        with nogil:
            for i in range(n):
                neg |= d[i] < 0
    return neg


# How a loss of several inputs lays its arrays out for its kernel (_api._multi_call).
cpdef enum Layout:
    FLAT = 0        # every array flat (elements)
    ROWS = 1        # (N, D) inputs, (N,) float64 labels and losses
    SHARED = 2      # (A, 1, W) rows and an (A, 1, rest) one; reduced inputs (A, W)

# The row labels' dtypes the fast path converts to float64 itself.
_LABEL_TYPES = (cnp.NPY_FLOAT64, cnp.NPY_FLOAT32, cnp.NPY_INT64, cnp.NPY_INT32)

cdef class MultiPlan:
    """The fast path of a loss of several inputs: ``plan(a)`` answers the common call or
    returns None (the general path, ``_api._multi_call``, then validates and raises).

    The common call: every array an exact C-contiguous native ndarray of the first
    input's float dtype and shape (N > 0 rows of D > 0 for a row-wise loss, whose
    labels are an (N,) float or int array, taken as float64 as the general path
    takes them), n > 0 elements, a reduced input of the full
    shape (gaussian_nll_loss's var, checked >= 0), parameters as their default objects
    or finite floats in their bounds, reduction "mean", "sum" or "none", no
    Hessian, and ``out`` None or a tuple of plain writable buffers, one per input,
    apart from every array and from each other. The kernel calls and views are the
    general path's, so the bits are too."""

    cdef dict kernels        # dtype -> kernel
    cdef tuple names         # the array arguments, in order
    cdef tuple grad_of       # per array: gets a gradient (an input)
    cdef tuple reduced       # per array: a reduced input (its (A, B) view)
    cdef tuple nonneg        # per array: checked >= 0
    cdef int layout
    cdef Py_ssize_t row      # elements per row of the SHARED layout (_api._SHARED_ROW)
    cdef int label           # index of a row-wise loss's float64 labels, else -1
    cdef tuple grad_index    # the indices of the inputs among the arrays
    cdef tuple pnames, defaults, checked, bounds
    cdef tuple reductions

    def __init__(self, dict kernels, tuple names, tuple grad_of, tuple reduced, tuple nonneg,
                 int layout, Py_ssize_t row, int label, tuple pnames, tuple defaults,
                 tuple checked, tuple bounds, tuple reductions):
        self.kernels = kernels
        self.names, self.grad_of, self.reduced, self.nonneg = names, grad_of, reduced, nonneg
        self.grad_index = tuple(i for i in range(len(names)) if grad_of[i])
        self.layout, self.row, self.label = layout, row, label
        self.pnames, self.defaults, self.checked, self.bounds = pnames, defaults, checked, bounds
        self.reductions = reductions

    cdef object _view(self, object arr, Py_ssize_t i, Py_ssize_t start, Py_ssize_t rows,
                      Py_ssize_t width):
        # Array i's view for one SHARED call: elements [start, start + rows * width).
        flat = cnp.PyArray_Ravel(<cnp.ndarray>arr, cnp.NPY_CORDER)[start:start + rows * width]
        if self.reduced[i]:
            return flat.reshape((rows, width))
        return flat.reshape((rows, 1, width))

    def __call__(self, dict a):
        cdef Py_ssize_t i, k, n_arrays = len(self.names)
        x = a[self.names[0]]
        if type(x) is not cnp.ndarray:
            return None
        cdef cnp.ndarray xa = <cnp.ndarray>x
        cdef cnp.PyArray_Descr* dt = cnp.PyArray_DESCR(xa)
        kernel = self.kernels.get(<object>dt)
        if kernel is None or not cnp.PyArray_ISCARRAY_RO(xa):
            return None
        cdef int ndim = cnp.PyArray_NDIM(xa)
        cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(xa)
        cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
        if n == 0 or ndim == 0 or (self.layout == ROWS and ndim != 2):
            return None
        cdef Py_ssize_t n_values = dims[0] if self.layout == ROWS else n
        arrays = [x]
        for i in range(1, n_arrays):
            arr = a[self.names[i]]
            if i == self.label:  # float64 labels, as the general path converts them
                if (type(arr) is not cnp.ndarray
                        or cnp.PyArray_TYPE(<cnp.ndarray>arr) not in _LABEL_TYPES
                        or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>arr)
                        or cnp.PyArray_NDIM(<cnp.ndarray>arr) != 1
                        or cnp.PyArray_DIM(<cnp.ndarray>arr, 0) != dims[0]
                        or not cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>arr)):
                    return None
                if cnp.PyArray_TYPE(<cnp.ndarray>arr) != cnp.NPY_FLOAT64:
                    arr = cnp.PyArray_Cast(<cnp.ndarray>arr, cnp.NPY_FLOAT64)
            elif not _plain(arr, dt, ndim, dims):
                return None
            arrays.append(arr)
        for i in range(n_arrays):
            if self.nonneg[i] and _has_negative(<cnp.ndarray>arrays[i]):
                return None  # the general path names the entry
        params = _scalar_params(a, self.pnames, self.defaults, self.checked, self.bounds)
        if params is None:
            return None
        reduction = a["reduction"]
        if reduction not in self.reductions:
            return None
        rg = a["return_grad"]
        if (rg is not True and rg is not False) or a.get("return_hessian", False) is not False:
            return None
        out = a["out"]
        cdef Py_ssize_t n_inputs = len(self.grad_index)
        grads = None
        if out is not None:
            if type(out) is not tuple or len(<tuple>out) != n_inputs:
                return None
            grads = list(<tuple>out)
            for k in range(n_inputs):
                if (not _plain(grads[k], dt, ndim, dims)
                        or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>grads[k])
                        or not _apart(grads[k], arrays + grads[:k])):
                    return None
        nt = resolve_n_threads(a["n_threads"])  # validates (and raises) like the general path
        if grads is None and rg:
            grads = [cnp.PyArray_EMPTY(ndim, dims, cnp.PyArray_TYPE(xa), 0)
                     for k in range(n_inputs)]
        loss_out = None
        if reduction == "none":
            loss_out = cnp.PyArray_EMPTY(1 if self.layout == ROWS else ndim, dims,
                                         cnp.PyArray_TYPE(xa), 0)
        cdef double gscale = 1.0 / <double>n_values if reduction == "mean" else 1.0
        cdef list kg = [None] * n_inputs if grads is None else grads
        cdef Py_ssize_t q, r
        total = 0.0
        if self.layout == ROWS:
            total = kernel(*arrays, *kg, loss_out, gscale, nt, *params)
        elif self.layout == FLAT:
            total = kernel(*[cnp.PyArray_Ravel(<cnp.ndarray>v, cnp.NPY_CORDER) for v in arrays],
                           *[None if g is None else cnp.PyArray_Ravel(<cnp.ndarray>g, cnp.NPY_CORDER)
                             for g in kg],
                           None if loss_out is None
                           else cnp.PyArray_Ravel(<cnp.ndarray>loss_out, cnp.NPY_CORDER),
                           gscale, nt, *params)
        else:  # SHARED: the general path's two calls, in its order
            q, r = divmod(n, self.row)
            for start, rows, width in ((0, q, self.row), (q * self.row, 1, r)):
                if rows == 0 or width == 0:
                    continue
                total += kernel(
                    *[self._view(arrays[i], i, start, rows, width) for i in range(n_arrays)],
                    *[None if kg[k] is None
                      else self._view(kg[k], self.grad_index[k], start, rows, width)
                      for k in range(n_inputs)],
                    None if loss_out is None else self._view(loss_out, 0, start, rows, width),
                    gscale, nt, *params)
        if reduction == "none":
            value = loss_out
        elif reduction == "mean":
            value = total / <double>n_values
        else:
            value = total
        return value if grads is None else (value, tuple(grads))
