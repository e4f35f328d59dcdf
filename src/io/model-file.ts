import { nodeBuiltin } from '../node-edge.js';
import { ModelFileError } from '../errors.js';
import type { Model } from '../train/model.js';
import type { ModelSpec } from './spec.js';
import { fsFailure, makeDirs, readRegularFileSync } from '../data/node-files.js';
import { MAX_MANIFEST_BYTES, decodeModel, parseManifestJson, sealManifest, splitModelFile, tensorTableBytes } from './model-format.js';
import type { LoadedModel, Manifest } from './model-format.js';
import { serializeModel } from './model-json.js';
import type { SerializeOptions } from './model-json.js';

export { MODEL_FORMAT_VERSION } from './model-format.js';
export type { LoadedModel, Manifest, StoredTensor } from './model-format.js';

/** What {@link saveModel} takes besides the model (all optional). */
export interface SaveOptions extends SerializeOptions {
  /** Accepted for compatibility: every save now stores what resuming needs (optimiser state, generator states, epoch). */
  checkpoint?: boolean;
}

// model directories are a Node feature (the browser has modelToBytes / loadModelFromBytes)
const INSTEAD = 'modelToBytes / loadModelFromBytes (or the IndexedDB and URL functions)';
const fs = (): typeof import('node:fs') => nodeBuiltin('node:fs', 'model directories', INSTEAD);
const join = (...parts: string[]): string => nodeBuiltin('node:path', 'model directories', INSTEAD).join(...parts);

const MANIFEST = 'manifest.json';

const sha256 = (b: Uint8Array): string => nodeBuiltin('node:crypto', 'model directories', INSTEAD).createHash('sha256').update(b).digest('hex');

/** Temporary files of a save (`.<final name>.<8 hex>.tmp`), ours or left by an interrupted one. */
const TEMP_FILE = /^\.(?:weights-[0-9a-f]{16}\.bin|manifest\.json)\.[0-9a-f]{8}\.tmp$/;

/** Runs a file-system step of a save; an error becomes one ModelFileError naming the step and path. */
function step<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new ModelFileError(`cannot save the model: ${fsFailure(op, path, e)}`);
  }
}

function writeFileDurably(path: string, data: Buffer): void {
  const fd = step('create', path, () => fs().openSync(path, 'wx'));
  try {
    let off = 0;
    while (off < data.length) off += step('write', path, () => fs().writeSync(fd, data, off, data.length - off));
    step('fsync', path, () => fs().fsyncSync(fd));
  } finally {
    fs().closeSync(fd);
  }
}

/**
 * Writes a model directory's weights and manifest atomically: each goes to a fresh temporary file
 * that is renamed into place, the manifest last, so a crash leaves the old model or the new one.
 * Temporary files left by earlier interrupted saves are removed first; this save's own are
 * removed when it fails (e.g. ENOSPC), and weights files the new manifest no longer names after it
 * succeeds.
 */
function writeModelDir(dir: string, manifest: Manifest, blob: Buffer): void {
  step('create directory', dir, () => makeDirs(dir));
  const names = step('list directory', dir, () => fs().readdirSync(dir));
  for (const f of names) {
    if (TEMP_FILE.test(f)) {
      try { fs().unlinkSync(join(dir, f)); } catch { /* another process removed it */ }
    }
  }
  const tag = nodeBuiltin('node:crypto', 'model directories', INSTEAD).randomBytes(4).toString('hex');
  const wTmp = join(dir, `.${manifest.weightsFile}.${tag}.tmp`);
  const mTmp = join(dir, `.${MANIFEST}.${tag}.tmp`);
  try {
    writeFileDurably(wTmp, blob);
    step('rename', wTmp, () => fs().renameSync(wTmp, join(dir, manifest.weightsFile)));
    writeFileDurably(mTmp, Buffer.from(JSON.stringify(manifest, null, 1), 'utf8'));
    step('rename', mTmp, () => fs().renameSync(mTmp, join(dir, MANIFEST)));
  } catch (e) {
    for (const t of [wTmp, mTmp]) {
      try { fs().unlinkSync(t); } catch { /* not created, or already renamed */ }
    }
    throw e;
  }
  // the old weights files are no longer referenced by the (new) manifest
  for (const f of fs().readdirSync(dir)) {
    if (/^weights-[0-9a-f]{16}\.bin$/.test(f) && f !== manifest.weightsFile) {
      try { fs().unlinkSync(join(dir, f)); } catch { /* another writer removed it */ }
    }
  }
}

