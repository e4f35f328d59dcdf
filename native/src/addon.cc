// N-API glue: reads the JavaScript arguments (Float32Array pointers are used in place, never
// copied), checks every buffer against the sizes the kernel will touch, and turns every C++
// exception (oneDNN reports errors by exception) into a JavaScript Error, so nothing a caller
// passes can crash the process. The JavaScript side (src/backend/native.ts) maps names to the
// integer op codes of kernels.h and packs geometry into plain numbers.
#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels.h"
#include "unary.h"

namespace dn {

namespace {

// A bad argument from JavaScript: becomes a TypeError or RangeError.
struct ArgError : std::runtime_error {
  bool range;
  ArgError(const std::string& m, bool is_range) : std::runtime_error(m), range(is_range) {}
};

// An N-API call failed; its exception (if any) is already pending in JavaScript.
struct NapiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status st, const char* what) {
  if (st != napi_ok) throw NapiFailure(what);
  (void)env;
}

constexpr size_t kMaxArgs = 40;

struct Args {
  napi_env env;
  const char* fn;
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];

  Args(napi_env e, napi_callback_info info, const char* name, size_t expected) : env(e), fn(name) {
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "napi_get_cb_info");
    if (argc < expected) {
      throw ArgError(std::string(fn) + ": expected " + std::to_string(expected) + " arguments, received " +
                         std::to_string(argc),
                     false);
    }
  }

  [[noreturn]] void type_error(size_t i, const char* want) const {
    throw ArgError(std::string(fn) + ": argument " + std::to_string(i) + " must be " + want, false);
  }

  bool is_null(size_t i) const {
    napi_valuetype t;
    check(env, napi_typeof(env, argv[i], &t), "napi_typeof");
    return t == napi_null || t == napi_undefined;
  }

  template <class T>
  T* typed(size_t i, napi_typedarray_type want, const char* want_name, int64_t need, const char* name) const {
    bool is_ta = false;
    check(env, napi_is_typedarray(env, argv[i], &is_ta), "napi_is_typedarray");
    if (!is_ta) type_error(i, want_name);
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    check(env, napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr),
          "napi_get_typedarray_info");
    if (type != want) type_error(i, want_name);
    if (need < 0 || static_cast<int64_t>(length) < need) {
      throw ArgError(std::string(fn) + ": buffer " + name + " has " + std::to_string(length) +
                         " elements, needs " + std::to_string(need),
                     true);
    }
    return static_cast<T*>(data);
  }

  float* f32(size_t i, int64_t need, const char* name) const {
    return typed<float>(i, napi_float32_array, "a Float32Array", need, name);
  }
  // A Float32Array, or null when `nullable`.
  float* f32_or_null(size_t i, int64_t need, const char* name) const {
    if (is_null(i)) return nullptr;
    return f32(i, need, name);
  }
  double* f64(size_t i, int64_t need, const char* name) const {
    return typed<double>(i, napi_float64_array, "a Float64Array", need, name);
  }
  int32_t* i32(size_t i, int64_t need, const char* name) const {
    return typed<int32_t>(i, napi_int32_array, "an Int32Array", need, name);
  }
  // Length of a Float32Array argument.
  int64_t f32_length(size_t i) const {
    napi_typedarray_type type;
    size_t length = 0;
    bool is_ta = false;
    check(env, napi_is_typedarray(env, argv[i], &is_ta), "napi_is_typedarray");
    if (!is_ta) type_error(i, "a Float32Array");
    check(env, napi_get_typedarray_info(env, argv[i], &type, &length, nullptr, nullptr, nullptr),
          "napi_get_typedarray_info");
    if (type != napi_float32_array) type_error(i, "a Float32Array");
    return static_cast<int64_t>(length);
  }

  double num(size_t i) const {
    double v;
    if (napi_get_value_double(env, argv[i], &v) != napi_ok) type_error(i, "a number");
    return v;
  }
  // A non-negative integer size.
  int64_t size(size_t i, const char* name) const {
    double v = num(i);
    if (!(v >= 0) || v != static_cast<double>(static_cast<int64_t>(v)) || v > 9.0e15) {
      throw ArgError(std::string(fn) + ": " + name + " must be a non-negative integer, received " +
                         std::to_string(v),
                     true);
    }
    return static_cast<int64_t>(v);
  }
  bool boolean(size_t i) const {
    bool v;
    if (napi_get_value_bool(env, argv[i], &v) != napi_ok) type_error(i, "a boolean");
    return v;
  }
};

napi_value make_number(napi_env env, double v) {
  napi_value r;
  check(env, napi_create_double(env, v, &r), "napi_create_double");
  return r;
}

napi_value make_bool(napi_env env, bool v) {
  napi_value r;
  check(env, napi_get_boolean(env, v, &r), "napi_get_boolean");
  return r;
}

void throw_js(napi_env env, const char* code, const std::string& msg, int kind) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  if (kind == 1) napi_throw_type_error(env, code, msg.c_str());
  else if (kind == 2) napi_throw_range_error(env, code, msg.c_str());
  else napi_throw_error(env, code, msg.c_str());
}

// Runs a kernel body and converts whatever it throws into a pending JavaScript exception.
template <class F>
napi_value guarded(napi_env env, const char* fn, F body) {
  try {
    pin_openmp();  // oneDNN runs single-threaded on every calling thread (see threads.cc)
    return body();
  } catch (const ArgError& e) {
    throw_js(env, "DENDRITE_NATIVE_ARGUMENT", e.what(), e.range ? 2 : 1);
  } catch (const NapiFailure& e) {
    throw_js(env, "DENDRITE_NATIVE_NAPI", std::string(fn) + ": N-API call " + e.what() + " failed", 0);
  } catch (const dnnl::error& e) {
    throw_js(env, "DENDRITE_NATIVE_ONEDNN",
             std::string(fn) + ": oneDNN error " + std::to_string(static_cast<int>(e.status)) + ": " + e.what(),
             0);
  } catch (const std::bad_alloc&) {
    throw_js(env, "DENDRITE_NATIVE_MEMORY", std::string(fn) + ": out of memory", 0);
  } catch (const std::exception& e) {
    throw_js(env, "DENDRITE_NATIVE", std::string(fn) + ": " + e.what(), 0);
  } catch (...) {
    throw_js(env, "DENDRITE_NATIVE", std::string(fn) + ": unknown native error", 0);
  }
  return nullptr;
}

// Defines the JavaScript-facing function js_<name> whose body sees the checked arguments as `a`.
#define DN_EXPORT(name, nargs)                                                                    \
  napi_value js_##name##_body(const Args& a);                                                     \
  napi_value js_##name(napi_env env, napi_callback_info info) {                                   \
    return guarded(env, #name, [&]() { return js_##name##_body(Args(env, info, #name, nargs)); }); \
  }                                                                                               \
  napi_value js_##name##_body(const Args& a)

