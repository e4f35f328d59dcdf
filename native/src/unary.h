/* The elementwise functions of the native (C++, native/src/elementwise.cc) and WebAssembly (C,
 * wasm/src/elementwise.c) kernels: ONE definition of each, in plain C that both compilers turn
 * into SIMD loops (branch-free selects, bit casts, no libm: the WebAssembly build has none).
 *
 * DN_UNARY_TABLE lists every function as X(ENUM, "name", heavy, forward, derivative), the forward an
 * expression of the float x and the parameter (p as double, pf as float), the derivative of x,
 * y = f(x) and the parameter. The names are the rows of src/backend/unary.ts; each backend hands
 * its list to JavaScript (the addon's unaryOps(), the module's unary_op_name()), which maps names
 * to codes from it, so no enum order is assumed anywhere, and test/backend/unary-table.test.ts
 * checks every row of the TypeScript table against both kernels.
 *
 * Accuracy (checked against double precision in test/helpers/backend-comparisons.ts): exp within
 * 1 ulp over the whole float range (overflow to +inf, underflow through the subnormals to 0, NaN
 * propagated), tanh within 1.5 ulp, sigmoid within 2.5 ulp, log within 2 ulp. */
#ifndef DN_UNARY_H
#define DN_UNARY_H

#include <stdint.h>

