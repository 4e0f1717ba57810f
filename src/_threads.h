/* Thread count of OpenMP parallel regions, or 1 when built without OpenMP. */
#ifdef _OPENMP
#include <omp.h>
static int fastnn_max_threads(void) { return omp_get_max_threads(); }
#else
static int fastnn_max_threads(void) { return 1; }
#endif