int64_t mul_checked(const Args& a, std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs) {
    if (x != 0 && p > INT64_C(9000000000000000) / x) throw ArgError(std::string(a.fn) + ": sizes overflow", true);
    p *= x;
  }
  return p;
}

// gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
DN_EXPORT(gemm, 10) {
  const bool ta = a.boolean(0), tb = a.boolean(1);
  const int64_t m = a.size(2, "m"), n = a.size(3, "n"), k = a.size(4, "k");
  const float alpha = static_cast<float>(a.num(5));
  const float* A = a.f32(6, mul_checked(a, {m, k}), "a");
  const float* B = a.f32(7, mul_checked(a, {k, n}), "b");
  const float beta = static_cast<float>(a.num(8));
  float* C = a.f32(9, mul_checked(a, {m, n}), "c");
  dn::gemm(ta, tb, m, n, k, alpha, A, B, beta, C);
  return nullptr;
}

// Checks that every offset of a batched operand leaves room for `span` elements in a buffer of `len`.
void check_offsets(const Args& a, const int32_t* off, int64_t count, int64_t span, int64_t len, const char* name) {
  for (int64_t i = 0; i < count; i++) {
    if (off[i] < 0 || off[i] + span > len) {
      throw ArgError(std::string(a.fn) + ": " + name + " offset " + std::to_string(off[i]) + " at index " +
                         std::to_string(i) + " leaves no room for " + std::to_string(span) + " elements in " +
                         std::to_string(len),
                     true);
    }
  }
}

// gemmBatched(transA, transB, m, n, k, alpha, a, aOffsets, b, bOffsets, beta, c, cOffsets)
DN_EXPORT(gemmBatched, 13) {
  const bool ta = a.boolean(0), tb = a.boolean(1);
  const int64_t m = a.size(2, "m"), n = a.size(3, "n"), k = a.size(4, "k");
  const float alpha = static_cast<float>(a.num(5));
  const float beta = static_cast<float>(a.num(10));
  const int64_t alen = a.f32_length(6), blen = a.f32_length(8), clen = a.f32_length(11);
  const float* A = a.f32(6, 0, "a");
  const float* B = a.f32(8, 0, "b");
  float* C = a.f32(11, 0, "c");
  // the number of products is the length of cOffsets; aOffsets and bOffsets must have as many
  napi_typedarray_type type;
  size_t count = 0;
  bool is_ta = false;
  check(a.env, napi_is_typedarray(a.env, a.argv[12], &is_ta), "napi_is_typedarray");
  if (!is_ta) a.type_error(12, "an Int32Array");
  check(a.env, napi_get_typedarray_info(a.env, a.argv[12], &type, &count, nullptr, nullptr, nullptr),
        "napi_get_typedarray_info");
  const int64_t cnt = static_cast<int64_t>(count);
  const int32_t* ao = a.i32(7, cnt, "aOffsets");
  const int32_t* bo = a.i32(9, cnt, "bOffsets");
  const int32_t* co = a.i32(12, cnt, "cOffsets");
  check_offsets(a, ao, cnt, mul_checked(a, {m, k}), alen, "a");
  check_offsets(a, bo, cnt, mul_checked(a, {k, n}), blen, "b");
  check_offsets(a, co, cnt, mul_checked(a, {m, n}), clen, "c");
  dn::gemm_batched(ta, tb, m, n, k, alpha, A, ao, B, bo, beta, C, co, cnt);
  return nullptr;
}

int op_code(const Args& a, size_t i, int count) {
  const double v = a.num(i);
  const int op = static_cast<int>(v);
  if (op < 0 || op >= count || static_cast<double>(op) != v) {
    throw ArgError(std::string(a.fn) + ": unknown op code " + std::to_string(v), true);
  }
  return op;
}

// unary(op, x, out, param): over x.length elements
DN_EXPORT(unary, 4) {
  const int op = op_code(a, 0, DN_U_COUNT);
  const int64_t n = a.f32_length(1);
  const float* x = a.f32(1, n, "x");
  float* out = a.f32(2, n, "out");
  dn::unary(op, n, x, out, a.num(3));
  return nullptr;
}

// unaryGrad(op, x, y, dy, dx, param, accumulate): over x.length elements
DN_EXPORT(unaryGrad, 7) {
  const int op = op_code(a, 0, DN_U_COUNT);
  const int64_t n = a.f32_length(1);
  const float* x = a.f32(1, n, "x");
  const float* y = a.f32(2, n, "y");
  const float* dy = a.f32(3, n, "dy");
  float* dx = a.f32(4, n, "dx");
  dn::unary_grad(op, n, x, y, dy, dx, a.num(5), a.boolean(6));
  return nullptr;
}

// unaryOps() → the names of the unary op codes 0, 1, … (unary.h's table), for the JavaScript side
DN_EXPORT(unaryOps, 0) {
  napi_value arr;
  check(a.env, napi_create_array_with_length(a.env, DN_U_COUNT, &arr), "napi_create_array_with_length");
  for (int i = 0; i < DN_U_COUNT; i++) {
    napi_value s;
    check(a.env, napi_create_string_utf8(a.env, dn_unary_name(i), NAPI_AUTO_LENGTH, &s), "napi_create_string_utf8");
    check(a.env, napi_set_element(a.env, arr, static_cast<uint32_t>(i), s), "napi_set_element");
  }
  return arr;
}

// binary(op, a, b, out, geometry): geometry is an Int32Array [nd, shape…, aStrides…, bStrides…]
DN_EXPORT(binary, 5) {
  const int op = op_code(a, 0, B_COUNT);
  const int32_t* geo = a.i32(4, 1, "geometry");
  const int nd = geo[0];
  if (nd < 0 || nd > 16) throw ArgError("binary: rank must be 0…16, received " + std::to_string(nd), true);
  a.i32(4, 1 + 3 * nd, "geometry");
  int64_t shape[16], as[16], bs[16];
  int64_t total = 1, a_end = 1, b_end = 1;  // one past the largest index touched
  for (int d = 0; d < nd; d++) {
    shape[d] = geo[1 + d];
    as[d] = geo[1 + nd + d];
    bs[d] = geo[1 + 2 * nd + d];
    if (shape[d] < 0 || as[d] < 0 || bs[d] < 0) throw ArgError("binary: negative shape or stride", true);
    total = mul_checked(a, {total, shape[d]});
    if (shape[d] > 0) {
      a_end += as[d] * (shape[d] - 1);
      b_end += bs[d] * (shape[d] - 1);
    }
  }
  if (total == 0) a_end = b_end = 0;
  const float* A = a.f32(1, a_end, "a");
  const float* B = a.f32(2, b_end, "b");
  float* out = a.f32(3, total, "out");
  if (total > 0) dn::binary(op, A, as, B, bs, out, shape, nd);
  return nullptr;
}

