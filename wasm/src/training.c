// The WebAssembly backend's training kernels: the shared rules of training.h (one copy for both
// fast backends). clang emits no fused multiply-add for wasm32, so the float64 arithmetic matches
// the reference backend's; the transcendental functions come from the host (Math.log, Math.exp,
// Math.log1p), as the reference uses.
#include "dendrite.h"

IMPORT("exp") double host_exp(double x);
IMPORT("log1p") double host_log1p(double x);

#define DN_INDEX size_t
#define DN_SQRT __builtin_sqrt
#define DN_LOG host_log
#define DN_EXP host_exp
#define DN_LOG1P host_log1p
#include "training.h"

EXPORT("sgd_update") void sgd_update(size_t n, float* w, const float* g, float* vel, double lr, double mu, int nesterov) {
  dn_sgd_update(n, w, g, vel, lr, mu, nesterov);
}

EXPORT("adam_update")
void adam_update(size_t n, float* w, const float* g, float* m, float* v, double lr, double b1, double b2, double eps,
                 double c1, double c2, double keep) {
  dn_adam_update(n, w, g, m, v, lr, b1, b2, eps, c1, c2, keep);
}

EXPORT("rmsprop_update")
void rmsprop_update(size_t n, float* w, const float* g, float* ms, float* mg, float* mom, double lr, double rho,
                    double mu, double eps) {
  dn_rmsprop_update(n, w, g, ms, mg, mom, lr, rho, mu, eps);
}

EXPORT("clip_value") void clip_value(size_t n, float* x, double limit) { dn_clip_value(n, x, limit); }

EXPORT("batch_norm_train")
void batch_norm_train(const float* x, const float* gamma, const float* beta, size_t outer, size_t C, size_t inner,
                      double eps, float* y, float* xhat, double* mean, double* variance, double* inv_std) {
  dn_batch_norm_train(x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, inv_std);
}

EXPORT("batch_norm_inference")
void batch_norm_inference(const float* x, const float* mean, const float* variance, const float* gamma,
                          const float* beta, size_t outer, size_t C, size_t inner, double eps, float* y, float* xhat,
                          double* inv_std) {
  dn_batch_norm_inference(x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, inv_std);
}

EXPORT("batch_norm_backward")
void batch_norm_backward(int training, const float* dy, const float* xhat, const double* inv_std, const float* gamma,
                         size_t outer, size_t C, size_t inner, float* dx, float* dgamma, float* dbeta) {
  size_t mark = scratch_mark();
  double* sums = (double*)scratch_alloc(2 * C * sizeof(double));
  dn_batch_norm_backward(training, dy, xhat, inv_std, gamma, outer, C, inner, dx, dgamma, dbeta, sums);
  scratch_release(mark);
}

EXPORT("moving_average") void moving_average(size_t n, float* avg, const double* x, double mu) {
  dn_moving_average(n, avg, x, mu);
}

EXPORT("loss_value") double loss_value(int kind, size_t n, const float* pred, const float* target) {
  return dn_loss_value(kind, n, pred, target);
}

// geo (int32): rank, src offset, dst offset, run length, counts…, src strides…, dst strides…
EXPORT("copy_runs") void copy_runs(const float* src, float* dst, const int32_t* geo) {
  const int rank = geo[0];
  int64_t counts[4], src_strides[4], dst_strides[4];
  for (int d = 0; d < rank; d++) {
    counts[d] = geo[4 + d];
    src_strides[d] = geo[4 + rank + d];
    dst_strides[d] = geo[4 + 2 * rank + d];
  }
  dn_copy_runs(src, geo[1], src_strides, dst, geo[2], dst_strides, counts, rank, geo[3]);
}

EXPORT("loss_grad") void loss_grad(int kind, size_t n, const float* pred, const float* target, double scale, float* dx) {
  dn_loss_grad(kind, n, pred, target, scale, dx);
}

EXPORT("optimizer_step")
double optimizer_step(int rule, const double* hyper, const dn_param* params, size_t count) {
  // scratch for decayed gradients: only the calling thread runs training kernels
  static float decayed[DN_STEP_BLOCK];
  return dn_optimizer_step(rule, hyper, params, count, decayed);
}

EXPORT("count_matching_rows") size_t count_matching_rows(const float* a, const float* b, size_t rows, size_t cols) {
  return dn_count_matching_rows(a, b, rows, cols);
}
