// Elementwise kernels, reductions, softmax (+ cross-entropy) and the fused LSTM cell for the
// WebAssembly backend. Loops run four lanes at a time; a tail shorter than four goes through the
// same vector code on a padded copy, so every element gets exactly the same arithmetic.
#include "dendrite.h"
#include "vmath.h"
#include "../../native/src/unary.h"

// ---- scratch memory ------------------------------------------------------------------------

static size_t scratch_top;

EXPORT("scratch_set") void scratch_set(size_t p) { scratch_top = p; }

void* scratch_alloc(size_t bytes) {
  size_t p = (scratch_top + 15) & ~(size_t)15;
  size_t end = p + bytes;
  size_t pages = (end + 65535) >> 16;
  size_t have = __builtin_wasm_memory_size(0);
  if (pages > have && __builtin_wasm_memory_grow(0, pages - have) == (size_t)-1) __builtin_trap();
  scratch_top = end;
  return (void*)p;
}

size_t scratch_mark(void) { return scratch_top; }
void scratch_release(size_t mark) { scratch_top = mark; }

// ---- four-lane helpers -----------------------------------------------------------------------

static inline v128_t ld(const float* p, size_t n) {
  if (n >= 4) return wasm_v128_load(p);
  float t[4] __attribute__((aligned(16))) = {0, 0, 0, 0};
  for (size_t j = 0; j < n; j++) t[j] = p[j];
  return wasm_v128_load(t);
}

static inline void st(float* p, v128_t v, size_t n) {
  if (n >= 4) {
    wasm_v128_store(p, v);
    return;
  }
  float t[4] __attribute__((aligned(16)));
  wasm_v128_store(t, v);
  for (size_t j = 0; j < n; j++) p[j] = t[j];
}

// ---- unary: the rows of native/src/unary.h, one definition shared with the native kernels ------
//
// Plain loops over the scalar definitions; clang vectorises them four lanes at a time (every
// element gets the same arithmetic, tails included).

EXPORT("unary_op_count") int unary_op_count(void) { return DN_U_COUNT; }

// The name of op code i as a NUL-terminated string in memory (0 past the end).
EXPORT("unary_op_name") const char* unary_op_name(int i) { return dn_unary_name(i); }

EXPORT("unary") void unary(int op, const float* xs, float* out, size_t n, double p) {
  const float pf = (float)p;
  (void)pf;
#define FORWARD_CASE(E, NAME, H, F, D) \
  case DN_U_##E:                      \
    for (size_t i = 0; i < n; i++) {  \
      float x = xs[i];                \
      out[i] = F;                     \
    }                                 \
    return;
  switch (op) {
    DN_UNARY_TABLE(FORWARD_CASE)
    default: return;
  }
#undef FORWARD_CASE
}

EXPORT("unary_grad")
void unary_grad(int op, const float* xs, const float* ys, const float* dy, float* dx, size_t n, double p, int acc) {
  const float pf = (float)p;
  (void)pf;
#define DERIVATIVE_CASE(E, NAME, H, F, D)                     \
  case DN_U_##E:                                              \
    if (acc) {                                                \
      for (size_t i = 0; i < n; i++) {                        \
        float x = xs[i], y = ys[i];                           \
        (void)x; (void)y;                                     \
        dx[i] += dy[i] * (D);                                 \
      }                                                       \
    } else {                                                  \
      for (size_t i = 0; i < n; i++) {                        \
        float x = xs[i], y = ys[i];                           \
        (void)x; (void)y;                                     \
        dx[i] = dy[i] * (D);                                  \
      }                                                       \
    }                                                         \
    return;
  switch (op) {
    DN_UNARY_TABLE(DERIVATIVE_CASE)
    default: return;
  }
#undef DERIVATIVE_CASE
}

// ---- binary with broadcasting strides -------------------------------------------------------

#define BIN_LOOP(EXPR)                                                           \
  if (sa == 1 && sb == 1) {                                                      \
    for (int i = 0; i < len; i++) { float x = a[i], y = b[i]; o[i] = EXPR; }     \
  } else if (sa == 1 && sb == 0) {                                               \
    float y = b[0];                                                              \
    for (int i = 0; i < len; i++) { float x = a[i]; o[i] = EXPR; }               \
  } else if (sa == 0 && sb == 1) {                                               \
    float x = a[0];                                                              \
    for (int i = 0; i < len; i++) { float y = b[i]; o[i] = EXPR; }               \
  } else {                                                                       \
    for (int i = 0; i < len; i++) { float x = a[i * sa], y = b[i * sb]; o[i] = EXPR; } \
  }