// axpy(n, alpha, b, a, out)
DN_EXPORT(axpy, 5) {
  const int64_t n = a.size(0, "n");
  const float alpha = static_cast<float>(a.num(1));
  dn::axpy(n, alpha, a.f32(2, n, "b"), a.f32(3, n, "a"), a.f32(4, n, "out"));
  return nullptr;
}

// scale(x, s, out): over x.length
DN_EXPORT(scale, 3) {
  const int64_t n = a.f32_length(0);
  dn::scale(n, a.f32(0, n, "x"), static_cast<float>(a.num(1)), a.f32(2, n, "out"));
  return nullptr;
}

// fill(out, v)
DN_EXPORT(fill, 2) {
  const int64_t n = a.f32_length(0);
  dn::fill(n, a.f32(0, n, "out"), static_cast<float>(a.num(1)));
  return nullptr;
}

// sumAxis(x, outer, axis, inner, out, accumulate)
DN_EXPORT(sumAxis, 6) {
  const int64_t outer = a.size(1, "outer"), axis = a.size(2, "axis"), inner = a.size(3, "inner");
  const float* x = a.f32(0, mul_checked(a, {outer, axis, inner}), "x");
  float* out = a.f32(4, mul_checked(a, {outer, inner}), "out");
  dn::sum_axis(x, outer, axis, inner, out, a.boolean(5));
  return nullptr;
}

// addBroadcast(x, y, outer, axis, inner, out)
DN_EXPORT(addBroadcast, 6) {
  const int64_t outer = a.size(2, "outer"), axis = a.size(3, "axis"), inner = a.size(4, "inner");
  const int64_t total = mul_checked(a, {outer, axis, inner});
  dn::add_broadcast(a.f32(0, total, "x"), a.f32(1, mul_checked(a, {outer, inner}), "y"), outer, axis, inner,
                    a.f32(5, total, "out"));
  return nullptr;
}

// Argument i as a geometry: an Int32Array [rank, …(head − 1) values, per_dim values for each of
// rank dimensions], rank at most max_rank; checked whole before it is read.
const int32_t* geometry(const Args& a, size_t i, int head, int per_dim, int max_rank) {
  const int32_t* geo = a.i32(i, head, "geometry");
  const int rank = geo[0];
  if (rank < 0 || rank > max_rank) {
    throw ArgError(std::string(a.fn) + ": rank must be 0…" + std::to_string(max_rank) + ", received " + std::to_string(rank),
                   true);
  }
  return a.i32(i, head + per_dim * rank, "geometry");
}

// softmax(x, rows, cols, out)
DN_EXPORT(softmax, 4) {
  const int64_t rows = a.size(1, "rows"), cols = a.size(2, "cols");
  const int64_t total = mul_checked(a, {rows, cols});
  dn::softmax(a.f32(0, total, "x"), rows, cols, a.f32(3, total, "out"));
  return nullptr;
}

// permute(x, out, geometry = [rank, shape…, axes…])
DN_EXPORT(permute, 3) {
  const int32_t* geo = geometry(a, 2, 1, 2, 16);
  const int nd = geo[0];
  int64_t shape[16];
  int axes[16];
  bool seen[16] = {false};
  int64_t total = 1;
  for (int d = 0; d < nd; d++) {
    shape[d] = geo[1 + d];
    axes[d] = geo[1 + nd + d];
    if (shape[d] < 0) throw ArgError("permute: negative dimension", true);
    if (axes[d] < 0 || axes[d] >= nd || seen[axes[d]]) throw ArgError("permute: axes are not a permutation", true);
    seen[axes[d]] = true;
    total = mul_checked(a, {total, shape[d]});
  }
  dn::permute(a.f32(0, total, "x"), shape, axes, nd, a.f32(1, total, "out"));
  return nullptr;
}

// softmaxBackward(y, dy, rows, cols, dx)
DN_EXPORT(softmaxBackward, 5) {
  const int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  const int64_t total = mul_checked(a, {rows, cols});
  dn::softmax_backward(a.f32(0, total, "y"), a.f32(1, total, "dy"), rows, cols, a.f32(4, total, "dx"));
  return nullptr;
}

// layerNorm(x, gamma|null, beta|null, rows, cols, eps, y, xhat, rstd)
DN_EXPORT(layerNorm, 9) {
  const int64_t rows = a.size(3, "rows"), cols = a.size(4, "cols");
  const int64_t total = mul_checked(a, {rows, cols});
  dn::layer_norm(a.f32(0, total, "x"), a.f32_or_null(1, cols, "gamma"), a.f32_or_null(2, cols, "beta"), rows, cols,
                 static_cast<float>(a.num(5)), a.f32(6, total, "y"), a.f32(7, total, "xhat"), a.f32(8, rows, "rstd"));
  return nullptr;
}

// layerNormBackward(dy, xhat, rstd, gamma|null, rows, cols, dx)
DN_EXPORT(layerNormBackward, 7) {
  const int64_t rows = a.size(4, "rows"), cols = a.size(5, "cols");
  const int64_t total = mul_checked(a, {rows, cols});
  dn::layer_norm_backward(a.f32(0, total, "dy"), a.f32(1, total, "xhat"), a.f32(2, rows, "rstd"),
                          a.f32_or_null(3, cols, "gamma"), rows, cols, a.f32(6, total, "dx"));
  return nullptr;
}

// softmaxCrossEntropy(logits, targets, rows, cols, probs) → loss
DN_EXPORT(softmaxCrossEntropy, 5) {
  const int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  const int64_t total = mul_checked(a, {rows, cols});
  const double loss = dn::softmax_cross_entropy(a.f32(0, total, "logits"), a.f32(1, total, "targets"), rows,
                                                cols, a.f32(4, total, "probs"));
  return make_number(a.env, loss);
}

DN_EXPORT(sum, 1) {
  const int64_t n = a.f32_length(0);
  return make_number(a.env, dn::sum(a.f32(0, n, "x"), n));
}

DN_EXPORT(sumSquares, 1) {
  const int64_t n = a.f32_length(0);
  return make_number(a.env, dn::sum_squares(a.f32(0, n, "x"), n));
}

DN_EXPORT(allFinite, 1) {
  const int64_t n = a.f32_length(0);
  return make_bool(a.env, dn::all_finite(a.f32(0, n, "x"), n));
}

