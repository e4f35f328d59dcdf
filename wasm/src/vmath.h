// Four-lane float32 elementary functions for the WebAssembly softmax and LSTM kernels: the
// algorithms of native/src/unary.h (exp: range reduction by ln 2 and a degree-7 Taylor polynomial,
// 2^n applied as two factors; tanh: odd polynomial near 0, else 1 − 2/(e^{2|x|} + 1)), written
// with wasm SIMD intrinsics. The elementwise kernels (unary, unary_grad) use unary.h directly.
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
