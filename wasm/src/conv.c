// Convolution (im2col + the packed GEMM, one image at a time) and pooling for the WebAssembly
// backend. With Q = c·kh·kw and P = oh·ow, per image b:
//   forward      y_b[k × P]   = W[k × Q] · cols_b[Q × P] (+ bias)
//   filter grad  dW[k × Q]   += dy_b[k × P] · cols_bᵀ      (db[f] += Σ dy_b[f, :])
//   data grad    dcols[Q × P] = Wᵀ · dy_b, added back into dx_b (col2im)
#include "dendrite.h"

typedef struct {
  int n, c, h, w, k, kh, kw, sh, sw, pt, pl, oh, ow;
} geom;

// cols[q, p] for q = (ch, i, j), p = (oy, ox); zero where the window reads padding.
static void im2col(const geom* g, const float* x, float* cols) {
  int P = g->oh * g->ow;
  for (int ch = 0; ch < g->c; ch++) {
    for (int i = 0; i < g->kh; i++) {
      for (int j = 0; j < g->kw; j++) {
        float* row = cols + (size_t)((ch * g->kh + i) * g->kw + j) * P;
        int lo = 0, hi = g->ow - 1;
        while (lo < g->ow && lo * g->sw + j - g->pl < 0) lo++;
        while (hi >= 0 && hi * g->sw + j - g->pl >= g->w) hi--;
        for (int oy = 0; oy < g->oh; oy++) {
          float* dst = row + (size_t)oy * g->ow;
          int iy = oy * g->sh + i - g->pt;
          if (iy < 0 || iy >= g->h || lo > hi) {
            __builtin_memset(dst, 0, sizeof(float) * (size_t)g->ow);
            continue;
          }
          const float* src = x + ((size_t)ch * g->h + iy) * g->w + j - g->pl;
          for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
          if (g->sw == 1) {
            for (int ox = lo; ox <= hi; ox++) dst[ox] = src[ox];
          } else {
            for (int ox = lo; ox <= hi; ox++) dst[ox] = src[ox * g->sw];
          }
          for (int ox = hi + 1; ox < g->ow; ox++) dst[ox] = 0.0f;
        }
      }
    }
  }
}

// dx += col2im(dcols): the adjoint of im2col.
static void col2im_add(const geom* g, const float* dcols, float* dx) {
  int P = g->oh * g->ow;
  for (int ch = 0; ch < g->c; ch++) {
    for (int i = 0; i < g->kh; i++) {
      for (int j = 0; j < g->kw; j++) {
        const float* row = dcols + (size_t)((ch * g->kh + i) * g->kw + j) * P;
        int lo = 0, hi = g->ow - 1;
        while (lo < g->ow && lo * g->sw + j - g->pl < 0) lo++;
        while (hi >= 0 && hi * g->sw + j - g->pl >= g->w) hi--;
        for (int oy = 0; oy < g->oh; oy++) {
          int iy = oy * g->sh + i - g->pt;
          if (iy < 0 || iy >= g->h) continue;
          const float* src = row + (size_t)oy * g->ow;
          float* dst = dx + ((size_t)ch * g->h + iy) * g->w + j - g->pl;
          for (int ox = lo; ox <= hi; ox++) dst[ox * g->sw] += src[ox];
        }
      }
    }
  }
}

#define GEOM                                                                                       \
  geom g = {n, c, h, w, k, kh, kw, sh, sw, pt, pl, oh, ow};                                        \
  int Q = c * kh * kw, P = oh * ow;                                                                \
  size_t xs = (size_t)c * h * w, ys = (size_t)k * P;

#define GEOM_ARGS int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int pt, int pl, int oh, int ow

EXPORT("conv2d") void conv2d(const float* x, const float* wt, const float* bias, float* y, GEOM_ARGS) {
  GEOM
  size_t mark = scratch_mark();
  float* cols = (float*)scratch_alloc(sizeof(float) * (size_t)Q * P);
  for (int b = 0; b < n; b++) {
    float* yb = y + b * ys;
    for (int f = 0; f < k; f++) {
      float bv = bias ? bias[f] : 0.0f;
      for (int p = 0; p < P; p++) yb[(size_t)f * P + p] = bv;
    }
    im2col(&g, x + b * xs, cols);
    gemm_core(0, 0, k, P, Q, 1.0f, wt, cols, yb);
  }
  scratch_release(mark);
}

