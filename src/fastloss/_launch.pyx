# cython: language_level=3, auto_pickle=False
"""The Python-facing side of the kernels: compiled once, for every SIMD level.

The kernel modules (``_pointwise``, ``_rowwise`` and their ``_avx2`` /
``_avx512`` builds) hold only ``nogil`` C functions over a call struct
(``_kernel_abi.pxd``) and export them as a table. Here a kernel becomes a
Python callable: it checks each array (exact dtype, native byte order, aligned,
the layout and length the kernel reads, writable outputs) with reads of the
ndarray struct, fills the call struct, releases the GIL and calls through the
table of the level it was bound to. A failed check raises before any output is
written. ``_api`` has already validated the user's arguments; these checks are
the kernels' own guard, so that no call can make a kernel read or write out of
bounds.
"""

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int64_t
from numpy import may_share_memory as _may_share_memory

from fastloss._kernel_abi cimport (MAX_COLS, MAX_PARAMS, PointwiseCall, RowwiseCall,
                                   SimdTable, pointwise_fn, rowwise_fn)

from fastloss._common cimport (CHUNK as _CHUNK, PARALLEL_MIN as _PARALLEL_MIN,
                               ROWWISE_PARALLEL_MIN as _ROWWISE_PARALLEL_MIN)

cnp.import_array()

#: Elements per reduction chunk, and the sizes from which the pointwise and the
#: row-wise kernels run in parallel (_common.pxd; for tests that size their inputs
#: around them).
CHUNK = _CHUNK
PARALLEL_MIN = _PARALLEL_MIN
ROWWISE_PARALLEL_MIN = _ROWWISE_PARALLEL_MIN

_TYPENUMS = {"f32": cnp.NPY_FLOAT32, "f64": cnp.NPY_FLOAT64}