static inline float dn_bits_to_float(uint32_t u) {
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t dn_float_to_bits(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}

/* e^x. Range reduction x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part exact in float
 * and a low correction), e^r by its Taylor series to degree 7 (truncation error < 5e-9
 * relative), and 2^n applied as two factors 2^(n/2)·2^(n−n/2) so that results near the ends of
 * the range (overflow, subnormals) come out right without special cases. */
static inline float dn_exp(float x) {
  const float shifter = 12582912.0f; /* 1.5·2^23: adding it rounds to an integer in the low bits */
  /* (written as "x < c ? x : c" so that both compilers emit their cheap non-NaN min/max; a NaN
   * is restored at the end) */
  float xc = x < 89.0f ? x : 89.0f;
  xc = xc > -104.0f ? xc : -104.0f;
  float t = xc * 1.44269504088896341f + shifter;
  int32_t n = (int32_t)dn_float_to_bits(t) - 0x4B400000; /* the rounded integer */
  float fn = t - shifter;
  float r = xc - fn * 0.693359375f; /* ln2's high part, exact in 9 bits */
  r = r - fn * -2.12194440054690583e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t n1 = n >> 1;
  int32_t n2 = n - n1;
  float s1 = dn_bits_to_float((uint32_t)(n1 + 127) << 23);
  float s2 = dn_bits_to_float((uint32_t)(n2 + 127) << 23);
  float y = (p * s1) * s2;
  return x != x ? x : y;
}

/* ln x: x = 2^e·m with m in [√½, √2); ln m = log1p(f), f = m − 1, from s = f/(2 + f):
 * log1p(f) = f − (f²/2 − s·(f²/2 + R(s²))), R the atanh series to s⁸. Subnormals are scaled up
 * first; x < 0 and NaN give NaN, 0 gives −∞, +∞ gives +∞. */
static inline float dn_log(float x) {
  int tiny = x < 1.17549435e-38f;
  float xs = tiny ? x * 8388608.0f : x;
  uint32_t b = dn_float_to_bits(xs);
  int32_t e = (int32_t)(b >> 23) - 127 - (tiny ? 23 : 0);
  float m = dn_bits_to_float((b & 0x7fffffu) | 0x3f800000u);
  int big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = e + (big ? 1 : 0);
  float f = m - 1.0f;
  float s = f / (2.0f + f);
  float z = s * s;
  float r = 2.0f / 9.0f;
  r = r * z + 2.0f / 7.0f;
  r = r * z + 2.0f / 5.0f;
  r = r * z + 2.0f / 3.0f;
  r = r * z;
  float hfsq = 0.5f * (f * f);
  float lm = f - (hfsq - s * (hfsq + r));
  float fe = (float)e;
  float y = fe * 0.693359375f + (lm + fe * -2.12194440054690583e-4f);
  y = x == 0.0f ? -__builtin_inff() : y;
  y = x == __builtin_inff() ? x : y;
  return (x < 0.0f || x != x) ? __builtin_nanf("") : y;
}

/* 1 / (1 + e^−x); saturates cleanly to 0 and 1. */
static inline float dn_sigmoid(float x) {
  return 1.0f / (1.0f + dn_exp(-x));
}

/* tanh x: an odd polynomial x + x³·P(x²) for |x| < 0.625 (least-squares fit for relative error,
 * ≤ 1.4·2⁻²⁴ in float arithmetic), else 1 − 2/(e^{2|x|} + 1) with the sign restored. */
static inline float dn_tanh(float x) {
  float ax = x < 0.0f ? -x : x;
  float z = x * x;
  float p = -0.0057189627550542355f;
  p = p * z + 0.020653124898672104f;
  p = p * z - 0.05374465882778168f;
  p = p * z + 0.13331513106822968f;
  p = p * z - 0.3333328664302826f;
  float small = x + x * z * p;
  float e = dn_exp(2.0f * ax);
  float big = 1.0f - 2.0f / (e + 1.0f);
  big = x < 0.0f ? -big : big;
  float y = ax < 0.625f ? small : big;
  return x != x ? x : y;
}

/* Φ(x), the standard normal distribution function: 0.5·erfc(|x|/√2) on the negative side and
 * 1 − that on the positive one, erfc(z) = t·e^(−z² + P(t)) with t = 1/(1 + z/2) and the degree-9
 * polynomial of Numerical Recipes' erfcc (relative error < 1.2e-7 in exact arithmetic; the float
 * rounding of z² adds a few ulps in the far tails). */
static inline float dn_normal_cdf(float x) {
  float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float h = 0.5f * t * dn_exp(p - z * z);
  return x < 0.0f ? h : 1.0f - h;
}

/* GELU x·Φ(x) (the exact form); −0 below −40 so that −∞ gives −0, not NaN. */
static inline float dn_gelu(float x) {
  float y = x * dn_normal_cdf(x);
  return x < -40.0f ? -0.0f : y;
}

/* d/dx x·Φ(x) = Φ(x) + x·φ(x); 0 below −40 and 1 above 40. */
static inline float dn_gelu_grad(float x) {
  float d = dn_normal_cdf(x) + x * 0.3989422804014327f * dn_exp(-0.5f * x * x);
  d = x > 40.0f ? 1.0f : d;
  return x < -40.0f ? 0.0f : d;
}

/* softplus ln(1 + e^x) = max(x, 0) + log1p(e^−|x|), log1p(u) as ln(w)·u/(w − 1) with w = 1 + u
 * rounded (exact where w − 1 = 0: then log1p(u) = u to float precision). */
static inline float dn_softplus(float x) {
  float ax = x < 0.0f ? -x : x;
  float u = dn_exp(-ax);
  float w = 1.0f + u;
  float d = w - 1.0f;
  float l = d == 0.0f ? u : dn_log(w) * (u / d);
  float y = (x > 0.0f ? x : 0.0f) + l;
  return x != x ? x : y;
}

/* X(ENUM, "name", heavy, forward(x, p, pf), derivative(x, y, p, pf)): the rows of
 * src/backend/unary.ts; `heavy` (1 for exp-like costs per element) lets the native backend split
 * shorter loops over its threads. The threshold compares in double (θ need not be a float), as the
 * reference does. */
#define DN_UNARY_TABLE(X)                                                                           \
  X(LINEAR, "linear", 0, x, 1.0f) \
  X(LOGISTIC, "logistic", 1, dn_sigmoid(x), y * (1.0f - y)) \
  X(TANH, "tanh", 1, dn_tanh(x), (1.0f - y) * (1.0f + y)) \
  X(RELU, "relu", 0, x > 0.0f ? x : 0.0f, x > 0.0f ? 1.0f : 0.0f) \
  X(LEAKY_RELU, "leakyRelu", 0, x > 0.0f ? x : pf * x, x > 0.0f ? 1.0f : pf) \
  X(THRESHOLD, "threshold", 0, (double)x >= p ? 1.0f : 0.0f, 0.0f) \
  X(GELU, "gelu", 1, dn_gelu(x), dn_gelu_grad(x)) \
  X(SOFTPLUS, "softplus", 1, dn_softplus(x), dn_sigmoid(x)) \
  X(EXP, "exp", 1, dn_exp(x), y) \
  X(LOG, "log", 1, dn_log(x), 1.0f / x) \
  X(NEG, "neg", 0, -x, -1.0f) \
  X(SQRT, "sqrt", 0, __builtin_sqrtf(x), 0.5f / y) \
  X(SQUARE, "square", 0, x * x, 2.0f * x) \
  X(ABS, "abs", 0, __builtin_fabsf(x), x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f))

#define DN_UNARY_ENUM(E, NAME, H, F, D) DN_U_##E,
enum { DN_UNARY_TABLE(DN_UNARY_ENUM) DN_U_COUNT };
#undef DN_UNARY_ENUM

/* The name of op code i (the string the JavaScript side maps to i), or 0 past the end. */
static inline const char* dn_unary_name(int i) {
#define DN_UNARY_NAME(E, NAME, H, F, D) NAME,
  static const char* const names[] = {DN_UNARY_TABLE(DN_UNARY_NAME)};
#undef DN_UNARY_NAME
  return i >= 0 && i < DN_U_COUNT ? names[i] : 0;
}

#endif