EXPORT("conv2d_backward_data") void conv2d_backward_data(const float* dy, const float* wt, float* dx, GEOM_ARGS) {
  GEOM
  size_t mark = scratch_mark();
  float* dcols = (float*)scratch_alloc(sizeof(float) * (size_t)Q * P);
  __builtin_memset(dx, 0, sizeof(float) * xs * n);
  for (int b = 0; b < n; b++) {
    __builtin_memset(dcols, 0, sizeof(float) * (size_t)Q * P);
    gemm_core(1, 0, Q, P, k, 1.0f, wt, dy + b * ys, dcols);
    col2im_add(&g, dcols, dx + b * xs);
  }
  scratch_release(mark);
}

EXPORT("conv2d_backward_filter")
void conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db, GEOM_ARGS) {
  GEOM
  size_t mark = scratch_mark();
  float* cols = (float*)scratch_alloc(sizeof(float) * (size_t)Q * P);
  for (int b = 0; b < n; b++) {
    const float* dyb = dy + b * ys;
    if (db) {
      for (int f = 0; f < k; f++) {
        float s = 0.0f;
        for (int p = 0; p < P; p++) s += dyb[(size_t)f * P + p];
        db[f] += s;
      }
    }
    im2col(&g, x + b * xs, cols);
    gemm_core(0, 1, k, Q, P, 1.0f, dyb, cols, dw);
  }
  scratch_release(mark);
}

// ---- pooling (no padding; windows clipped at the bottom/right edge) ----------------------------

#define POOL_ARGS int n, int c, int h, int w, int ph, int pw, int sh, int sw, int oh, int ow

EXPORT("max_pool") void max_pool(const float* x, float* y, int* argmax, POOL_ARGS) {
  size_t o = 0;
  for (int plane = 0; plane < n * c; plane++) {
    size_t base = (size_t)plane * h * w;
    for (int oy = 0; oy < oh; oy++) {
      int y0 = oy * sh;
      int iEnd = ph < h - y0 ? ph : h - y0;
      for (int ox = 0; ox < ow; ox++, o++) {
        int x0 = ox * sw;
        int jEnd = pw < w - x0 ? pw : w - x0;
        size_t at = base + (size_t)y0 * w + x0;
        float best = x[at];
        for (int i = 0; i < iEnd; i++) {
          size_t r = base + (size_t)(y0 + i) * w + x0;
          for (int j = 0; j < jEnd; j++) {
            float v = x[r + j];
            if (v > best) {
              best = v;
              at = r + j;
            }
          }
        }
        y[o] = best;
        argmax[o] = (int)at;
      }
    }
  }
}

// Returns −1 on success, else the index of the first argmax outside dx (nothing written then).
EXPORT("max_pool_backward")
int max_pool_backward(const float* dy, const int* argmax, float* dx, POOL_ARGS) {
  size_t nx = (size_t)n * c * h * w, total = (size_t)n * c * oh * ow;
  for (size_t o = 0; o < total; o++)
    if ((size_t)(uint32_t)argmax[o] >= nx) return (int)o;
  __builtin_memset(dx, 0, sizeof(float) * nx);
  for (size_t o = 0; o < total; o++) dx[argmax[o]] += dy[o];
  return -1;
}

EXPORT("avg_pool") void avg_pool(const float* x, float* y, POOL_ARGS) {
  double inv = 1.0 / ((double)ph * pw);
  size_t o = 0;
  for (int plane = 0; plane < n * c; plane++) {
    const float* xp = x + (size_t)plane * h * w;
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++, o++) {
        double s = 0;
        for (int i = 0; i < ph && oy * sh + i < h; i++)
          for (int j = 0; j < pw && ox * sw + j < w; j++) s += xp[(size_t)(oy * sh + i) * w + ox * sw + j];
        y[o] = (float)(s * inv);
      }
    }
  }
}

EXPORT("avg_pool_backward") void avg_pool_backward(const float* dy, float* dx, POOL_ARGS) {
  double inv = 1.0 / ((double)ph * pw);
  __builtin_memset(dx, 0, sizeof(float) * (size_t)n * c * h * w);
  size_t o = 0;
  for (int plane = 0; plane < n * c; plane++) {
    float* dp = dx + (size_t)plane * h * w;
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++, o++) {
        float v = (float)(dy[o] * inv);
        for (int i = 0; i < ph && oy * sh + i < h; i++)
          for (int j = 0; j < pw && ox * sw + j < w; j++) dp[(size_t)(oy * sh + i) * w + ox * sw + j] += v;
      }
    }
  }
}