// A convolution call: its geometry from 13 numbers starting at argument i, checked for
// consistency, and its first three arguments bound as the buffers `roles` names, each sized by
// its role: the input x/dx [n, c, h, w], the filters w/dw [k, c, kh, kw] or the output y/dy
// [n, k, oh, ow] (element counts overflow-checked). `empty` when there is no output to compute.
struct ConvCall {
  ConvGeom g;
  int64_t x, w, y;
  bool empty;
  float* t[3];
};
// A convolution's geometry from 13 numbers starting at argument i.
ConvGeom conv_geom(const Args& a, size_t i) {
  static const char* names[13] = {"n", "c", "h", "w", "k", "kh", "kw", "sh", "sw", "padTop", "padLeft", "oh", "ow"};
  int64_t v[13];
  for (int j = 0; j < 13; j++) v[j] = a.size(i + j, names[j]);
  ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.c < 1 || g.k < 1) {
    throw ArgError(std::string(a.fn) + ": kernel, stride and channel counts must be ≥ 1", true);
  }
  return g;
}

ConvCall conv_call(const Args& a, size_t i, const std::array<const char*, 3>& roles) {
  const ConvGeom g = conv_geom(a, i);
  // (the bottom/right padding follows from oh/ow and may be negative when the last input rows or
  // columns are not covered; oneDNN checks the rest)
  ConvCall c{g, mul_checked(a, {g.n, g.c, g.h, g.w}), mul_checked(a, {g.k, g.c, g.kh, g.kw}),
             mul_checked(a, {g.n, g.k, g.oh, g.ow}), g.n == 0 || g.oh <= 0 || g.ow <= 0, {}};
  for (size_t j = 0; j < 3; j++) {
    const std::string r = roles[j];
    const int64_t len = r == "x" || r == "dx" ? c.x : (r == "w" || r == "dw" ? c.w : c.y);
    c.t[j] = a.f32(j, len, roles[j]);
  }
  return c;
}

// conv2d(x, w, y, bias|null, op, param, …geometry): y = f(conv2d(x, w) + bias) for the unary op f
// (code `op`, "linear" for none)
DN_EXPORT(conv2d, 19) {
  const ConvCall c = conv_call(a, 6, {"x", "w", "y"});
  const float* bias = a.f32_or_null(3, c.g.k, "bias");
  const int op = op_code(a, 4, DN_U_COUNT);
  if (!c.empty) dn::conv2d_act(c.g, c.t[0], c.t[1], bias, c.t[2], op, a.num(5));
  return nullptr;
}

// conv2dBackwardData(dy, w, dx, …geometry)
DN_EXPORT(conv2dBackwardData, 16) {
  const ConvCall c = conv_call(a, 3, {"dy", "w", "dx"});
  if (c.empty) dn::fill(c.x, c.t[2], 0.0f);
  else dn::conv2d_backward_data(c.g, c.t[0], c.t[1], c.t[2]);
  return nullptr;
}

// conv2dBackwardFilter(x, dy, dw, db|null, …geometry)
DN_EXPORT(conv2dBackwardFilter, 17) {
  const ConvCall c = conv_call(a, 4, {"x", "dy", "dw"});
  float* db = a.f32_or_null(3, c.g.k, "db");
  if (!c.empty) dn::conv2d_backward_filter(c.g, c.t[0], c.t[1], c.t[2], db);
  return nullptr;
}

// Pooling geometry from 10 numbers starting at argument i.
PoolGeom pool_geom(const Args& a, size_t i) {
  static const char* names[10] = {"n", "c", "h", "w", "ph", "pw", "sh", "sw", "oh", "ow"};
  int64_t v[10];
  for (int j = 0; j < 10; j++) v[j] = a.size(i + j, names[j]);
  PoolGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
  // every window starts inside the input (windows may be clipped at the bottom/right edge)
  if (g.ph < 1 || g.pw < 1 || g.sh < 1 || g.sw < 1 || (g.oh > 0 && (g.oh - 1) * g.sh >= g.h) ||
      (g.ow > 0 && (g.ow - 1) * g.sw >= g.w)) {
    throw ArgError(std::string(a.fn) + ": inconsistent pooling geometry", true);
  }
  if (mul_checked(a, {g.n, g.c, g.h, g.w}) > INT32_MAX) {
    throw ArgError(std::string(a.fn) + ": input too large for Int32 argmax indices", true);
  }
  return g;
}

// maxPool(x, y, argmax, …geometry)
DN_EXPORT(maxPool, 13) {
  const PoolGeom g = pool_geom(a, 3);
  const int64_t out = mul_checked(a, {g.n, g.c, g.oh, g.ow});
  dn::max_pool(g, a.f32(0, mul_checked(a, {g.n, g.c, g.h, g.w}), "x"), a.f32(1, out, "y"),
               a.i32(2, out, "argmax"));
  return nullptr;
}

// maxPoolBackward(dy, argmax, dx, …geometry)
DN_EXPORT(maxPoolBackward, 13) {
  const PoolGeom g = pool_geom(a, 3);
  const int64_t out = mul_checked(a, {g.n, g.c, g.oh, g.ow});
  const int64_t in = mul_checked(a, {g.n, g.c, g.h, g.w});
  dn::max_pool_backward(g, a.f32(0, out, "dy"), a.i32(1, out, "argmax"), a.f32(2, in, "dx"), in);
  return nullptr;
}

// avgPool(x, y, …geometry)
DN_EXPORT(avgPool, 12) {
  const PoolGeom g = pool_geom(a, 2);
  dn::avg_pool(g, a.f32(0, mul_checked(a, {g.n, g.c, g.h, g.w}), "x"),
               a.f32(1, mul_checked(a, {g.n, g.c, g.oh, g.ow}), "y"));
  return nullptr;
}

// avgPoolBackward(dy, dx, …geometry)
DN_EXPORT(avgPoolBackward, 12) {
  const PoolGeom g = pool_geom(a, 2);
  dn::avg_pool_backward(g, a.f32(0, mul_checked(a, {g.n, g.c, g.oh, g.ow}), "dy"),
                        a.f32(1, mul_checked(a, {g.n, g.c, g.h, g.w}), "dx"));
  return nullptr;
}

// A fused convolution–pooling call: the convolution's geometry (13 numbers from argument i) and
// the pooling's (10 more) over the convolution's output, the plan of the pair, and the sizes of
// the buffers it reads and writes.
struct ConvPoolCall {
  ConvGeom g;
  PoolGeom p;
  ConvPoolPlan plan;
  int64_t x, w, y;
};
ConvPoolCall conv_pool_call(const Args& a, size_t i, bool bias, int op, double param) {
  ConvPoolCall c{conv_geom(a, i), pool_geom(a, i + 13), {}, 0, 0, 0};
  const ConvGeom& g = c.g;
  if (c.p.n != g.n || c.p.c != g.k || c.p.h != g.oh || c.p.w != g.ow) {
    throw ArgError(std::string(a.fn) + ": the pooling geometry must be of the convolution's output [" + std::to_string(g.n) +
                       ", " + std::to_string(g.k) + ", " + std::to_string(g.oh) + ", " + std::to_string(g.ow) + "]",
                   true);
  }
  if (g.n == 0 || g.oh < 1 || g.ow < 1 || c.p.oh < 1 || c.p.ow < 1) {
    throw ArgError(std::string(a.fn) + ": empty convolution or pooling output", true);
  }
  c.x = mul_checked(a, {g.n, g.c, g.h, g.w});
  c.w = mul_checked(a, {g.k, g.c, g.kh, g.kw});
  c.y = mul_checked(a, {g.n, g.k, c.p.oh, c.p.ow});
  // (sizes first: the plan builds primitives)
  if (mul_checked(a, {g.n, (g.k + 15) / 16 * 16, g.oh, g.ow}) > INT32_MAX) {
    throw ArgError(std::string(a.fn) + ": activations too large for Int32 indices", true);
  }
  c.plan = dn::conv_pool_plan(g, c.p, bias, op, param);
  return c;
}

