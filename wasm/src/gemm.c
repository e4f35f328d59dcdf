// GEMM for the WebAssembly backend: C = alpha·op(A)·op(B) + beta·C, row-major.
//
// The shape of it follows GotoBLAS/XNNPACK: B is packed into panels of NR = 8 columns with the
// shared dimension running down each panel ([kc][8], zero padded), A into panels of MR = 4 rows
// ([kc][4]); a 4×8 register tile (8 accumulators of 4 lanes) is computed by the micro-kernel
// from one broadcast load of A per row and two vector loads of B per step. (6×8, XNNPACK's choice
// for x86, needs 15 vector registers; V8 keeps one as scratch and spills: 4×8 measured up to 2×
// faster here. -DMR=5 or 6 builds the others for comparison.) Packing reads either
// storage order, so the four transposition cases share one kernel. KC bounds a B panel to 8 KB
// (L1) and an A block to MC·KC floats (L2).
//
// Products with at most 4 rows (one-example inference, the LSTM's per-step products at small
// batch) skip packing: rows of C are built from dot products (B transposed) or row updates.
//
// Multiplications and additions are separate (wasm SIMD has no fused multiply-add outside the
// relaxed-SIMD proposal), so results are the same on every engine.
#include "dendrite.h"

#ifndef MR
#define MR 4
#endif
#define NR 8
#define KC 256
#define MC 120
#define NC 1024

// Element (i, p) of op(A) and (p, j) of op(B) through strides.
typedef struct {
  const float* p;
  int rs, cs;
} mat;

// A[i0 .. i0+mr) × [p0 .. p0+kc) into [kc][MR] (rows past mr are zero).
static void pack_a(mat a, int i0, int mr, int p0, int kc, float* out) {
  if (a.cs == 1) {
    for (int r = 0; r < MR; r++) {
      if (r < mr) {
        const float* src = a.p + (size_t)(i0 + r) * a.rs + p0;
        for (int p = 0; p < kc; p++) out[p * MR + r] = src[p];
      } else {
        for (int p = 0; p < kc; p++) out[p * MR + r] = 0.0f;
      }
    }
  } else {
    // A stored transposed: a row of the panel is contiguous in memory
    for (int p = 0; p < kc; p++) {
      const float* src = a.p + (size_t)(p0 + p) * a.cs + (size_t)i0 * a.rs;
      float* dst = out + p * MR;
      int r = 0;
      for (; r < mr; r++) dst[r] = src[r];
      for (; r < MR; r++) dst[r] = 0.0f;
    }
  }
}

// B[p0 .. p0+kc) × [j0 .. j0+nr) into [kc][NR] (columns past nr are zero).
static void pack_b(mat b, int p0, int kc, int j0, int nr, float* out) {
  if (b.cs == 1) {
    const float* src = b.p + (size_t)p0 * b.rs + j0;
    if (nr == NR) {
      for (int p = 0; p < kc; p++, src += b.rs) {
        wasm_v128_store(out + p * NR, wasm_v128_load(src));
        wasm_v128_store(out + p * NR + 4, wasm_v128_load(src + 4));
      }
    } else {
      for (int p = 0; p < kc; p++, src += b.rs) {
        int c = 0;
        for (; c < nr; c++) out[p * NR + c] = src[c];
        for (; c < NR; c++) out[p * NR + c] = 0.0f;
      }
    }
  } else {
    // B stored transposed (n×k): each column is contiguous
    for (int c = 0; c < NR; c++) {
      if (c < nr) {
        const float* src = b.p + (size_t)(j0 + c) * b.cs + p0;
        for (int p = 0; p < kc; p++) out[p * NR + c] = src[p];
      } else {
        for (int p = 0; p < kc; p++) out[p * NR + c] = 0.0f;
      }
    }
  }
}

#define STEP(r) \
  { \
    v128_t av = wasm_v128_load32_splat(ap + r); \
    c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(av, b0)); \
    c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(av, b1)); \
  }

// C[mr × nr] += alpha · (A panel · B panel).
static void ukernel(int kc, const float* ap, const float* bp, float* c, int ldc, float alpha, int mr, int nr) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  v128_t c30 = c00, c31 = c00;
#if MR > 4
  v128_t c40 = c00, c41 = c00;
#endif
#if MR > 5
  v128_t c50 = c00, c51 = c00;