static void binary_row(int op, const float* a, int sa, const float* b, int sb, float* o, int len) {
  switch (op) {
    case 0: BIN_LOOP(x + y) break;
    case 1: BIN_LOOP(x - y) break;
    case 2: BIN_LOOP(x * y) break;
    case 3: BIN_LOOP(x / y) break;
    case 4: BIN_LOOP(x > y ? x : y) break;
    default: BIN_LOOP(x < y ? x : y) break;
  }
}

// geo = [nd, shape[nd], aStrides[nd], bStrides[nd]]
EXPORT("binary") void binary(int op, const float* a, const float* b, float* out, const int* geo) {
  int nd = geo[0];
  if (nd == 0) {
    binary_row(op, a, 0, b, 0, out, 1);
    return;
  }
  const int* shape = geo + 1;
  const int* as = shape + nd;
  const int* bs = as + nd;
  int inner = shape[nd - 1];
  size_t rows = 1;
  for (int d = 0; d < nd - 1; d++) rows *= (size_t)shape[d];
  if (inner == 0 || rows == 0) return;
  int idx[32] = {0};
  size_t ai = 0, bi = 0;
  for (size_t r = 0; r < rows; r++) {
    binary_row(op, a + ai, as[nd - 1], b + bi, bs[nd - 1], out + r * inner, inner);
    for (int d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ai += as[d];
      bi += bs[d];
      if (idx[d] < shape[d]) break;
      ai -= (size_t)as[d] * shape[d];
      bi -= (size_t)bs[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// ---- simple maps and reductions ----------------------------------------------------------------

EXPORT("axpy") void axpy(size_t n, float alpha, const float* b, const float* a, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] + alpha * b[i];
}

EXPORT("scale") void scale(const float* x, size_t n, float s, float* out) {
  for (size_t i = 0; i < n; i++) out[i] = x[i] * s;
}

EXPORT("sum_axis") void sum_axis(const float* x, int outer, int axis, int inner, float* out, int acc) {
  if (!acc) __builtin_memset(out, 0, sizeof(float) * (size_t)outer * inner);
  for (int o = 0; o < outer; o++) {
    float* ob = out + (size_t)o * inner;
    for (int a = 0; a < axis; a++) {
      const float* xb = x + ((size_t)o * axis + a) * inner;
      for (int i = 0; i < inner; i++) ob[i] += xb[i];
    }
  }
}

EXPORT("add_broadcast")
void add_broadcast(const float* x, const float* y, int outer, int axis, int inner, float* out) {
  for (int o = 0; o < outer; o++) {
    const float* yb = y + (size_t)o * inner;
    for (int a = 0; a < axis; a++) {
      size_t xb = ((size_t)o * axis + a) * inner;
      for (int i = 0; i < inner; i++) out[xb + i] = x[xb + i] + yb[i];
    }
  }
}

EXPORT("sum") double sum(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

EXPORT("sum_squares") double sum_squares(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}

EXPORT("all_finite") int all_finite(const float* x, size_t n) {
  const uint32_t* u = (const uint32_t*)x;
  uint32_t bad = 0;
  for (size_t i = 0; i < n; i++) bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
  return !bad;
}

// ---- softmax ---------------------------------------------------------------------------------

static float row_max(const float* x, int cols) {
  float m = -__builtin_inff();
  for (int j = 0; j < cols; j++)
    if (x[j] > m) m = x[j];
  return m;
}

// e[j] = exp(x[j] − max), returns Σ e in double. The difference is rounded to float, so its
// rounding error δ (TwoSum) is put back as e·(1 + δ): otherwise a logit 10 below the maximum would
// lose 4 ulps in its probability.
static double exp_shifted(const float* x, int cols, float max, float* e) {
  double s = 0;
  const v128_t nm = F4(-max);
  for (int j = 0; j < cols; j += 4) {
    size_t r = (size_t)(cols - j);
    v128_t a = ld(x + j, r);
    v128_t d = wasm_f32x4_add(a, nm);
    v128_t bb = wasm_f32x4_sub(d, a);
    v128_t err = wasm_f32x4_add(wasm_f32x4_sub(a, wasm_f32x4_sub(d, bb)), wasm_f32x4_sub(nm, bb));
    v128_t v = v_exp(d);
    // an infinite logit (a −∞ mask) has no rounding error to put back (and TwoSum gives NaN there)
    err = wasm_v128_and(err, wasm_f32x4_eq(err, err));
    v = wasm_f32x4_add(v, wasm_f32x4_mul(v, err));
    st(e + j, v, r);
  }
  for (int j = 0; j < cols; j++) s += e[j];
  return s;
}

EXPORT("softmax") void softmax(const float* x, int rows, int cols, float* out) {
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (size_t)r * cols;
    float* o = out + (size_t)r * cols;
    double inv = 1.0 / exp_shifted(xr, cols, row_max(xr, cols), o);
    for (int j = 0; j < cols; j++) o[j] = (float)(o[j] * inv);
  }
}

EXPORT("softmax_cross_entropy")
double softmax_cross_entropy(const float* logits, const float* targets, int rows, int cols, float* probs) {
  double loss = 0;
  for (int r = 0; r < rows; r++) {
    const float* l = logits + (size_t)r * cols;
    const float* t = targets + (size_t)r * cols;
    float* p = probs + (size_t)r * cols;
    float max = row_max(l, cols);
    double s = exp_shifted(l, cols, max, p);
    double logS = host_log(s), inv = 1.0 / s;
    for (int j = 0; j < cols; j++) p[j] = (float)(p[j] * inv);
    for (int j = 0; j < cols; j++)
      if (t[j] != 0.0f) loss -= t[j] * (((double)l[j] - max) - logS);
  }
  return loss;
}

// ---- LSTM cell ---------------------------------------------------------------------------------

EXPORT("lstm_cell")
void lstm_cell(int B, int H, const float* pre, const float* c_prev, float* gates, float* c, float* h) {
  for (int b = 0; b < B; b++) {
    const float* pr = pre + (size_t)b * 4 * H;
    float* g = gates + (size_t)b * 4 * H;
    const float* cp = c_prev + (size_t)b * H;
    float* cr = c + (size_t)b * H;
    float* hr = h + (size_t)b * H;
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      v128_t f = v_sigmoid(ld(pr + u, n));
      v128_t i = v_sigmoid(ld(pr + H + u, n));
      v128_t cc = v_tanh(ld(pr + 2 * H + u, n));
      v128_t o = v_sigmoid(ld(pr + 3 * H + u, n));
      st(g + u, f, n);
      st(g + H + u, i, n);
      st(g + 2 * H + u, cc, n);
      st(g + 3 * H + u, o, n);
      v128_t cv = wasm_f32x4_add(wasm_f32x4_mul(f, ld(cp + u, n)), wasm_f32x4_mul(i, cc));
      st(cr + u, cv, n);
      st(hr + u, wasm_f32x4_mul(o, v_tanh(cv)), n);
    }
  }
}

EXPORT("lstm_cell_backward")
void lstm_cell_backward(int B, int H, const float* gates, const float* c_prev, const float* c, const float* dh,
                        const float* dc, float* d_pre, float* dc_prev) {
  const v128_t one = F4(1.0f);
  for (int b = 0; b < B; b++) {
    const float* g = gates + (size_t)b * 4 * H;
    float* dp = d_pre + (size_t)b * 4 * H;
    size_t s0 = (size_t)b * H;
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      v128_t f = ld(g + u, n), i = ld(g + H + u, n), cc = ld(g + 2 * H + u, n), o = ld(g + 3 * H + u, n);
      v128_t tc = v_tanh(ld(c + s0 + u, n));
      v128_t dhv = ld(dh + s0 + u, n);
      v128_t dcv = wasm_f32x4_add(ld(dc + s0 + u, n),
                                  wasm_f32x4_mul(wasm_f32x4_mul(dhv, o),
                                                 wasm_f32x4_mul(wasm_f32x4_sub(one, tc), wasm_f32x4_add(one, tc))));
      v128_t cp = ld(c_prev + s0 + u, n);
      st(dp + u, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(dcv, cp), f), wasm_f32x4_sub(one, f)), n);
      st(dp + H + u, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(dcv, cc), i), wasm_f32x4_sub(one, i)), n);
      st(dp + 2 * H + u, wasm_f32x4_mul(wasm_f32x4_mul(dcv, i),
                                        wasm_f32x4_mul(wasm_f32x4_sub(one, cc), wasm_f32x4_add(one, cc))), n);
      st(dp + 3 * H + u, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(dhv, tc), o), wasm_f32x4_sub(one, o)), n);
      st(dc_prev + s0 + u, wasm_f32x4_mul(dcv, f), n);
    }
  }
}