ConvPoolCall planned(const Args& a, size_t i, bool bias, int op, double param) {
  ConvPoolCall c = conv_pool_call(a, i, bias, op, param);
  if (c.plan.block == 0) throw ArgError(std::string(a.fn) + ": no fused path for this geometry (see convPoolPlan)", true);
  return c;
}

// convPoolPlan(bias, op, param, …conv geometry, …pool geometry) → [block, aSize, xSize, idxSize],
// or null when this geometry has no fused path
DN_EXPORT(convPoolPlan, 26) {
  const ConvPoolCall c = conv_pool_call(a, 3, a.boolean(0), op_code(a, 1, DN_U_COUNT), a.num(2));
  if (c.plan.block == 0) {
    napi_value r;
    check(a.env, napi_get_null(a.env, &r), "napi_get_null");
    return r;
  }
  napi_value arr;
  check(a.env, napi_create_array_with_length(a.env, 4, &arr), "napi_create_array_with_length");
  const int64_t v[4] = {c.plan.block, c.plan.a_size, c.plan.x_size, c.plan.idx_size};
  for (uint32_t j = 0; j < 4; j++) check(a.env, napi_set_element(a.env, arr, j, make_number(a.env, static_cast<double>(v[j]))), "napi_set_element");
  return arr;
}

// convPoolForward(x, w, bias|null, y, a, idx|null, xb|null, max, op, param, …conv, …pool)
DN_EXPORT(convPoolForward, 33) {
  const bool bias = !a.is_null(2);
  const bool max = a.boolean(7);
  const int op = op_code(a, 8, DN_U_COUNT);
  const ConvPoolCall c = planned(a, 10, bias, op, a.num(9));
  dn::conv_pool_forward(c.g, c.p, max, a.f32(0, c.x, "x"), a.f32(1, c.w, "w"), a.f32_or_null(2, c.g.k, "bias"), op,
                        a.num(9), a.f32(3, c.y, "y"), a.f32(4, c.plan.a_size, "a"),
                        max ? a.i32(5, c.plan.idx_size, "idx") : nullptr,
                        c.plan.x_size ? a.f32(6, c.plan.x_size, "xb") : nullptr);
  return nullptr;
}

// convPoolBackward(dy, a, idx|null, xin, w, dz, dx|null, dw|null, db|null, max, op, param, …conv, …pool)
DN_EXPORT(convPoolBackward, 35) {
  const bool max = a.boolean(9);
  const int op = op_code(a, 10, DN_U_COUNT);
  const ConvPoolCall c = planned(a, 12, false, op, a.num(11));
  const float* act = a.f32(1, c.plan.a_size, "a");
  const int32_t* idx = nullptr;
  if (max) {
    idx = a.i32(2, c.plan.idx_size, "idx");
    // every index must point into a (the forward wrote them; anything else would write outside dz)
    int32_t outside = 0;
    const int64_t lim = c.plan.a_size;
#pragma omp simd reduction(| : outside)
    for (int64_t j = 0; j < c.plan.idx_size; j++) outside |= static_cast<int32_t>(idx[j] < 0 || idx[j] >= lim);
    if (outside) throw ArgError("convPoolBackward: an index in idx is outside the activations a", true);
  }
  dn::conv_pool_backward(c.g, c.p, max, op, a.num(11), a.f32(0, c.y, "dy"), act, idx,
                         a.f32(3, c.plan.x_size ? c.plan.x_size : c.x, "xin"), a.f32(4, c.w, "w"),
                         a.f32(5, c.plan.a_size, "dz"), a.f32_or_null(6, c.x, "dx"), a.f32_or_null(7, c.w, "dw"),
                         a.f32_or_null(8, c.g.k, "db"));
  return nullptr;
}

// The recurrent cell kernels' arguments: the sizes B and H, then buffers of B·H·k floats each
// (k gate blocks: 4 for the LSTM's gates, 2 for the GRU's, 1 for a state).
struct Cell {
  const Args& a;
  int64_t B, H;
  explicit Cell(const Args& args) : a(args), B(args.size(0, "B")), H(args.size(1, "H")) {}
  float* buf(size_t i, int64_t k, const char* name) const { return a.f32(i, mul_checked(a, {B, H, k}), name); }
};

// A cell kernel's export: its arguments through a Cell `c`, one call, no result.
#define DN_CELL_EXPORT(name, argc, call) \
  DN_EXPORT(name, argc) {                \
    const Cell c(a);                     \
    call;                                \
    return nullptr;                      \
  }

// lstmCell(B, H, pre, cPrev, gates, c, h)
DN_CELL_EXPORT(lstmCell, 7, dn::lstm_cell(c.B, c.H, c.buf(2, 4, "pre"), c.buf(3, 1, "cPrev"), c.buf(4, 4, "gates"),
               c.buf(5, 1, "c"), c.buf(6, 1, "h")))

// lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev)
DN_CELL_EXPORT(lstmCellBackward, 9, dn::lstm_cell_backward(c.B, c.H, c.buf(2, 4, "gates"), c.buf(3, 1, "cPrev"),
               c.buf(4, 1, "c"), c.buf(5, 1, "dh"), c.buf(6, 1, "dc"), c.buf(7, 4, "dPre"), c.buf(8, 1, "dcPrev")))

// gruGates(B, H, pre, h, gates, resetHidden)
DN_CELL_EXPORT(gruGates, 6, dn::gru_gates(c.B, c.H, c.buf(2, 2, "pre"), c.buf(3, 1, "h"), c.buf(4, 2, "gates"),
               c.buf(5, 1, "resetHidden")))

// gruState(B, H, gates, hPrev, preCandidate, candidate, h)
DN_CELL_EXPORT(gruState, 7, dn::gru_state(c.B, c.H, c.buf(2, 2, "gates"), c.buf(3, 1, "hPrev"),
               c.buf(4, 1, "preCandidate"), c.buf(5, 1, "candidate"), c.buf(6, 1, "h")))

// gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates)
DN_CELL_EXPORT(gruStateBackward, 9, dn::gru_state_backward(c.B, c.H, c.buf(2, 2, "gates"), c.buf(3, 1, "hPrev"),
               c.buf(4, 1, "candidate"), c.buf(5, 1, "dh"), c.buf(6, 1, "dhPrev"), c.buf(7, 1, "dPreCandidate"),
               c.buf(8, 2, "dPreGates")))

// gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh)
DN_CELL_EXPORT(gruGatesBackward, 7, dn::gru_gates_backward(c.B, c.H, c.buf(2, 2, "gates"), c.buf(3, 1, "h"),
               c.buf(4, 1, "dResetHidden"), c.buf(5, 2, "dPreGates"), c.buf(6, 1, "dh")))

// gatherRows(src, cols, index, out) → −1 or the position of the first bad index
DN_EXPORT(gatherRows, 4) {
  const int64_t cols = a.size(1, "cols");
  const int64_t len = a.f32_length(0), n = a.f32_length(2);
  if (cols < 1 || len % cols != 0) throw ArgError("gatherRows: src length is not a multiple of cols", true);
  const float* index = a.f32(2, n, "index");
  return make_number(a.env, static_cast<double>(dn::gather_rows(a.f32(0, len, "src"), len / cols, cols, index, n,
                                                                a.f32(3, mul_checked(a, {n, cols}), "out"))));
}

// scatterAddRows(src, cols, index, out): indices are checked against out's rows
DN_EXPORT(scatterAddRows, 4) {
  const int64_t cols = a.size(1, "cols");
  const int64_t n = a.f32_length(2), len = a.f32_length(3);
  if (cols < 1 || len % cols != 0) throw ArgError("scatterAddRows: out length is not a multiple of cols", true);
  const float* index = a.f32(2, n, "index");
  for (int64_t k = 0; k < n; k++) {
    if (!(index[k] >= 0.0f && index[k] < static_cast<float>(len / cols))) throw ArgError("scatterAddRows: index outside out", true);
  }
  dn::scatter_add_rows(a.f32(0, mul_checked(a, {n, cols}), "src"), cols, index, n, a.f32(3, len, "out"));
  return nullptr;
}

// argmaxRows(x, rows, cols, out)
DN_EXPORT(argmaxRows, 4) {
  const int64_t rows = a.size(1, "rows"), cols = a.size(2, "cols");
  if (cols < 1) throw ArgError("argmaxRows: cols must be at least 1", true);
  dn::argmax_rows(a.f32(0, mul_checked(a, {rows, cols}), "x"), rows, cols, a.i32(3, rows, "out"));
  return nullptr;
}

// nonzeroIndices(x, out) → count
DN_EXPORT(nonzeroIndices, 2) {
  const int64_t n = a.f32_length(0);
  return make_number(a.env, static_cast<double>(dn::nonzero_indices(a.f32(0, n, "x"), n, a.f32(1, n, "out"))));
}

// setMaxThreads(n): team size for big ops (1 … the processor count)
DN_EXPORT(setMaxThreads, 1) {
  const int64_t n = a.size(0, "n");
  const int procs = omp_get_num_procs();
  if (n < 1 || n > procs) {
    throw ArgError("setMaxThreads: n must be 1…" + std::to_string(procs) + ", received " + std::to_string(n), true);
  }
  dn::set_max_threads(static_cast<int>(n));
  return nullptr;
}

DN_EXPORT(getMaxThreads, 0) {
  return make_number(a.env, dn::max_threads());
}

DN_EXPORT(convCacheSize, 0) {
  return make_number(a.env, static_cast<double>(dn::conv_cache_size()));
}

// sgdUpdate(w, g, velocity|null, learningRate, momentum, nesterov)
DN_EXPORT(sgdUpdate, 6) {
  const int64_t n = a.f32_length(0);
  dn::sgd_update(n, a.f32(0, n, "w"), a.f32(1, n, "g"), a.f32_or_null(2, n, "velocity"), a.num(3), a.num(4),
                 a.boolean(5));
  return nullptr;
}

// adamUpdate(w, g, m, v, learningRate, beta1, beta2, epsilon, c1, c2, keep)
DN_EXPORT(adamUpdate, 11) {
  const int64_t n = a.f32_length(0);
  dn::adam_update(n, a.f32(0, n, "w"), a.f32(1, n, "g"), a.f32(2, n, "m"), a.f32(3, n, "v"), a.num(4), a.num(5),
                  a.num(6), a.num(7), a.num(8), a.num(9), a.num(10));
  return nullptr;
}

// rmspropUpdate(w, g, ms, mg|null, mom|null, learningRate, rho, momentum, epsilon)
DN_EXPORT(rmspropUpdate, 9) {
  const int64_t n = a.f32_length(0);
  dn::rmsprop_update(n, a.f32(0, n, "w"), a.f32(1, n, "g"), a.f32(2, n, "ms"), a.f32_or_null(3, n, "mg"),
                     a.f32_or_null(4, n, "mom"), a.num(5), a.num(6), a.num(7), a.num(8));
  return nullptr;
}