#endif
  for (int p = 0; p < kc; p++) {
    const v128_t b0 = wasm_v128_load(bp);
    const v128_t b1 = wasm_v128_load(bp + 4);
    STEP(0) STEP(1) STEP(2) STEP(3)
#if MR > 4
    STEP(4)
#endif
#if MR > 5
    STEP(5)
#endif
    ap += MR;
    bp += NR;
  }
  const v128_t va = wasm_f32x4_splat(alpha);
  if (mr == MR && nr == NR) {
#define OUT(r) \
  { \
    float* cr = c + (size_t)r * ldc; \
    wasm_v128_store(cr, wasm_f32x4_add(wasm_v128_load(cr), wasm_f32x4_mul(va, c##r##0))); \
    wasm_v128_store(cr + 4, wasm_f32x4_add(wasm_v128_load(cr + 4), wasm_f32x4_mul(va, c##r##1))); \
  }
    OUT(0) OUT(1) OUT(2) OUT(3)
#if MR > 4
    OUT(4)
#endif
#if MR > 5
    OUT(5)
#endif
#undef OUT
    return;
  }
  float t[MR * NR] __attribute__((aligned(16)));
#define KEEP(r) \
  wasm_v128_store(t + r * NR, wasm_f32x4_mul(va, c##r##0)); \
  wasm_v128_store(t + r * NR + 4, wasm_f32x4_mul(va, c##r##1));
  KEEP(0) KEEP(1) KEEP(2) KEEP(3)
#if MR > 4
  KEEP(4)
#endif
#if MR > 5
  KEEP(5)
#endif
#undef KEEP
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++) c[(size_t)r * ldc + j] += t[r * NR + j];
}

static float hsum(v128_t s) {
  return (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) +
         (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
}

static float dot(const float* x, const float* y, int k) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  int p = 0;
  for (; p + 8 <= k; p += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(x + p), wasm_v128_load(y + p)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(x + p + 4), wasm_v128_load(y + p + 4)));
  }
  float s = hsum(wasm_f32x4_add(s0, s1));
  for (; p < k; p++) s += x[p] * y[p];
  return s;
}

// c[j .. j+4) += alpha·(x · column j+t of B) for B stored transposed (n×k, column j at b + j·ldb):
// four dot products at once, two accumulators each (eight independent chains instead of the two
// of dot(), which a latency-bound add left at a third of the machine's rate), one load of x each.
static void dot4(const float* x, const float* b, int ldb, int k, float alpha, float* c) {
  const float *b0 = b, *b1 = b + ldb, *b2 = b + 2 * (size_t)ldb, *b3 = b + 3 * (size_t)ldb;
  v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  int p = 0;
  for (; p + 8 <= k; p += 8) {
    const v128_t x0 = wasm_v128_load(x + p), x1 = wasm_v128_load(x + p + 4);
    s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(x0, wasm_v128_load(b0 + p)));
    s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(x1, wasm_v128_load(b0 + p + 4)));
    s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(x0, wasm_v128_load(b1 + p)));
    s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(x1, wasm_v128_load(b1 + p + 4)));
    s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(x0, wasm_v128_load(b2 + p)));
    s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(x1, wasm_v128_load(b2 + p + 4)));
    s30 = wasm_f32x4_add(s30, wasm_f32x4_mul(x0, wasm_v128_load(b3 + p)));
    s31 = wasm_f32x4_add(s31, wasm_f32x4_mul(x1, wasm_v128_load(b3 + p + 4)));
  }
  float r0 = hsum(wasm_f32x4_add(s00, s01)), r1 = hsum(wasm_f32x4_add(s10, s11));
  float r2 = hsum(wasm_f32x4_add(s20, s21)), r3 = hsum(wasm_f32x4_add(s30, s31));
  for (; p < k; p++) {
    r0 += x[p] * b0[p];
    r1 += x[p] * b1[p];
    r2 += x[p] * b2[p];
    r3 += x[p] * b3[p];
  }
  c[0] += alpha * r0;
  c[1] += alpha * r1;
  c[2] += alpha * r2;
  c[3] += alpha * r3;
}

// c[0..n) += alpha·Σ_p row[p]·B[p, :] for B stored k×n row-major.
static void row_update(const float* row, const float* b, int n, int k, float alpha, float* c) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    const float* bp = b + j;
    for (int p = 0; p < k; p++, bp += n) {
      v128_t av = wasm_f32x4_splat(row[p]);
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(av, wasm_v128_load(bp)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(av, wasm_v128_load(bp + 4)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(av, wasm_v128_load(bp + 8)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(av, wasm_v128_load(bp + 12)));
    }
    v128_t va = wasm_f32x4_splat(alpha);
    wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j), wasm_f32x4_mul(va, s0)));
    wasm_v128_store(c + j + 4, wasm_f32x4_add(wasm_v128_load(c + j + 4), wasm_f32x4_mul(va, s1)));
    wasm_v128_store(c + j + 8, wasm_f32x4_add(wasm_v128_load(c + j + 8), wasm_f32x4_mul(va, s2)));
    wasm_v128_store(c + j + 12, wasm_f32x4_add(wasm_v128_load(c + j + 12), wasm_f32x4_mul(va, s3)));
  }
  for (; j + 4 <= n; j += 4) {
    v128_t s0 = wasm_f32x4_splat(0.0f);
    const float* bp = b + j;
    for (int p = 0; p < k; p++, bp += n) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_f32x4_splat(row[p]), wasm_v128_load(bp)));
    wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j), wasm_f32x4_mul(wasm_f32x4_splat(alpha), s0)));
  }
  for (; j < n; j++) {
    float s = 0.0f;
    for (int p = 0; p < k; p++) s += row[p] * b[(size_t)p * n + j];
    c[j] += alpha * s;
  }
}

