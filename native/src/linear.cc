// A dense layer's forward pass in one call: out = φ(x·wᵀ + b) (and z = x·wᵀ + b when asked for).
//
// The bias is written into the destination rows first and the product added onto it by the
// threaded sgemm of gemm.cc (beta = 1), then the activation row of unary.h runs over the result:
// one N-API call instead of three, and no separate pass (nor buffer) for the bias. Measured on the
// project machine against oneDNN's matmul primitive with the bias and an eltwise post-op (a small
// C++ probe, one thread, shapes of W-INFER and W-MLP): for one row the primitive is 2–3× slower
// (0.7 µs more per call even at 1×10×128, and a slower matrix-vector kernel at 1×256×784); at 64
// and 1,000 rows it was 0–15% faster, within the noise of the shared machine; and its post-ops
// differ from unary.h's rows at the edges (−0 from relu, NaN, oneDNN's own tanh/logistic), so
// results would depend on the batch size. Hence sgemm + this epilogue.
#include <algorithm>

#include "kernels.h"
#include "unary.h"

namespace dn {

void affine_act(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, int op, double p,
                float* out, float* z) {
  if (m == 0 || n == 0) return;
  float* dst = z ? z : out;
  if (b) {
    for (int64_t i = 0; i < m; i++) std::copy(b, b + n, dst + i * n);
  }
  gemm(false, true, m, n, k, 1.0f, x, w, b ? 1.0f : 0.0f, dst);
  if (op != DN_U_LINEAR) unary(op, m * n, dst, out, p);
  else if (dst != out) std::copy(dst, dst + m * n, out);
}

}  // namespace dn
