// GEMM through oneDNN's dnnl_sgemm (row-major, all four transpositions). Measured on the project
// machine against the matmul and inner-product primitives on the W-MLP shapes: sgemm is the
// fastest of the three and needs no primitive creation or cache (see native/README.md).
#include <oneapi/dnnl/dnnl.h>

#include <stdexcept>
#include <string>

#include "kernels.h"

namespace dn {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // C = beta·C (beta = 0 ignores C's old contents, even NaN)
    if (beta == 0.0f) fill(m * n, c, 0.0f);
    else if (beta != 1.0f) scale(m * n, c, beta, c);
    return;
  }
  threads_for(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, ta ? m : k, b,
                                tb ? k : n, beta, c, n);
  if (st != dnnl_success) {
    throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(static_cast<int>(st)) +
                             " for m=" + std::to_string(m) + " n=" + std::to_string(n) +
                             " k=" + std::to_string(k));
  }
}

}  // namespace dn