// Few rows: no packing of B (it would cost as much as the product).
static void gemm_few_rows(mat a, mat b, int m, int n, int k, float alpha, float* c) {
  float* row = (float*)scratch_alloc(sizeof(float) * (size_t)k);
  for (int i = 0; i < m; i++) {
    const float* ar = a.p + (size_t)i * a.rs;
    if (a.cs != 1) {
      for (int p = 0; p < k; p++) row[p] = a.p[(size_t)i * a.rs + (size_t)p * a.cs];
      ar = row;
    }
    float* ci = c + (size_t)i * n;
    if (b.rs == 1) {
      int j = 0;
      for (; j + 4 <= n; j += 4) dot4(ar, b.p + (size_t)j * b.cs, b.cs, k, alpha, ci + j);
      for (; j < n; j++) ci[j] += alpha * dot(ar, b.p + (size_t)j * b.cs, k);
    } else {
      row_update(ar, b.p, n, k, alpha, ci);
    }
  }
}

// The packed product for columns [j0, j1) of C (ldc = the full width n): packing buffers pa, pb
// (GEMM_WS_FLOATS floats from ws). Every element of C is the same sequence of operations whatever
// the column range, so splitting the columns over threads gives bit-identical results.
static void gemm_packed(mat A, mat B, int m, int j0, int j1, int k, float alpha, float* c, int ldc, float* ws) {
  float* pb = ws;
  float* pa = ws + (size_t)KC * (NC + NR);
  for (int jc = j0; jc < j1; jc += NC) {
    int nc = j1 - jc < NC ? j1 - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      for (int jr = 0; jr < nc; jr += NR) pack_b(B, pc, kc, jc + jr, nc - jr < NR ? nc - jr : NR, pb + (size_t)jr * kc);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        for (int ir = 0; ir < mc; ir += MR) pack_a(A, ic + ir, mc - ir < MR ? mc - ir : MR, pc, kc, pa + (size_t)ir * kc);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            ukernel(kc, pa + (size_t)ir * kc, pb + (size_t)jr * kc, c + (size_t)(ic + ir) * ldc + jc + jr, ldc, alpha, mr, nr);
          }
        }
      }
    }
  }
}

#define GEMM_WS_FLOATS ((size_t)KC * (NC + NR) + (size_t)KC * (MC + MR))

static mat mat_a(const float* a, int ta, int m, int k) { mat A = {a, ta ? 1 : k, ta ? m : 1}; return A; }
static mat mat_b(const float* b, int tb, int n, int k) { mat B = {b, tb ? 1 : n, tb ? k : 1}; return B; }

void gemm_core(int ta, int tb, int m, int n, int k, float alpha, const float* a, const float* b, float* c) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  mat A = mat_a(a, ta, m, k), B = mat_b(b, tb, n, k);
  size_t mark = scratch_mark();
  if (m <= 4) {
    gemm_few_rows(A, B, m, n, k, alpha, c);
  } else {
    gemm_packed(A, B, m, 0, n, k, alpha, c, n, (float*)scratch_alloc(sizeof(float) * GEMM_WS_FLOATS));
  }
  scratch_release(mark);
}

// Bytes of workspace a thread needs for gemm_cols.
EXPORT("gemm_ws_bytes") size_t gemm_ws_bytes(void) { return sizeof(float) * GEMM_WS_FLOATS; }

// Columns [j0, j1) of C += alpha·op(A)·op(B) (m > 4), with the caller's workspace: what each
// thread runs on its share of a big product (the host splits the columns and has applied beta).
EXPORT("gemm_cols")
void gemm_cols(int ta, int tb, int m, int n, int k, float alpha, const float* a, const float* b, float* c, int j0, int j1,
               float* ws) {
  if (m <= 0 || j1 <= j0 || k <= 0) return;
  gemm_packed(mat_a(a, ta, m, k), mat_b(b, tb, n, k), m, j0, j1, k, alpha, c, n, ws);
}

// beta·C (beta = 0 clears C, NaN included), before a product is accumulated into it.
EXPORT("gemm_beta") void gemm_beta(float* c, size_t mn, float beta) {
  if (beta == 0.0f) {
    __builtin_memset(c, 0, mn * sizeof(float));
  } else if (beta != 1.0f) {
    for (size_t i = 0; i < mn; i++) c[i] *= beta;
  }
}

EXPORT("gemm")
void gemm(int ta, int tb, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_beta(c, (size_t)m * n, beta);
  gemm_core(ta, tb, m, n, k, alpha, a, b, c);
}

// C_i = alpha·op(A_i)·op(B_i) + beta·C_i for count products at the given element offsets.
EXPORT("gemm_batched")
void gemm_batched(int ta, int tb, int m, int n, int k, float alpha, const float* a, const int* aoff, const float* b,
                  const int* boff, float beta, float* c, const int* coff, int count) {
  for (int i = 0; i < count; i++) gemm(ta, tb, m, n, k, alpha, a + aoff[i], b + boff[i], beta, c + coff[i]);
}