// ---- GRU cell: the elementwise parts around its two GEMMs per step --------------------------------

EXPORT("gru_gates")
void gru_gates(int B, int H, const float* pre, const float* h, float* gates, float* reset_hidden) {
  for (int b = 0; b < B; b++) {
    const float* p = pre + (size_t)b * 2 * H;
    float* g = gates + (size_t)b * 2 * H;
    for (int u = 0; u < 2 * H; u += 4) st(g + u, v_sigmoid(ld(p + u, (size_t)(2 * H - u))), (size_t)(2 * H - u));
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      st(reset_hidden + (size_t)b * H + u, wasm_f32x4_mul(ld(g + H + u, n), ld(h + (size_t)b * H + u, n)), n);
    }
  }
}

EXPORT("gru_state")
void gru_state(int B, int H, const float* gates, const float* h_prev, const float* pre_candidate, float* candidate,
               float* h) {
  const v128_t one = F4(1.0f);
  for (int b = 0; b < B; b++) {
    const float* z = gates + (size_t)b * 2 * H;
    size_t s0 = (size_t)b * H;
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      v128_t zv = ld(z + u, n);
      v128_t nv = v_tanh(ld(pre_candidate + s0 + u, n));
      st(candidate + s0 + u, nv, n);
      st(h + s0 + u, wasm_f32x4_add(wasm_f32x4_mul(zv, ld(h_prev + s0 + u, n)), wasm_f32x4_mul(wasm_f32x4_sub(one, zv), nv)), n);
    }
  }
}

