// Shared declarations of the WebAssembly kernels (see wasm/README.md).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

// Scratch memory: a bump region above the operands the host copied in. It grows the linear
// memory when needed; the host sets its start before every call.
void* scratch_alloc(size_t bytes);
size_t scratch_mark(void);
void scratch_release(size_t mark);

// C += alpha·op(A)·op(B) (no beta): the product under gemm() and the convolutions.
void gemm_core(int ta, int tb, int m, int n, int k, float alpha, const float* a, const float* b, float* c);

// Natural logarithm in double precision, from the host (Math.log): once per softmax row.
IMPORT("log") double host_log(double x);
