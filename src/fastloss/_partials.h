/* The fixed-order sum of chunk partials (see _common.pxd). A C function of its
   own, never inlined: as a recursive inline function it was expanded 512 times
   into every kernel under the kernels' raised inlining limits (73 KB of code per
   kernel, most of the compile time of _rowwise). */
#ifndef FASTLOSS_PARTIALS_H
#define FASTLOSS_PARTIALS_H
#if defined(_MSC_VER)
#define FL_NOINLINE __declspec(noinline)
#else
#define FL_NOINLINE __attribute__((noinline))
#endif

/* Pairwise in a fixed order: deterministic, O(log n) rounding growth. */
static FL_NOINLINE double fl_sum_partials(const double* p, Py_ssize_t n) {
    Py_ssize_t h;
    double s;
    if (n <= 8) {
        s = 0.0;
        for (h = 0; h < n; h++)
            s = s + p[h];
        return s;
    }
    h = n / 2;
    return fl_sum_partials(p, h) + fl_sum_partials(p + h, n - h);
}
#endif
