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
#endif
