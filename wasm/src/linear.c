// A dense layer's forward pass in one call: out = φ(x·wᵀ + b), and z = x·wᵀ + b when asked for
// (see Backend.affineAct). The bias is written into the destination rows, the product added onto
// it by gemm_core (no separate bias pass over the result), then the activation row of unary.h runs
// over it (a plain loop clang vectorises). A product big enough to split over the helper threads
// is run by the backend as gemm, addBroadcast and unary instead (src/backend/wasm.ts says why).
#include "dendrite.h"
#include "../../native/src/unary.h"

void unary(int op, const float* xs, float* out, size_t n, double p);

// Every row of dst [m×n] = b (or 0 when b is null), before a product is added onto it.
static void bias_rows(float* dst, const float* b, int m, int n) {
  if (!b) {
    __builtin_memset(dst, 0, (size_t)m * n * sizeof(float));
    return;
  }
  for (int i = 0; i < m; i++) __builtin_memcpy(dst + (size_t)i * n, b, (size_t)n * sizeof(float));
}

EXPORT("affine_act")
void affine_act(int m, int n, int k, const float* x, const float* w, const float* b, int op, double p, float* out,
                float* z) {
  float* dst = z ? z : out;
  bias_rows(dst, b, m, n);
  gemm_core(0, 1, m, n, k, 1.0f, x, w, dst);
  if (op != DN_U_LINEAR || dst != out) unary(op, dst, out, (size_t)m * n, p);
}