cdef cnp.ndarray _array(object a, str what, int typenum, int ndim, bint writable):
    """``a`` as an ndarray the kernel can read (or write): else TypeError/ValueError."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"kernel argument {what} must be an ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if (cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_ISNOTSWAPPED(arr)
            or not cnp.PyArray_ISALIGNED(arr)):
        raise TypeError(f"kernel argument {what} must be an aligned native "
                        f"{cnp.PyArray_DescrFromType(typenum)} array, got {arr.dtype}")
    if cnp.PyArray_NDIM(arr) != ndim:
        raise ValueError(f"kernel argument {what} must have {ndim} dimension(s), got {arr.ndim}")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"kernel argument {what} must be writable")
    return arr


cdef void* _contiguous(object a, str what, int typenum, int ndim, Py_ssize_t size,
                       bint writable) except? NULL:
    """Data pointer of a C-contiguous array of ``size`` elements (any size if
    ``size`` < 0; NULL for None)."""
    if a is None:
        return NULL
    cdef cnp.ndarray arr = _array(a, what, typenum, ndim, writable)
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"kernel argument {what} must be C-contiguous")
    if size >= 0 and cnp.PyArray_SIZE(arr) != size:
        raise ValueError(f"kernel argument {what} must have {size} elements, got {arr.size}")
    return cnp.PyArray_DATA(arr)


cdef Py_ssize_t _vectors(tuple args, Py_ssize_t start, int count, const double** cols,
                         Py_ssize_t length) except -1:
    """Fill cols from args[start:start+count] (each None or a float64 vector); all
    None gives 0, else all must have one length (``length`` if it is > 0)."""
    cdef Py_ssize_t ncol = 0, size
    cdef int i
    for i in range(count):
        v = args[start + i]
        if v is None:
            cols[i] = NULL
            continue
        cols[i] = <const double*>_contiguous(v, "vector", cnp.NPY_FLOAT64, 1, -1, False)
        size = cnp.PyArray_SIZE(<cnp.ndarray>v)
        if ncol and size != ncol or length > 0 and size != length or size < 1:
            raise ValueError(f"kernel vector arguments must have {length or ncol or 'one'} "
                             f"entries each, got {size}")
        ncol = size
    if ncol:
        for i in range(count):
            if cols[i] == NULL:
                raise ValueError("kernel vector arguments must be all None or all arrays")
    return ncol


cdef class _Kernel:
    """What every kernel callable holds: its dtype, the counts of its trailing
    vector and scalar arguments, its name."""

    cdef int typenum
    cdef int n_cols
    cdef int n_params
    cdef readonly str name

    cdef Py_ssize_t _check_count(self, tuple args, Py_ssize_t fixed) except -1:
        """Raise unless args has ``fixed`` arguments, then the vectors and the
        scalars; return the index of the first vector."""
        cdef Py_ssize_t want = fixed + self.n_cols + self.n_params
        if len(args) != want:
            raise TypeError(f"kernel {self.name} takes {want} arguments, got {len(args)}")
        return fixed

    cdef int _scalars(self, tuple args, Py_ssize_t start, double* params) except -1:
        cdef int i
        for i in range(self.n_params):
            params[i] = args[start + i]
        return 0


cdef class PointwiseKernel(_Kernel):
    """``kernel(x, [target,] grad, loss_out, weight, row_len, gscale, n_threads,
    *vectors, *params, hess=None, value=True) -> sum_i w_i l_i`` over 1-D contiguous
    arrays of n > 0 elements; fills ``grad`` (if not None) with gscale w_i dl_i/dx_i,
    ``hess`` (if not None; only with ``grad``) with gscale w_i d2l_i/dx_i2 and
    ``loss_out`` (if not None) with w_i l_i. ``value=False`` (only with ``hess`` and
    no ``loss_out``) skips the value and returns 0.0. ``weight``: None or n // row_len
    float64 values (one per row of row_len elements). ``vectors``: None, or
    float64 arrays of one length ncol (element k uses entry k % ncol)."""

    cdef pointwise_fn fn
    cdef bint has_y

    def __call__(self, *args, hess=None, bint value=True):
        cdef Py_ssize_t first = 2 if self.has_y else 1
        cdef Py_ssize_t vec = self._check_count(args, first + 6)
        cdef PointwiseCall c
        c.x = _contiguous(args[0], "x", self.typenum, 1, -1, False)
        cdef Py_ssize_t n = cnp.PyArray_SIZE(<cnp.ndarray>args[0])
        if n == 0:
            raise ValueError(f"kernel {self.name} needs a non-empty input")
        c.n = n
        c.y = _contiguous(args[1], "target", self.typenum, 1, n, False) if self.has_y else NULL
        c.g = _contiguous(args[first], "grad", self.typenum, 1, n, True)
        c.h = _contiguous(hess, "hess", self.typenum, 1, n, True)
        if c.h != NULL and c.g == NULL:
            raise ValueError(f"kernel {self.name}: hess needs grad")
        c.lo = _contiguous(args[first + 1], "loss_out", self.typenum, 1, n, True)
        c.no_value = not value
        if c.no_value and (c.h == NULL or c.lo != NULL):
            raise ValueError(f"kernel {self.name}: value=False needs hess and no loss_out")
        c.row_len = args[first + 3]
        if c.row_len < 1 or n % c.row_len:
            raise ValueError(f"kernel row_len must divide the input's size {n}, got {c.row_len}")
        c.w = <const double*>_contiguous(args[first + 2], "weight", cnp.NPY_FLOAT64, 1,
                                         n // c.row_len, False)
        c.gscale = args[first + 4]
        c.n_threads = args[first + 5]
        c.ncol = _vectors(args, vec, self.n_cols, c.cols, 0)
        self._scalars(args, vec + self.n_cols, c.params)
        cdef double total = 0.0
        cdef int rc
        with nogil:
            rc = self.fn(&c, &total)
        if rc:
            raise MemoryError()
        return total


cdef Py_ssize_t _stride(cnp.ndarray a, int axis, Py_ssize_t item, str what) except? -1:
    """Element stride of ``a`` along ``axis``."""
    if cnp.PyArray_STRIDE(a, axis) % item:
        raise ValueError(f"kernel argument {what} must have strides that are multiples of its itemsize")
    return cnp.PyArray_STRIDE(a, axis) // item


cdef cnp.ndarray _batched_like(object a, str what, int typenum, cnp.ndarray x, bint writable):
    """A (B, C, S) array of x's shape (any element strides), or None."""
    if a is None:
        return None
    cdef cnp.ndarray arr = _array(a, what, typenum, 3, writable)
    cdef int d
    for d in range(3):
        if cnp.PyArray_DIM(arr, d) != cnp.PyArray_DIM(x, d):
            raise ValueError(f"kernel argument {what} must have shape {(<object>x).shape}, got {(<object>arr).shape}")
    return arr


