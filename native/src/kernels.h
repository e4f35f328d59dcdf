// The kernels of the native backend on raw pointers and sizes. addon.cc checks every buffer
// against the sizes before calling in here, so these functions trust their arguments.
// Semantics are those of src/backend/backend.ts (row-major matrices, NCHW images).
#pragma once
#include <cstdint>
#include <functional>

namespace dn {

// ---- threads (threads.cc) ----
// Threads that may work on one big op: OMP_NUM_THREADS or the processor count at load time, or
// what set_max_threads chose. oneDNN's own OpenMP team is always 1 (see threads.cc).
int max_threads();
void set_max_threads(int n);
// Pins this thread's OpenMP team to one thread (once per thread; cheap afterwards).
void pin_openmp();
// Whether an op of this many flops is worth spreading over the helper threads.
bool worth_parallel(double flops);
// Blocks the delivery of signals to this thread for its lifetime. oneDNN 2.6's JIT sgemm (also
// used inside its inner-product and GEMM-based convolutions) corrupts the heap when a signal
// handler runs on the thread in the middle of it (reproduced with a SIGPROF timer and an empty
// handler; `node --cpu-prof` triggers it within seconds), so every entry into oneDNN is wrapped
// in one of these; signals arriving meanwhile are delivered when it ends (~0.4 µs per call).
class SignalBlock {
 public:
  SignalBlock();
  ~SignalBlock();
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

 private:
  unsigned long old_[16];  // sigset_t storage (glibc: 128 bytes)
  bool active_;
};

// Runs fn(0 … chunks−1), each chunk once, on the calling thread and whichever helper threads are
// free; returns when all are done (rethrows the first exception a chunk threw). The caller never
// waits for a helper that has not started: it takes the remaining chunks itself.
void parallel_for(int chunks, const std::function<void(int)>& fn);

// Runs fn(begin, end) over [0, n): in one call when n < min_parallel, else one contiguous range
// per thread (boundaries on multiples of `align` items).
template <class F>
void parallel_range(int64_t n, int64_t min_parallel, F fn, int64_t align = 16) {
  const int64_t t = max_threads();
  if (n < min_parallel || t <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t per = ((n + t - 1) / t + align - 1) / align * align;
  const int chunks = static_cast<int>((n + per - 1) / per);
  parallel_for(chunks, [&](int i) {
    const int64_t b = i * per;
    fn(b, b + per < n ? b + per : n);
  });
}

// ---- dense (gemm.cc) ----
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c);
// count independent products C_i = alpha·op(A_i)·op(B_i) + beta·C_i at the given element offsets;
// spread over the threads one product per chunk when there are enough of them, else each product
// threads itself as gemm does.
void gemm_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  const int32_t* a_off, const float* b, const int32_t* b_off, float beta, float* c,
                  const int32_t* c_off, int64_t count);
// out[m×n] = φ(x[m×k]·wᵀ + b) with w [n×k], b [n] or null, φ the unary.h row `op` with parameter p;
// z (or null) receives x·wᵀ + b. out and z overlap no input.
void affine_act(int64_t m, int64_t n, int64_t k, const float* x, const float* w, const float* b, int op, double p,
                float* out, float* z);

// ---- elementwise and reductions (elementwise.cc) ----
enum BinaryOp : int { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_COUNT };

// op: a code of unary.h's DN_UNARY_TABLE (DN_U_…)
void unary(int op, int64_t n, const float* x, float* out, double param);
// unary on the calling thread alone (inside a chunk of parallel_for).
void unary_serial(int op, int64_t n, const float* x, float* out, double param);
void unary_grad(int op, int64_t n, const float* x, const float* y, const float* dy, float* dx,
                double param, bool accumulate);
// shape/as/bs: nd entries each (nd ≤ 16).
void binary(int op, const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
            const int64_t* shape, int nd);
void axpy(int64_t n, float alpha, const float* b, const float* a, float* out);
void scale(int64_t n, const float* x, float s, float* out);
void fill(int64_t n, float* out, float v);
void sum_axis(const float* x, int64_t outer, int64_t axis, int64_t inner, float* out, bool accumulate);
void add_broadcast(const float* x, const float* y, int64_t outer, int64_t axis, int64_t inner, float* out);
void softmax(const float* x, int64_t rows, int64_t cols, float* out);
void softmax_backward(const float* y, const float* dy, int64_t rows, int64_t cols, float* dx);
// out = x with its nd dimensions reordered: output dimension i is input dimension axes[i] (norm.cc)
void permute(const float* x, const int64_t* shape, const int* axes, int nd, float* out);
// layer normalisation of each row (norm.cc); gamma, beta may be null
void layer_norm(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t cols, float eps,
                float* y, float* xhat, float* rstd);
void layer_norm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma, int64_t rows,
                         int64_t cols, float* dx);
double softmax_cross_entropy(const float* logits, const float* targets, int64_t rows, int64_t cols,
                             float* probs);
double sum(const float* x, int64_t n);
double sum_squares(const float* x, int64_t n);
bool all_finite(const float* x, int64_t n);
void lstm_cell(int64_t B, int64_t H, const float* pre, const float* c_prev, float* gates, float* c,
               float* h);
void lstm_cell_backward(int64_t B, int64_t H, const float* gates, const float* c_prev, const float* c,
                        const float* dh, const float* dc, float* d_pre, float* dc_prev);
void gru_gates(int64_t B, int64_t H, const float* pre, const float* h, float* gates, float* reset_hidden);
void gru_state(int64_t B, int64_t H, const float* gates, const float* h_prev, const float* pre_candidate,
               float* candidate, float* h);
