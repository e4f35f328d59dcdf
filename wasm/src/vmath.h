// Four-lane float32 elementary functions for the WebAssembly kernels: the algorithms of
// native/src/vmath.h (exp: range reduction by ln 2 and a degree-7 Taylor polynomial, 2^n applied
// as two factors; tanh: odd polynomial near 0, else 1 − 2/(e^{2|x|} + 1)), written with wasm SIMD
// intrinsics, plus a logarithm (exponent split, log1p of the mantissa by the atanh series).
#pragma once
#include <wasm_simd128.h>

#define F4(v) wasm_f32x4_splat(v)
#define I4(v) wasm_i32x4_splat(v)

static inline v128_t v_exp(v128_t x) {
  const v128_t shifter = F4(12582912.0f);
  v128_t xc = wasm_f32x4_pmin(F4(89.0f), x);
  xc = wasm_f32x4_pmax(F4(-104.0f), xc);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(xc, F4(1.44269504088896341f)), shifter);
  v128_t n = wasm_i32x4_sub(t, I4(0x4B400000));
  v128_t fn = wasm_f32x4_sub(t, shifter);
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(fn, F4(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(fn, F4(-2.12194440054690583e-4f)));
  v128_t p = F4(1.0f / 5040.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 720.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 120.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 24.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f / 6.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.0f));
  v128_t n1 = wasm_i32x4_shr(n, 1);
  v128_t n2 = wasm_i32x4_sub(n, n1);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, I4(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, I4(127)), 23);
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
  return wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x));
}

static inline v128_t v_sigmoid(v128_t x) {
  return wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), v_exp(wasm_f32x4_neg(x))));
}

static inline v128_t v_tanh(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t p = F4(-0.0057189627550542355f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(0.020653124898672104f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(-0.05374465882778168f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(0.13331513106822968f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(-0.3333328664302826f));
  v128_t small = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(x, z), p));
  v128_t e = v_exp(wasm_f32x4_mul(F4(2.0f), ax));
  v128_t big = wasm_f32x4_sub(F4(1.0f), wasm_f32x4_div(F4(2.0f), wasm_f32x4_add(e, F4(1.0f))));
  // restore the sign: copy x's sign bit onto |big|
  big = wasm_v128_or(big, wasm_v128_and(x, I4((int)0x80000000)));
  v128_t y = wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, F4(0.625f)));
  return wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x));
}

// ln x: x = 2^e·m with m in [√½, √2); ln m = log1p(f), f = m − 1, from s = f/(2 + f):
// log1p(f) = f − (f²/2 − s·(f²/2 + R(s²))), R the atanh series to s⁸. Subnormals are scaled
// up first; x < 0 and NaN give NaN, 0 gives −∞, +∞ gives +∞.
static inline v128_t v_log(v128_t x) {
  v128_t tiny = wasm_f32x4_lt(x, F4(1.17549435e-38f));
  v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, F4(8388608.0f)), x, tiny);
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(xs, 23), I4(127));
  e = wasm_i32x4_add(e, wasm_v128_and(tiny, I4(-23)));
  v128_t m = wasm_v128_or(wasm_v128_and(xs, I4(0x7fffff)), I4(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, F4(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, F4(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big);
  v128_t f = wasm_f32x4_sub(m, F4(1.0f));
  v128_t s = wasm_f32x4_div(f, wasm_f32x4_add(F4(2.0f), f));
  v128_t z = wasm_f32x4_mul(s, s);
  v128_t r = F4(2.0f / 9.0f);
  r = wasm_f32x4_add(wasm_f32x4_mul(r, z), F4(2.0f / 7.0f));
  r = wasm_f32x4_add(wasm_f32x4_mul(r, z), F4(2.0f / 5.0f));
  r = wasm_f32x4_add(wasm_f32x4_mul(r, z), F4(2.0f / 3.0f));
  r = wasm_f32x4_mul(r, z);
  v128_t hfsq = wasm_f32x4_mul(F4(0.5f), wasm_f32x4_mul(f, f));
  v128_t lm = wasm_f32x4_sub(f, wasm_f32x4_sub(hfsq, wasm_f32x4_mul(s, wasm_f32x4_add(hfsq, r))));
  v128_t fe = wasm_f32x4_convert_i32x4(e);
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(fe, F4(0.693359375f)),
                            wasm_f32x4_add(lm, wasm_f32x4_mul(fe, F4(-2.12194440054690583e-4f))));
  y = wasm_v128_bitselect(F4(-__builtin_inff()), y, wasm_f32x4_eq(x, F4(0.0f)));
  y = wasm_v128_bitselect(x, y, wasm_f32x4_eq(x, F4(__builtin_inff())));
  return wasm_v128_bitselect(F4(__builtin_nanf("")), y, wasm_v128_or(wasm_f32x4_lt(x, F4(0.0f)), wasm_f32x4_ne(x, x)));
}

// Φ(x) and GELU x·Φ(x): native/src/vmath.h's algorithm (erfc(z) = t·e^(−z² + P(t)), t = 1/(1 + z/2),
// Numerical Recipes' degree-9 P), four lanes at a time.
static inline v128_t v_normal_cdf(v128_t x) {
  v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(x), F4(0.70710678118654752f));
  v128_t t = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(F4(0.5f), z)));
  static const float c[] = {-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f,
                            0.37409196f, 1.00002368f, -1.26551223f};
  v128_t p = F4(0.17087277f);
  for (int i = 0; i < 9; i++) p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(c[i]));
  v128_t h = wasm_f32x4_mul(wasm_f32x4_mul(F4(0.5f), t), v_exp(wasm_f32x4_sub(p, wasm_f32x4_mul(z, z))));
  return wasm_v128_bitselect(h, wasm_f32x4_sub(F4(1.0f), h), wasm_f32x4_lt(x, F4(0.0f)));
}

static inline v128_t v_gelu(v128_t x) {
  v128_t y = wasm_f32x4_mul(x, v_normal_cdf(x));
  return wasm_v128_bitselect(F4(-0.0f), y, wasm_f32x4_lt(x, F4(-40.0f)));
}

static inline v128_t v_gelu_grad(v128_t x) {
  v128_t d = wasm_f32x4_add(v_normal_cdf(x), wasm_f32x4_mul(wasm_f32x4_mul(x, F4(0.3989422804014327f)),
                                                              v_exp(wasm_f32x4_mul(F4(-0.5f), wasm_f32x4_mul(x, x)))));
  d = wasm_v128_bitselect(F4(1.0f), d, wasm_f32x4_gt(x, F4(40.0f)));
  return wasm_v128_bitselect(F4(0.0f), d, wasm_f32x4_lt(x, F4(-40.0f)));
}