cdef class RowwiseKernel(_Kernel):
    """``kernel(x, target, [ignore_index,] grad, loss_out, weight, gscale, n_threads,
    *vectors, *params) -> (sum_i w_i l_i, rows whose top-1 prediction is right)``
    for a non-empty (N, C) input of any strides, or a (B, C, S) one (B batches of S
    rows: N = B S rows, row i = position i % S of batch i // S); ``hess=`` (keyword,
    kernels of losses with a Hessian): None or like ``grad``, only with ``grad``,
    and neither may overlap x. ``target``: N int64 class indices then
    ``ignore_index`` (class kernels), an (N, C) C-contiguous int64 array of class
    index rows (index kernels), or an array of the input's dtype and shape
    (C-contiguous for an (N, C) input). ``grad``: None or of the input's shape
    (C-contiguous for an (N, C) input, any strides for a (B, C, S) one);
    ``loss_out``: None or N values; ``weight``: None or N float64 row weights;
    ``vectors``: float64 arrays of C entries."""

    cdef rowwise_fn fn
    cdef bint classes
    cdef bint index
    cdef bint hessian

    def __call__(self, *args, hess=None):
        cdef Py_ssize_t first = 3 if self.classes else 2
        cdef Py_ssize_t vec = self._check_count(args, first + 5)
        cdef RowwiseCall c
        # x: (N, C), or (B, C, S) for a batched layout
        cdef int ndim = 3 if cnp.PyArray_Check(args[0]) and (<cnp.ndarray>args[0]).ndim == 3 else 2
        cdef cnp.ndarray x = _array(args[0], "x", self.typenum, ndim, False)
        cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(x)
        cdef bint batched = cnp.PyArray_NDIM(x) == 3
        cdef cnp.ndarray arr
        c.C = cnp.PyArray_DIM(x, 1)
        if batched:
            c.S = cnp.PyArray_DIM(x, 2)
            c.N = cnp.PyArray_DIM(x, 0) * c.S
            c.xbs = _stride(x, 0, item, "x")
            c.rs = _stride(x, 2, item, "x")
        else:
            c.N = cnp.PyArray_DIM(x, 0)
            c.S = c.N
            c.xbs = 0
            c.rs = _stride(x, 0, item, "x")
        c.cs = _stride(x, 1, item, "x")
        c.batched = batched
        if c.N == 0 or c.C == 0:
            raise ValueError(f"kernel {self.name} needs a non-empty input")
        c.x = cnp.PyArray_DATA(x)
        cdef Py_ssize_t nc = c.N * c.C
        c.tbs, c.trs, c.tcs = 0, c.C, 1
        if self.classes:
            c.labels = <const int64_t*>_contiguous(args[1], "target", cnp.NPY_INT64, 1, c.N, False)
            c.ignore_index = args[2]
            c.tgt = NULL
        elif self.index:  # rows of int64 class indices
            c.labels = NULL
            c.ignore_index = -1
            if batched:
                raise ValueError(f"kernel {self.name} takes a 2-D input")
            c.tgt = _contiguous(args[1], "target", cnp.NPY_INT64, 2, nc, False)
            if cnp.PyArray_DIM(<cnp.ndarray>args[1], 0) != c.N:
                raise ValueError(f"kernel argument target must have shape {(c.N, c.C)}")
        else:
            c.labels = NULL
            c.ignore_index = -1
            if batched:
                arr = _batched_like(args[1], "target", self.typenum, x, False)
                c.tgt = cnp.PyArray_DATA(arr)
                c.tbs = _stride(arr, 0, item, "target")
                c.tcs = _stride(arr, 1, item, "target")
                c.trs = _stride(arr, 2, item, "target")
            else:
                c.tgt = _contiguous(args[1], "target", self.typenum, 2, nc, False)
                if cnp.PyArray_DIM(<cnp.ndarray>args[1], 0) != c.N:
                    raise ValueError(f"kernel argument target must have shape {(c.N, c.C)}")
        c.gbs, c.grs, c.gcs = 0, c.C, 1
        if batched:
            arr = _batched_like(args[first], "grad", self.typenum, x, True)
            c.g = NULL if arr is None else cnp.PyArray_DATA(arr)
            if arr is not None:
                c.gbs = _stride(arr, 0, item, "grad")
                c.gcs = _stride(arr, 1, item, "grad")
                c.grs = _stride(arr, 2, item, "grad")
            arr = _batched_like(hess, "hess", self.typenum, x, True)
            c.h = NULL if arr is None else cnp.PyArray_DATA(arr)
            if c.h != NULL and (c.g == NULL or _stride(arr, 0, item, "hess") != c.gbs
                                or _stride(arr, 1, item, "hess") != c.gcs
                                or _stride(arr, 2, item, "hess") != c.grs):
                raise ValueError(f"kernel {self.name}: hess needs grad, both of one layout")
        else:
            c.g = _contiguous(args[first], "grad", self.typenum, 2, nc, True)
            if c.g != NULL and cnp.PyArray_DIM(<cnp.ndarray>args[first], 0) != c.N:
                raise ValueError(f"kernel argument grad must have shape {(c.N, c.C)}")
            c.h = _contiguous(hess, "hess", self.typenum, 2, nc, True)
            if c.h != NULL and (c.g == NULL or cnp.PyArray_DIM(<cnp.ndarray>hess, 0) != c.N):
                raise ValueError(f"kernel {self.name}: hess needs grad, both of shape {(c.N, c.C)}")
        if c.h != NULL and not self.hessian:
            raise ValueError(f"kernel {self.name} has no Hessian")
        c.lo = _contiguous(args[first + 1], "loss_out", self.typenum, 1, c.N, True)
        c.w = <const double*>_contiguous(args[first + 2], "weight", cnp.NPY_FLOAT64, 1, c.N, False)
        c.gscale = args[first + 3]
        c.n_threads = args[first + 4]
        _vectors(args, vec, self.n_cols, c.cols, c.C)
        cdef int i
        for i in range(self.n_cols):
            if c.cols[i] == NULL:
                raise ValueError(f"kernel {self.name} needs its {self.n_cols} class vector(s)")
        self._scalars(args, vec + self.n_cols, c.params)
        cdef double total = 0.0, correct = 0.0
        cdef int rc
        with nogil:
            rc = self.fn(&c, &total, &correct)
        if rc:
            raise MemoryError()
        return total, correct


