// Thread policy: oneDNN runs on OpenMP. Ops below about a megaflop lose more to waking the second
// thread than they gain (measured: a 64×10 inner product takes twice as long on 2 threads), so
// they run on one; bigger ops use the whole team. The setting is per calling thread (OpenMP keeps
// it per thread too), so worker_threads each get their own.
#include <omp.h>

#include <atomic>

#include "kernels.h"

namespace dn {

namespace {
constexpr double kParallelFlops = 1.0e6;
std::atomic<int> g_max{0};       // 0: not yet read
thread_local int t_current = 0;  // team size last set on this thread (0: unknown)
}  // namespace

int max_threads() {
  int m = g_max.load(std::memory_order_relaxed);
  if (m == 0) {
    int n = omp_get_max_threads();
    m = n > 0 ? n : 1;
    g_max.store(m, std::memory_order_relaxed);
  }
  return m;
}

void set_max_threads(int n) {
  g_max.store(n > 0 ? n : 1, std::memory_order_relaxed);
}

int threads_for(double flops) {
  int want = flops >= kParallelFlops ? max_threads() : 1;
  if (want != t_current) {
    omp_set_num_threads(want);
    t_current = want;
  }
  return want;
}

}  // namespace dn
