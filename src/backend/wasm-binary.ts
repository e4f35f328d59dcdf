// Placeholder for the compiled WebAssembly module. `npm run build` (scripts/build-wasm.mjs)
// replaces the emitted dist/src/backend/wasm-binary.js with the module as base64; until then the
// wasm backend reports that it is not built and the other backends are used.

/** The WebAssembly module, base64-encoded; null when it is not built. @example `if (wasmBase64) loadWasm();` */
export const wasmBase64: string | null = null;
/** The module built for threads (shared imported memory), base64-encoded; null when it is not built. @example `wasmThreadsBase64 !== null` */
export const wasmThreadsBase64: string | null = null;
/** Why the module is not available (null when it is). @example `console.log(wasmBuildError ?? 'built')` */
export const wasmBuildError: string | null =
  'the WebAssembly module is not built (run `node scripts/build-wasm.mjs`, which needs clang and lld)';