// optimizerStep(rule, hyper, buffers) → Σg²: rule 0 SGD, 1 Adam, 2 RMSProp; hyper a Float64Array of 8;
// buffers [w, g, s0|null, s1|null, s2|null] per parameter, the states the rule needs present.
DN_EXPORT(optimizerStep, 3) {
  const double rule = a.num(0);
  if (rule != 0 && rule != 1 && rule != 2) throw ArgError("optimizerStep: rule must be 0, 1 or 2", true);
  const double* hyper = a.f64(1, 8, "hyper");
  bool is_array = false;
  check(a.env, napi_is_array(a.env, a.argv[2], &is_array), "napi_is_array");
  if (!is_array) a.type_error(2, "an array");
  uint32_t len = 0;
  check(a.env, napi_get_array_length(a.env, a.argv[2], &len), "napi_get_array_length");
  if (len % 5 != 0) throw ArgError("optimizerStep: buffers must hold 5 entries per parameter, received " + std::to_string(len), true);
  // the states each rule reads: SGD's velocity is optional (no momentum), Adam needs m and v, RMSProp ms
  const int required = rule == 1 ? 2 : rule == 2 ? 1 : 0;
  static const char* const names[5] = {"w", "g", "state 0", "state 1", "state 2"};
  std::vector<StepParam> ps(len / 5);
  for (uint32_t k = 0; k < len / 5; k++) {
    float* bufs[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    int64_t n = 0;
    for (uint32_t j = 0; j < 5; j++) {
      napi_value v;
      check(a.env, napi_get_element(a.env, a.argv[2], 5 * k + j, &v), "napi_get_element");
      // one call for the common case (a typed array); anything else is looked at only then
      napi_typedarray_type type = napi_int8_array;
      size_t length = 0;
      void* data = nullptr;
      const bool is_ta = napi_get_typedarray_info(a.env, v, &type, &length, &data, nullptr, nullptr) == napi_ok;
      if (!is_ta) {
        napi_valuetype t;
        check(a.env, napi_typeof(a.env, v, &t), "napi_typeof");
        if (t == napi_null || t == napi_undefined) {
          if (j < 2 + static_cast<uint32_t>(required)) {
            throw ArgError(std::string("optimizerStep: parameter ") + std::to_string(k) + " has no " + names[j], false);
          }
          continue;
        }
      }
      if (!is_ta || type != napi_float32_array) {
        throw ArgError(std::string("optimizerStep: ") + names[j] + " of parameter " + std::to_string(k) +
                           " must be a Float32Array",
                       false);
      }
      if (j == 0) n = static_cast<int64_t>(length);
      if (static_cast<int64_t>(length) < n) {
        throw ArgError(std::string("optimizerStep: buffer ") + names[j] + " of parameter " + std::to_string(k) +
                           " has " + std::to_string(length) + " elements, needs " + std::to_string(n),
                       true);
      }
      bufs[j] = static_cast<float*>(data);
    }
    ps[k] = StepParam{n, bufs[0], bufs[1], bufs[2], bufs[3], bufs[4]};
  }
  return make_number(a.env, dn::optimizer_step(static_cast<int>(rule), hyper, ps.data(), static_cast<int64_t>(ps.size())));
}

// countMatchingRows(a, b, rows, cols) → rows whose arg-max agree (one column: the same side of 0.5)
DN_EXPORT(countMatchingRows, 4) {
  const int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  if (cols < 1) throw ArgError("countMatchingRows: cols must be at least 1", true);
  const int64_t n = mul_checked(a, {rows, cols});
  return make_number(a.env, static_cast<double>(dn::count_matching_rows(a.f32(0, n, "a"), a.f32(1, n, "b"), rows, cols)));
}

// clipValue(x, limit)
DN_EXPORT(clipValue, 2) {
  const int64_t n = a.f32_length(0);
  dn::clip_value(n, a.f32(0, n, "x"), a.num(1));
  return nullptr;
}

// batchNormTrain(x, gamma|null, beta|null, outer, C, inner, eps, y, xhat, mean, variance, invStd)
DN_EXPORT(batchNormTrain, 12) {
  const int64_t outer = a.size(3, "outer"), C = a.size(4, "C"), inner = a.size(5, "inner");
  const int64_t total = mul_checked(a, {outer, C, inner});
  dn::batch_norm_train(a.f32(0, total, "x"), a.f32_or_null(1, C, "gamma"), a.f32_or_null(2, C, "beta"), outer, C,
                       inner, a.num(6), a.f32(7, total, "y"), a.f32(8, total, "xhat"), a.f64(9, C, "mean"),
                       a.f64(10, C, "variance"), a.f64(11, C, "invStd"));
  return nullptr;
}

// batchNormInference(x, mean, variance, gamma|null, beta|null, outer, C, inner, eps, y, xhat|null, invStd)
DN_EXPORT(batchNormInference, 12) {
  const int64_t outer = a.size(5, "outer"), C = a.size(6, "C"), inner = a.size(7, "inner");
  const int64_t total = mul_checked(a, {outer, C, inner});
  dn::batch_norm_inference(a.f32(0, total, "x"), a.f32(1, C, "mean"), a.f32(2, C, "variance"),
                           a.f32_or_null(3, C, "gamma"), a.f32_or_null(4, C, "beta"), outer, C, inner, a.num(8),
                           a.f32(9, total, "y"), a.f32_or_null(10, total, "xhat"), a.f64(11, C, "invStd"));
  return nullptr;
}

// batchNormBackward(training, dy, xhat|null, invStd, gamma|null, outer, C, inner, dx|null, dGamma|null, dBeta|null)
DN_EXPORT(batchNormBackward, 11) {
  const bool training = a.boolean(0);
  const int64_t outer = a.size(5, "outer"), C = a.size(6, "C"), inner = a.size(7, "inner");
  const int64_t total = mul_checked(a, {outer, C, inner});
  const float* xhat = a.f32_or_null(2, total, "xhat");
  float* dx = a.f32_or_null(8, total, "dx");
  if (training && dx && !xhat) throw ArgError("batchNormBackward: the training backward needs xhat", false);
  dn::batch_norm_backward(training, a.f32(1, total, "dy"), xhat, a.f64(3, C, "invStd"), a.f32_or_null(4, C, "gamma"),
                          outer, C, inner, dx, a.f32_or_null(9, C, "dGamma"), a.f32_or_null(10, C, "dBeta"));
  return nullptr;
}

// movingAverage(avg, x (Float64Array), momentum)
DN_EXPORT(movingAverage, 3) {
  const int64_t n = a.f32_length(0);
  dn::moving_average(n, a.f32(0, n, "avg"), a.f64(1, n, "x"), a.num(2));
  return nullptr;
}

int loss_kind(const Args& a, size_t i) {
  const int64_t k = a.size(i, "kind");
  if (k > 3) throw ArgError(std::string(a.fn) + ": unknown loss kind " + std::to_string(k), true);
  return static_cast<int>(k);
}

// lossValue(kind, pred, target) → Σ loss
DN_EXPORT(lossValue, 3) {
  const int64_t n = a.f32_length(1);
  return make_number(a.env, dn::loss_value(loss_kind(a, 0), n, a.f32(1, n, "pred"), a.f32(2, n, "target")));
}

// lossGrad(kind, pred, target, scale, dx)
DN_EXPORT(lossGrad, 5) {
  const int64_t n = a.f32_length(1);
  dn::loss_grad(loss_kind(a, 0), n, a.f32(1, n, "pred"), a.f32(2, n, "target"), a.num(3), a.f32(4, n, "dx"));
  return nullptr;
}

// copyRuns(src, dst, geometry): geometry = [rank, srcOffset, dstOffset, len, counts…, srcStrides…, dstStrides…]
DN_EXPORT(copyRuns, 3) {
  const int32_t* geo = geometry(a, 2, 4, 3, 4);
  const int rank = geo[0];
  int64_t counts[4], src_strides[4], dst_strides[4];
  const int64_t len = geo[3];
  bool empty = len == 0;
  for (int d = 0; d < rank; d++) {
    counts[d] = geo[4 + d];
    src_strides[d] = geo[4 + rank + d];
    dst_strides[d] = geo[4 + 2 * rank + d];
    if (counts[d] < 0) throw ArgError("copyRuns: negative count", true);
    empty = empty || counts[d] == 0;
  }
  if (len < 0) throw ArgError("copyRuns: negative run length", true);
  const int64_t n_src = a.f32_length(0), n_dst = a.f32_length(1);
  if (empty) return nullptr;
  // every run inside its buffer: the lowest and highest element any run touches
  auto inside = [&](int64_t off, const int64_t* strides, int64_t n, const char* which) {
    int64_t lo = off, hi = off + len;
    for (int d = 0; d < rank; d++) {
      const int64_t span = (counts[d] - 1) * strides[d];
      if (span < 0) lo += span; else hi += span;
    }
    if (lo < 0 || hi > n) {
      throw ArgError(std::string("copyRuns: the runs reach elements ") + std::to_string(lo) + "…" + std::to_string(hi - 1) +
                         " of " + which + ", which has " + std::to_string(n),
                     true);
    }
  };
  inside(geo[1], src_strides, n_src, "src");
  inside(geo[2], dst_strides, n_dst, "dst");
  dn::copy_runs(a.f32(0, n_src, "src"), geo[1], src_strides, a.f32(1, n_dst, "dst"), geo[2], dst_strides, counts, rank,
                len);
  return nullptr;
}

// affineAct(rows, units, inputs, x, w, b, op, param, out, z): out = φ(x·wᵀ + b), z = x·wᵀ + b
// (b and z may be null). The outputs must not overlap the inputs (the product reads them whole).
DN_EXPORT(affineAct, 10) {
  const int64_t m = a.size(0, "rows"), n = a.size(1, "units"), k = a.size(2, "inputs");
  const int64_t mn = mul_checked(a, {m, n});
  const float* x = a.f32(3, mul_checked(a, {m, k}), "x");
  const float* w = a.f32(4, mul_checked(a, {n, k}), "w");
  const float* b = a.f32_or_null(5, n, "b");
  const int op = op_code(a, 6, DN_U_COUNT);
  float* out = a.f32(8, mn, "out");
  float* z = a.f32_or_null(9, mn, "z");
  const auto apart = [&](const float* o, const float* i, int64_t len, const char* what) {
    if (o && i && o < i + len && i < o + mn) throw ArgError(std::string("affineAct: ") + what + " overlaps an input", true);
  };
  for (const float* o : {static_cast<const float*>(out), static_cast<const float*>(z)}) {
    apart(o, x, m * k, o == out ? "out" : "z");
    apart(o, w, n * k, o == out ? "out" : "z");
    apart(o, b, n, o == out ? "out" : "z");
  }
  if (z) apart(out, z, mn, "out");
  dn::affine_act(m, n, k, x, w, b, op, a.num(7), out, z);
  return nullptr;
}

// info() → { onednn: "2.6.3", cpuIsa: <dnnl_cpu_isa_t code>, maxThreads, procs, march: "x86-64-v3" }
DN_EXPORT(info, 0) {
  napi_env env = a.env;
  napi_value obj;
  check(env, napi_create_object(env, &obj), "napi_create_object");
  const auto set = [&](const char* key, napi_value v) { check(env, napi_set_named_property(env, obj, key, v), "napi_set_named_property"); };
  const auto set_string = [&](const char* key, const std::string& text) {
    napi_value v;
    check(env, napi_create_string_utf8(env, text.c_str(), text.size(), &v), "napi_create_string_utf8");
    set(key, v);
  };
  const dnnl_version_t* v = dnnl_version();
  set_string("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  set("cpuIsa", make_number(env, static_cast<double>(dnnl_get_effective_cpu_isa())));
  set("maxThreads", make_number(env, dn::max_threads()));
  set("procs", make_number(env, omp_get_num_procs()));
  set_string("march", DN_MARCH);
  return obj;
}

}  // namespace

}  // namespace dn

