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

namespace {

// Below this many multiply-adds (the last layer of a small network on one example, 1×10×128) a
// call into oneDNN costs more than the arithmetic: its dispatch, and the signal block every entry
// into it needs (kernels.h; ~0.4 µs here). Measured for one row: 1×10×128 0.11 µs as dot products
// against 0.2 µs in sgemm plus the block; at 1×128×256 sgemm is already ahead.
constexpr int64_t kSmallProduct = 16384;

// dst[i, j] = x_i · w_j (+ b_j): dot products with 16 partial sums each, which the compiler
// vectorises.
void small_product(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, float* dst) {
  constexpr int64_t L = 16;
  const int64_t kv = k / L * L;
  for (int64_t i = 0; i < m; i++) {
    const float* xr = x + i * k;
    for (int64_t j = 0; j < n; j++) {
      const float* wr = w + j * k;
      float acc[L] = {};
      for (int64_t q = 0; q < kv; q += L) {
        for (int64_t u = 0; u < L; u++) acc[u] += wr[q + u] * xr[q + u];
      }
      float s = 0.0f;
      for (int64_t u = 0; u < L; u++) s += acc[u];
      for (int64_t q = kv; q < k; q++) s += wr[q] * xr[q];
      dst[i * n + j] = b ? s + b[j] : s;
    }
  }
}

}  // namespace

void affine_act(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, int op, double p,
                float* out, float* z) {
  if (m == 0 || n == 0) return;
  float* dst = z ? z : out;
  if (m * n * k <= kSmallProduct) {
    small_product(m, n, k, x, w, b, dst);
  } else {
    if (b) {
      for (int64_t i = 0; i < m; i++) std::copy(b, b + n, dst + i * n);
    }
    gemm(false, true, m, n, k, 1.0f, x, w, b ? 1.0f : 0.0f, dst);
  }
  if (op != DN_U_LINEAR) unary(op, m * n, dst, out, p);
  else if (dst != out) std::copy(dst, dst + m * n, out);
}

}  // namespace dn
