/**
 * The Node edge: the only place that reaches Node's built-in modules (files, paths, gzip, hashes
 * for model directories, CSV/IDX paths, reports on disk, the bundled digits). They are fetched at
 * call time through `process.getBuiltinModule` (Node ≥ 20.16), never imported, so a bundle of
 * dendrite for a browser contains no `node:` import, static or dynamic, and needs no shims. In a
 * browser the Node-only functions throw a `ConfigError` that names the browser alternative.
 */
import { ConfigError } from './errors.js';

interface Builtins {
  'node:fs': typeof import('node:fs');
  'node:fs/promises': typeof import('node:fs/promises');
  'node:path': typeof import('node:path');
  'node:zlib': typeof import('node:zlib');
  'node:crypto': typeof import('node:crypto');
  'node:module': typeof import('node:module');
  'node:os': typeof import('node:os');
  'node:worker_threads': typeof import('node:worker_threads');
}

/**
 * Node's built-in module `id`, for `feature` (named in the error where there is no Node).
 *
 * @example
 * ```ts
 * const { readFileSync } = nodeBuiltin('node:fs', 'readManifest(dir)', 'loadModelFromBytes');
 * ```
 */
export function nodeBuiltin<K extends keyof Builtins>(id: K, feature: string, instead?: string): Builtins[K] {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  if (typeof p?.getBuiltinModule === 'function') {
    const m = p.getBuiltinModule(id);
    if (m) return m as Builtins[K];
  }
  const where = p?.versions?.node ? `Node.js ${p.versions.node} lacks process.getBuiltinModule (needs ≥ 20.16)` : 'this is not Node.js';
  throw new ConfigError(`${feature} needs Node.js's ${id} (${where})${instead ? `; use ${instead} instead` : ''}`);
}
