/* OpenMP when the build has it, otherwise a single-threaded stand-in, so the
   same Cython code builds with and without OpenMP. */
#ifndef FASTLOSS_OPENMP_COMPAT_H
#define FASTLOSS_OPENMP_COMPAT_H
#ifdef _OPENMP
#include <omp.h>
#define FASTLOSS_OPENMP _OPENMP
#else
#define FASTLOSS_OPENMP 0
static int omp_get_max_threads(void) { return 1; }
static void omp_set_num_threads(int n) { (void)n; }
#endif

/* Size of the team that a parallel region of n threads really gets (1 without
   OpenMP): proves that the runtime actually loaded runs threads. */
static int fastloss_team_size(int n) {
    int size = 1;
#ifdef _OPENMP
    #pragma omp parallel num_threads(n)
    {
        #pragma omp single
        size = omp_get_num_threads();
    }
#else
    (void)n;
#endif
    return size;
}

/* The compiler that built the extension, for fastloss.show_config(). */
#define FASTLOSS_STR_(x) #x
#define FASTLOSS_STR(x) FASTLOSS_STR_(x)
#if defined(__clang__)
#define FASTLOSS_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define FASTLOSS_COMPILER "gcc " __VERSION__
#elif defined(_MSC_VER)
#define FASTLOSS_COMPILER "msvc " FASTLOSS_STR(_MSC_FULL_VER)
#else
#define FASTLOSS_COMPILER "unknown"
#endif
#endif