EXPORT("gru_state_backward")
void gru_state_backward(int B, int H, const float* gates, const float* h_prev, const float* candidate,
                        const float* dh, float* dh_prev, float* d_pre_candidate, float* d_pre_gates) {
  const v128_t one = F4(1.0f);
  for (int b = 0; b < B; b++) {
    const float* z = gates + (size_t)b * 2 * H;
    float* dz = d_pre_gates + (size_t)b * 2 * H;
    size_t s0 = (size_t)b * H;
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      v128_t zv = ld(z + u, n), nv = ld(candidate + s0 + u, n), d = ld(dh + s0 + u, n);
      v128_t omz = wasm_f32x4_sub(one, zv);
      st(dh_prev + s0 + u, wasm_f32x4_mul(d, zv), n);
      st(d_pre_candidate + s0 + u, wasm_f32x4_mul(wasm_f32x4_mul(d, omz), wasm_f32x4_sub(one, wasm_f32x4_mul(nv, nv))), n);
      v128_t diff = wasm_f32x4_sub(ld(h_prev + s0 + u, n), nv);
      st(dz + u, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(d, diff), zv), omz), n);
    }
  }
}

EXPORT("gru_gates_backward")
void gru_gates_backward(int B, int H, const float* gates, const float* h, const float* d_reset_hidden,
                        float* d_pre_gates, float* dh) {
  const v128_t one = F4(1.0f);
  for (int b = 0; b < B; b++) {
    const float* r = gates + (size_t)b * 2 * H + H;
    float* dr = d_pre_gates + (size_t)b * 2 * H + H;
    size_t s0 = (size_t)b * H;
    for (int u = 0; u < H; u += 4) {
      size_t n = (size_t)(H - u);
      v128_t rv = ld(r + u, n), d = ld(d_reset_hidden + s0 + u, n);
      st(dr + u, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(d, ld(h + s0 + u, n)), rv), wasm_f32x4_sub(one, rv)), n);
      st(dh + s0 + u, wasm_f32x4_mul(d, rv), n);
    }
  }
}

// ---- rows by index: embedding lookups, masked steps, predictions ----------------------------------

EXPORT("gather_rows")
int gather_rows(const float* src, int rows, int cols, const float* index, int n, float* out) {
  for (int k = 0; k < n; k++) {
    float v = index[k];
    if (!(v >= 0.0f && v < (float)rows && v == __builtin_floorf(v))) return k;
    const float* s = src + (size_t)v * cols;
    float* o = out + (size_t)k * cols;
    for (int j = 0; j < cols; j++) o[j] = s[j];
  }
  return -1;
}

EXPORT("scatter_add_rows")
void scatter_add_rows(const float* src, int cols, const float* index, int n, float* out) {
  for (int k = 0; k < n; k++) {
    float* o = out + (size_t)index[k] * cols;
    const float* g = src + (size_t)k * cols;
    for (int j = 0; j < cols; j++) o[j] += g[j];
  }
}