class KernelSet:
    """The kernels of one kernel module at one SIMD level, as attributes
    ``<kernel>_<f32|f64>``; ``KERNELS`` names them without the suffix, in table
    order."""

    def __init__(self, module, level):
        self.module = module
        self.level = level
        self.KERNELS = tuple(entry[0] for entry in module.LAYOUT)

    def __repr__(self):
        return f"<fastloss kernels {self.module.__name__} ({self.level}): {len(self.KERNELS)} x 2>"

    def __getattr__(self, name):
        # Only reached for a name that bind() did not set (reads __dict__, so that
        # a half-made instance cannot recurse here).
        d = self.__dict__
        raise AttributeError(f"kernel set {d.get('level')!r} has no kernel {name!r}; it has "
                             f"{', '.join(d.get('KERNELS', ()))} (each _f32 and _f64)")


def bind(module, str level):
    """A KernelSet over ``module``'s table (a _pointwise or _rowwise build)."""
    kernels = KernelSet(module, level)
    cdef bint pointwise = module.__name__.rsplit(".", 1)[-1].startswith("_pointwise")
    cdef pointwise_fn* pt = NULL
    cdef rowwise_fn* rt = NULL
    cdef PointwiseKernel pk
    cdef RowwiseKernel rk
    cdef Py_ssize_t i, d
    if pointwise:
        pt = <pointwise_fn*>PyCapsule_GetPointer(module.table(), "fastloss.pointwise_fn")
    else:
        rt = <rowwise_fn*>PyCapsule_GetPointer(module.table(), "fastloss.rowwise_fn")
    for i, entry in enumerate(module.LAYOUT):
        if entry[2] > MAX_COLS or entry[3] > MAX_PARAMS:
            raise ImportError(f"{module.__name__}: kernel {entry[0]} does not fit the call struct")
        for d, sfx in enumerate(("f32", "f64")):
            if pointwise:
                pk = PointwiseKernel.__new__(PointwiseKernel)
                pk.fn = pt[2 * i + d]
                pk.has_y = entry[1]
                pk.typenum, pk.n_cols, pk.n_params = _TYPENUMS[sfx], entry[2], entry[3]
                pk.name = f"{entry[0]}_{sfx}"
                setattr(kernels, pk.name, pk)
            else:
                rk = RowwiseKernel.__new__(RowwiseKernel)
                rk.fn = rt[2 * i + d]
                rk.classes = entry[1] == "class"
                rk.index = entry[1] == "index"
                rk.hessian = entry[4]
                rk.typenum, rk.n_cols, rk.n_params = _TYPENUMS[sfx], entry[2], entry[3]
                rk.name = f"{entry[0]}_{sfx}"
                setattr(kernels, rk.name, rk)
    return kernels