namespace {

napi_value init(napi_env env, napi_value exports) {
  dn::max_threads();  // read the team size before any op changes OpenMP's setting
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {
      {"gemm", dn::js_gemm},
      {"gemmBatched", dn::js_gemmBatched},
      {"softmaxBackward", dn::js_softmaxBackward},
      {"permute", dn::js_permute},
      {"layerNorm", dn::js_layerNorm},
      {"layerNormBackward", dn::js_layerNormBackward},
      {"unary", dn::js_unary},
      {"unaryGrad", dn::js_unaryGrad},
      {"unaryOps", dn::js_unaryOps},
      {"binary", dn::js_binary},
      {"axpy", dn::js_axpy},
      {"scale", dn::js_scale},
      {"fill", dn::js_fill},
      {"sumAxis", dn::js_sumAxis},
      {"addBroadcast", dn::js_addBroadcast},
      {"softmax", dn::js_softmax},
      {"softmaxCrossEntropy", dn::js_softmaxCrossEntropy},
      {"sum", dn::js_sum},
      {"sumSquares", dn::js_sumSquares},
      {"allFinite", dn::js_allFinite},
      {"conv2d", dn::js_conv2d},
      {"conv2dBackwardData", dn::js_conv2dBackwardData},
      {"conv2dBackwardFilter", dn::js_conv2dBackwardFilter},
      {"maxPool", dn::js_maxPool},
      {"convPoolPlan", dn::js_convPoolPlan},
      {"convPoolForward", dn::js_convPoolForward},
      {"convPoolBackward", dn::js_convPoolBackward},
      {"maxPoolBackward", dn::js_maxPoolBackward},
      {"avgPool", dn::js_avgPool},
      {"avgPoolBackward", dn::js_avgPoolBackward},
      {"lstmCell", dn::js_lstmCell},
      {"lstmCellBackward", dn::js_lstmCellBackward},
      {"sgdUpdate", dn::js_sgdUpdate},
      {"adamUpdate", dn::js_adamUpdate},
      {"rmspropUpdate", dn::js_rmspropUpdate},
      {"optimizerStep", dn::js_optimizerStep},
      {"countMatchingRows", dn::js_countMatchingRows},
      {"clipValue", dn::js_clipValue},
      {"batchNormTrain", dn::js_batchNormTrain},
      {"batchNormInference", dn::js_batchNormInference},
      {"batchNormBackward", dn::js_batchNormBackward},
      {"movingAverage", dn::js_movingAverage},
      {"lossValue", dn::js_lossValue},
      {"lossGrad", dn::js_lossGrad},
      {"copyRuns", dn::js_copyRuns},
      {"gruGates", dn::js_gruGates},
      {"gruState", dn::js_gruState},
      {"gruStateBackward", dn::js_gruStateBackward},
      {"gruGatesBackward", dn::js_gruGatesBackward},
      {"gatherRows", dn::js_gatherRows},
      {"scatterAddRows", dn::js_scatterAddRows},
      {"argmaxRows", dn::js_argmaxRows},
      {"nonzeroIndices", dn::js_nonzeroIndices},
      {"setMaxThreads", dn::js_setMaxThreads},
      {"getMaxThreads", dn::js_getMaxThreads},
      {"convCacheSize", dn::js_convCacheSize},
      {"info", dn::js_info},
      {"affineAct", dn::js_affineAct},
  };
  for (const Fn& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