/**
 * Saves a model to a directory: `manifest.json` (format version, the spec the model describes
 * itself as, preprocessing, tensor names/shapes/dtypes/offsets, SHA-256 checksums of the weights
 * and of the tensor table, a summary of the history, optimiser and generator states) and one
 * little-endian float32 weights file. Nothing but the model is needed: `model.preprocessing` is
 * saved too. A hand-written spec (third argument, or `opts.spec`) is checked against the model —
 * a mismatch is a `ConfigError` naming the layer and field, and nothing is written.
 *
 * Written atomically: the weights go to a new file named by its checksum, then the manifest is
 * replaced by rename, so a crash at any moment leaves either the old model or the new one.
 * Temporary files of an earlier interrupted save are removed; a failing save (e.g. a full disk)
 * removes its own and reports a `ModelFileError` naming the step and path.
 *
 * @example
 * ```ts
 * saveModel('models/digits', model);
 * const { model: again, preprocessing } = loadModel('models/digits');
 * ```
 */
export function saveModel(dir: string, model: Model, opts?: SaveOptions): Manifest;
/** @deprecated the spec is optional now: `saveModel(dir, model, { spec })`. Kept for existing callers. */
export function saveModel(dir: string, model: Model, spec: ModelSpec, opts?: SaveOptions): Manifest;
export function saveModel(dir: string, model: Model, specOrOpts?: ModelSpec | SaveOptions, more: SaveOptions = {}): Manifest {
  const isSpec = specOrOpts !== undefined && 'layers' in specOrOpts;
  const opts: SaveOptions = isSpec ? { ...more, spec: specOrOpts as ModelSpec } : ((specOrOpts as SaveOptions | undefined) ?? {});
  const { json, weights } = serializeModel(model, opts);
  const bytes = new Uint8Array(weights);
  const manifest = sealManifest(json, sha256(bytes), sha256(tensorTableBytes(json.tensors)));
  writeModelDir(dir, manifest, Buffer.from(weights));
  return manifest;
}

const fail = (m: string) => new ModelFileError(m);

/** Largest single model file read into memory (weights and manifest), in bytes. */
const MAX_MODEL_FILE_BYTES = 4 * 1024 * 1024 * 1024;

function isRegularFile(path: string): boolean {
  try {
    return fs().lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads and validates a model directory's manifest (ModelFileError naming the file and field). */
export function readManifest(dir: string): Manifest {
  let isDir = false;
  try {
    isDir = fs().statSync(dir).isDirectory();
  } catch { /* reported below */ }
  if (!isDir) throw new ModelFileError(`${dir}: not a model directory (it does not exist or is not a directory)`);
  const path = join(dir, MANIFEST);
  const bytes = readRegularFileSync(path, { noFollow: true, maxBytes: MAX_MANIFEST_BYTES, what: `${MANIFEST} (a saved dendrite model's manifest)`, fail });
  return parseManifestJson(bytes.toString('utf8'), path);
}

/**
 * Loads a model directory written by {@link saveModel} — or a single model file (the form
 * `modelToBytes` writes and the playground downloads) — trusting nothing in it: the manifest is
 * validated field by field; the weights file must be a regular file inside the directory named as
 * the saver names it, its size must match before it is read, its SHA-256 and the tensor table's
 * checksum must match; the network is built only as far as the weights file's real length allows;
 * every tensor's shape and values are checked against the spec. A checkpoint also restores
 * optimiser state, generator states and history (validated first). Any problem is a
 * `ModelFileError` naming the file and field; nothing is written. FIFOs and devices are refused
 * without blocking.
 *
 * @example
 * ```ts
 * const { model } = loadModel('models/digits');          // a directory
 * const again = loadModel('playground-xor.dendrite');    // or one model file
 * model.predict(x);
 * ```
 */
export function loadModel(dir: string): LoadedModel {
  if (isRegularFile(dir)) {
    const bytes = readRegularFileSync(dir, { maxBytes: MAX_MODEL_FILE_BYTES, what: 'model file', fail });
    const { manifest, weights } = splitModelFile(bytes, dir);
    return decodeModel(manifest, weights, { file: dir, weightsFile: dir, sha256 });
  }
  const m = readManifest(dir);
  const wpath = join(dir, m.weightsFile);
  const weights = readRegularFileSync(wpath, { noFollow: true, exactBytes: m.byteLength, what: 'weights file', fail });
  return decodeModel(m, weights, { file: join(dir, MANIFEST), weightsFile: wpath, sha256 });
}