#: The functions of SimdHelpers.vmath, then those of vmath32, in _simd.vmath's order.
VMATH = ("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "log1pexp")
VMATH32 = ("log", "log1p")


cdef class SimdHelpers:
    """The ``_simd`` helpers of one SIMD level, over 1-D contiguous arrays."""

    cdef SimdTable* t
    cdef readonly str level

    def vmath(self, str name, x, out):
        """out[i] = fl_<name>(x[i]) for name in VMATH (float64 arrays)."""
        self._vmath(VMATH.index(name), x, out)

    def vmath32(self, str name, x, out):
        """out[i] = fl_<name>32(x[i]) for name in VMATH32 (float64 arrays)."""
        self._vmath(len(VMATH) + VMATH32.index(name), x, out)

    cdef _vmath(self, int f, x, out):
        cdef Py_ssize_t n = cnp.PyArray_SIZE(_array(x, "x", cnp.NPY_FLOAT64, 1, False))
        cdef const double* xp = <const double*>_contiguous(x, "x", cnp.NPY_FLOAT64, 1, n, False)
        cdef double* op = <double*>_contiguous(out, "out", cnp.NPY_FLOAT64, 1, n, True)
        with nogil:
            self.t.vmath(f, xp, op, n)

    def expdiff32(self, x, m, out):
        """out[i] = fl_expdiff32(x[i], m[i]) (float32 x and m, float64 out)."""
        cdef Py_ssize_t n = cnp.PyArray_SIZE(_array(x, "x", cnp.NPY_FLOAT32, 1, False))
        cdef const float* xp = <const float*>_contiguous(x, "x", cnp.NPY_FLOAT32, 1, n, False)
        cdef const float* mp = <const float*>_contiguous(m, "m", cnp.NPY_FLOAT32, 1, n, False)
        cdef double* op = <double*>_contiguous(out, "out", cnp.NPY_FLOAT64, 1, n, True)
        with nogil:
            self.t.expdiff32(xp, mp, op, n)

    def triad(self, x, y, g, int n_threads, h=None):
        """g = x + 3 y and return sum(x), chunked like the loss kernels (float32 or
        float64); with ``h``, also h = x - y (the traffic of value+grad+Hessian).
        g and h overlap neither x, y nor each other."""
        cdef int tn = cnp.PyArray_TYPE(_array(x, "x", cnp.NPY_FLOAT64, 1, False)) \
            if cnp.PyArray_Check(x) and cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT64 \
            else cnp.NPY_FLOAT32
        cdef Py_ssize_t n = cnp.PyArray_SIZE(_array(x, "x", tn, 1, False))
        cdef const void* xp = _contiguous(x, "x", tn, 1, n, False)
        cdef const void* yp = _contiguous(y, "y", tn, 1, n, False)
        cdef void* gp = _contiguous(g, "g", tn, 1, n, True)
        cdef void* hp = NULL if h is None else _contiguous(h, "h", tn, 1, n, True)
        outs = (g,) if h is None else (g, h)
        if any(_may_share_memory(o, a) for o in outs for a in (x, y)) or (
                h is not None and _may_share_memory(g, h)):
            raise ValueError("triad: g and h must overlap neither x, y nor each other")
        cdef double total = 0.0
        cdef int rc
        with nogil:
            if tn == cnp.NPY_FLOAT64:
                rc = self.t.triad_f64(<const double*>xp, <const double*>yp, <double*>gp,
                                      <double*>hp, n, n_threads, &total)
            else:
                rc = self.t.triad_f32(<const float*>xp, <const float*>yp, <float*>gp,
                                      <float*>hp, n, n_threads, &total)
        if rc:
            raise MemoryError()
        return total


def bind_simd(module, str level):
    """SimdHelpers over ``module``'s table (a _simd build)."""
    cdef SimdHelpers h = SimdHelpers.__new__(SimdHelpers)
    h.t = <SimdTable*>PyCapsule_GetPointer(module.table(), "fastloss.simd_table")
    h.level = level
    return h
