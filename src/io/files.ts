/**
 * The Node edge of export/import: writing and reading the files. Everything that turns models into
 * bytes and back lives in the runtime-neutral modules beside this one; here only paths.
 */
import { ModelFileError } from '../errors.js';
import { nodeBuiltin } from '../node-edge.js';
import type { Sequential } from '../nn/sequential.js';
import type { Model } from '../train/model.js';
import { buildModel, parseSpec } from './spec.js';
import type { ModelSpec } from './spec.js';
import { decodeSafetensors } from './safetensors.js';
import type { SafetensorsFile } from './safetensors.js';
import { exportPytorch, importSafetensors, pytorchMetadata } from './pytorch.js';
import { concatBytes, parseTfjsModelJson, tfjsShardPaths, tfjsToModel } from './tfjs.js';

// Node's modules at call time (src/node-edge.ts), under the names this file uses, so that a browser
// bundle of dendrite has no node: import; in a browser these functions throw a ConfigError.
type Fs = typeof import('node:fs');
type Path = typeof import('node:path');
const WHAT = 'export/import with file paths';
const fsFn = <K extends keyof Fs>(k: K): Fs[K] =>
  ((...a: unknown[]) => (nodeBuiltin('node:fs', WHAT)[k] as (...x: unknown[]) => unknown)(...a)) as Fs[K];
const pathFn = <K extends keyof Path>(k: K): Path[K] =>
  ((...a: unknown[]) => (nodeBuiltin('node:path', WHAT)[k] as (...x: unknown[]) => unknown)(...a)) as Path[K];
const randomBytes = (n: number): Buffer => nodeBuiltin('node:crypto', WHAT).randomBytes(n);
const [closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync] =
  [fsFn('closeSync'), fsFn('fsyncSync'), fsFn('mkdirSync'), fsFn('openSync'), fsFn('readFileSync'), fsFn('renameSync'),
    fsFn('unlinkSync'), fsFn('writeSync')] as const;
const [dirname, isAbsolute, join, relative, resolve] =
  [pathFn('dirname'), pathFn('isAbsolute'), pathFn('join'), pathFn('relative'), pathFn('resolve')] as const;

function writeSynced(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes several files into `dir` so that none is replaced unless all were written: each goes to a
 * temporary name first, and only when every one is complete are they renamed into place. On a
 * failure the temporary files are removed and existing files keep their old contents.
 *
 * @example
 * ```ts
 * writeFilesAtomically('out', { 'model.onnx': bytes });
 * ```
 */
export function writeFilesAtomically(dir: string, files: Record<string, Uint8Array | string>): string[] {
  mkdirSync(dir, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const staged: [string, string][] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const final = join(dir, name);
      const tmp = join(dir, `.${name}.${tag}.tmp`);
      staged.push([tmp, final]);
      writeSynced(tmp, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    }
  } catch (e) {
    for (const [tmp] of staged) {
      try { unlinkSync(tmp); } catch { /* never created */ }
    }
    throw e;
  }
  for (const [tmp, final] of staged) renameSync(tmp, final);
  return staged.map(([, final]) => final);
}

/**
 * Writes ONNX bytes (from `exportOnnx`) to `path` atomically (temporary name, then rename).
 *
 * @example
 * ```ts
 * saveOnnx('model.onnx', exportOnnx(model));
 * ```
 */
export function saveOnnx(path: string, bytes: Uint8Array): void {
  const base = path.slice(dirname(path).length).replace(/^[\\/]/, '');
  writeFilesAtomically(dirname(path), { [base]: bytes });
}

/** Reads a file as bytes; a missing or unreadable one is a ModelFileError naming it. */
export function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ModelFileError(`${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Writes a model for PyTorch into `dir` (`model.safetensors` + `model.py`, see `exportPytorch`);
 * an unsupported layer is a ConfigError before anything is written, and existing files are
 * replaced only once both new ones are complete.
 *
 * @example
 * ```ts
 * exportPytorchDir('torch-model', model, spec);
 * // python: sys.path.insert(0, 'torch-model'); import model; net = model.load()
 * ```
 */
export function exportPytorchDir(dir: string, model: Model | Sequential, spec?: ModelSpec, preprocessing?: unknown): string[] {
  const files = exportPytorch(model, spec, preprocessing);
  return writeFilesAtomically(dir, { ...files });
}

function readPytorchDir(dir: string): { f: SafetensorsFile; file: string } {
  const file = join(dir, 'model.safetensors');
  return { f: decodeSafetensors(readBytes(file, 'PyTorch weights'), file), file };
}

/**
 * Reads `dir/model.safetensors` (written by {@link exportPytorchDir}, possibly trained further in
 * PyTorch and saved with model.py's `save`) into an existing model with the same layers.
 *
 * @example
 * ```ts
 * importPytorchDir('torch-model', model);
 * ```
 */
export function importPytorchDir(dir: string, model: Model | Sequential): void {
  const { f, file } = readPytorchDir(dir);
  importSafetensors(model, f, file);
}

/**
 * A new dendrite model from `dir/model.safetensors`, built from the spec stored in its metadata
 * (exported with a spec, e.g. by `dendrite export --pytorch`), with the weights read back.
 *
 * @example
 * ```ts
 * const { model, spec } = loadPytorchDir('torch-model');
 * ```
 */
export function loadPytorchDir(dir: string): { model: Model; spec: ModelSpec; preprocessing?: unknown } {
  const { f, file } = readPytorchDir(dir);
  const { spec, preprocessing } = pytorchMetadata(f, file);
  let model: Model;
  try {
    model = buildModel(parseSpec(spec, `${file} metadata dendrite.spec`));
  } catch (e) {
    throw new ModelFileError(`${file}: the stored spec is invalid: ${(e as Error).message}`);
  }
  importSafetensors(model, f, file);
  return { model, spec, preprocessing };
}

/**
 * Loads a tfjs-layers model saved by `model.save` (`model.json` and its weight shards beside it)
 * as a dendrite model (see `tfjsToModel` for the layout conversions). Shard paths must stay inside
 * the model.json's directory.
 *
 * @example
 * ```ts
 * const { model } = loadTfjsFile('tfjs-model/model.json');
 * model.predict(x); // channels-first images: [N, C, H, W]
 * ```
 */
export function loadTfjsFile(path: string): { model: Model; spec: ModelSpec } {
  const text = new TextDecoder().decode(readBytes(path, 'tfjs model.json'));
  const j = parseTfjsModelJson(text, path);
  const dir = dirname(path);
  const shards = tfjsShardPaths(j).map((p) => {
    const full = resolve(dir, p);
    if (typeof p !== 'string' || isAbsolute(p) || relative(resolve(dir), full).startsWith('..')) {
      throw new ModelFileError(`${path}: weight shard path ${JSON.stringify(p)} leaves the model's directory`);
    }
    return readBytes(full, 'tfjs weight shard');
  });
  return tfjsToModel(j, concatBytes(shards), path);
}