EXPORT("argmax_rows")
void argmax_rows(const float* x, int rows, int cols, int* out) {
  for (int r = 0; r < rows; r++) {
    const float* row = x + (size_t)r * cols;
    int best = 0;
    for (int j = 1; j < cols; j++)
      if (row[j] > row[best]) best = j;
    out[r] = best;
  }
}

EXPORT("nonzero_indices")
int nonzero_indices(const float* x, int n, float* out) {
  int c = 0;
  for (int i = 0; i < n; i++)
    if (x[i] != 0.0f) out[c++] = (float)i;
  return c;
}

// ---- softmax backward, layer normalisation, permute ---------------------------------------------

EXPORT("softmax_backward") void softmax_backward(const float* y, const float* dy, int rows, int cols, float* dx) {
  for (int r = 0; r < rows; r++) {
    const float* yr = y + (size_t)r * cols;
    const float* g = dy + (size_t)r * cols;
    float* o = dx + (size_t)r * cols;
    double dot = 0;
    for (int j = 0; j < cols; j++) dot += (double)g[j] * yr[j];
    for (int j = 0; j < cols; j++) o[j] = (float)(yr[j] * ((double)g[j] - dot));
  }
}

// Statistics in float64; gamma/beta may be null (0).
EXPORT("layer_norm")
void layer_norm(const float* x, const float* gamma, const float* beta, int rows, int cols, double eps, float* y,
                float* xhat, float* rstd) {
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (size_t)r * cols;
    double s = 0;
    for (int j = 0; j < cols; j++) s += xr[j];
    double mu = s / cols, v = 0;
    for (int j = 0; j < cols; j++) {
      double d = xr[j] - mu;
      v += d * d;
    }
    double rs = 1.0 / __builtin_sqrt(v / cols + eps);
    rstd[r] = (float)rs;
    float* h = xhat + (size_t)r * cols;
    float* o = y + (size_t)r * cols;
    for (int j = 0; j < cols; j++) {
      float hv = (float)((xr[j] - mu) * rs);
      h[j] = hv;
      o[j] = (gamma ? gamma[j] * hv : hv) + (beta ? beta[j] : 0.0f);
    }
  }
}

EXPORT("layer_norm_backward")
void layer_norm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma, int rows, int cols,
                         float* dx) {
  for (int r = 0; r < rows; r++) {
    const float* g = dy + (size_t)r * cols;
    const float* h = xhat + (size_t)r * cols;
    double m1 = 0, m2 = 0;
    for (int j = 0; j < cols; j++) {
      double gj = gamma ? (double)g[j] * gamma[j] : g[j];
      m1 += gj;
      m2 += gj * h[j];
    }
    m1 /= cols;
    m2 /= cols;
    float* o = dx + (size_t)r * cols;
    for (int j = 0; j < cols; j++) {
      double gj = gamma ? (double)g[j] * gamma[j] : g[j];
      o[j] = (float)((gj - m1 - h[j] * m2) * rstd[r]);
    }
  }
}

// geo = [rank, shape[rank], axes[rank]]; output dimension i is input dimension axes[i].
EXPORT("permute") void permute(const float* x, const int* geo, float* out) {
  int r = geo[0];
  const int* shape = geo + 1;
  const int* axes = shape + r;
  size_t in_stride[16], total = 1;
  for (int d = r - 1; d >= 0; d--) {
    in_stride[d] = total;
    total *= (size_t)shape[d];
  }
  if (total == 0) return;
  if (r == 0) {
    out[0] = x[0];
    return;
  }
  size_t oshape[16], stride[16], idx[16] = {0};
  for (int d = 0; d < r; d++) {
    oshape[d] = (size_t)shape[axes[d]];
    stride[d] = in_stride[axes[d]];
  }
  size_t inner = oshape[r - 1], is = stride[r - 1], base = 0;
  for (size_t o = 0; o < total; o += inner) {
    float* dst = out + o;
    if (is == 1) {
      for (size_t j = 0; j < inner; j++) dst[j] = x[base + j];
    } else {
      for (size_t j = 0; j < inner; j++) dst[j] = x[base + j * is];
    }
    for (int d = r - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < oshape[d]) break;
      base -= stride[d] * oshape[d];
      idx[d] = 0;
    }
  }
}