void gru_state_backward(int64_t B, int64_t H, const float* gates, const float* h_prev, const float* candidate,
                        const float* dh, float* dh_prev, float* d_pre_candidate, float* d_pre_gates);
void gru_gates_backward(int64_t B, int64_t H, const float* gates, const float* h, const float* d_reset_hidden,
                        float* d_pre_gates, float* dh);
int64_t gather_rows(const float* src, int64_t rows, int64_t cols, const float* index, int64_t n, float* out);
void scatter_add_rows(const float* src, int64_t cols, const float* index, int64_t n, float* out);
void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out);
int64_t nonzero_indices(const float* x, int64_t n, float* out);

// ---- convolution (conv.cc, oneDNN primitives cached per shape) ----
struct ConvGeom {
  int64_t n, c, h, w, k, kh, kw, sh, sw, pad_top, pad_left, oh, ow;
};
// y = f(conv2d(x, w) + bias) for the unary op f (a DN_U_… code of unary.h): ReLU and leaky ReLU as
// oneDNN post-ops, the others by the unary kernel over each chunk right after its convolution.
void conv2d_act(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, int op,
                double param);
void conv2d_backward_data(const ConvGeom& g, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db);
// Number of cached convolution primitives (for tests of the cache bound).
int64_t conv_cache_size();

// ---- pooling (pool.cc) ----
struct PoolGeom {
  int64_t n, c, h, w, ph, pw, sh, sw, oh, ow;
};
void max_pool(const PoolGeom& g, const float* x, float* y, int32_t* argmax);
// argmax entries are checked against dx_len (an out-of-range index throws before any write).
void max_pool_backward(const PoolGeom& g, const float* dy, const int32_t* argmax, float* dx, int64_t dx_len);
void avg_pool(const PoolGeom& g, const float* x, float* y);
void avg_pool_backward(const PoolGeom& g, const float* dy, float* dx);

// ---- convolution → activation → pooling, activations kept blocked (conv_pool.cc) ----
// What the fused path of a geometry needs: the channel block of the held layout (0: no fused path
// here, use the separate kernels) and the element counts of a (the activations, blocked), of the
// blocked copy of x (0: x is read as it is) and of the pooled indices (max pooling).
struct ConvPoolPlan {
  int64_t block = 0, a_size = 0, x_size = 0, idx_size = 0;
};
ConvPoolPlan conv_pool_plan(const ConvGeom& g, const PoolGeom& p, bool bias, int op, double param);
// y (NCHW, p's output) = pool(f(conv2d(x, w) + bias)); a, idx (max) and xb (when the plan has
// one) keep what backward reads.
void conv_pool_forward(const ConvGeom& g, const PoolGeom& p, bool max, const float* x, const float* w,
                       const float* bias, int op, double param, float* y, float* a, int32_t* idx, float* xb);
// From the pooled gradient dy: dz (scratch of a's size) = δz, dx (or null) = the input gradient,
// dw and db (or null) += the filter and bias gradients. xin: the forward's xb, or x when the plan
// has none.
void conv_pool_backward(const ConvGeom& g, const PoolGeom& p, bool max, int op, double param, const float* dy,
                        const float* a, const int32_t* idx, const float* xin, const float* w, float* dz, float* dx,
                        float* dw, float* db);

// ---- training (training.cc: the rules of wasm/src/training.h, as src/backend/js-training.ts) ----
void sgd_update(int64_t n, float* w, const float* g, float* velocity, double lr, double momentum, bool nesterov);
void adam_update(int64_t n, float* w, const float* g, float* m, float* v, double lr, double beta1, double beta2,
                 double eps, double c1, double c2, double keep);
void rmsprop_update(int64_t n, float* w, const float* g, float* ms, float* mg, float* mom, double lr, double rho,
                    double momentum, double eps);
void clip_value(int64_t n, float* x, double limit);
// One parameter of optimizer_step: n elements of w and g, and the rule's state buffers (null when unused).
struct StepParam {
  int64_t n;
  float* w;
  const float* g;
  float* s0;
  float* s1;
  float* s2;
};
// rule 0 SGD, 1 Adam, 2 RMSProp; hyper as dn_optimizer_step in wasm/src/training.h; returns Σg²
// (non-finite, and the step cut short there, when a gradient is).
double optimizer_step(int rule, const double* hyper, const StepParam* params, int64_t count);
int64_t count_matching_rows(const float* a, const float* b, int64_t rows, int64_t cols);
void batch_norm_train(const float* x, const float* gamma, const float* beta, int64_t outer, int64_t C, int64_t inner,
                      double eps, float* y, float* xhat, double* mean, double* variance, double* inv_std);
void batch_norm_inference(const float* x, const float* mean, const float* variance, const float* gamma,
                          const float* beta, int64_t outer, int64_t C, int64_t inner, double eps, float* y,
                          float* xhat, double* inv_std);
void batch_norm_backward(bool training, const float* dy, const float* xhat, const double* inv_std, const float* gamma,
                         int64_t outer, int64_t C, int64_t inner, float* dx, float* dgamma, float* dbeta);
void moving_average(int64_t n, float* avg, const double* x, double momentum);
double loss_value(int kind, int64_t n, const float* pred, const float* target);
void loss_grad(int kind, int64_t n, const float* pred, const float* target, double scale, float* dx);
void copy_runs(const float* src, int64_t src_off, const int64_t* src_strides, float* dst, int64_t dst_off,
               const int64_t* dst_strides, const int64_t* counts, int rank, int64_t len);

}  // namespace dn
