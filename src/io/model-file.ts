import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DendriteError, ModelFileError } from '../errors.js';
import { shapeSize } from '../tensor/tensor.js';
import type { Model } from '../train/model.js';
import type { Preprocessor } from '../data/preprocess.js';
import type { ModelSpec } from './spec.js';
import { buildModel, parseSpec } from './spec.js';
import { LITTLE_ENDIAN, MODEL_FORMAT_VERSION, restoreModel, serializeModel } from './model-json.js';
import type { ModelJSON, SerializeOptions, StoredTensor } from './model-json.js';

export { MODEL_FORMAT_VERSION } from './model-json.js';
export type { StoredTensor } from './model-json.js';

const MANIFEST = 'manifest.json';

/** The JSON manifest of a saved model directory: the model's JSON plus the weights file's name and checksum. */
export interface Manifest extends ModelJSON {
  weightsFile: string;
  checksum: { algorithm: 'sha256'; value: string };
  createdAt: string;
}

/** What {@link saveModel} takes besides the model (all optional). */
export interface SaveOptions extends SerializeOptions {
  /** Accepted for compatibility: every save now stores what resuming needs (optimiser state, generator states, epoch). */
  checkpoint?: boolean;
}

function writeFileDurably(path: string, data: Buffer | string): void {
  const fd = openSync(path, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Saves a model to a directory: `manifest.json` (format version, the spec the model describes
 * itself as, preprocessing, tensor names/shapes/dtypes/offsets, SHA-256 checksum, a summary of
 * the history, optimiser and generator states) and one little-endian float32 weights file.
 * Nothing but the model is needed: `model.preprocessing` is saved too. A hand-written spec
 * (third argument, or `opts.spec`) is checked against the model — a mismatch is a
 * `ConfigError` naming the layer and field, and nothing is written.
 *
 * Written atomically: the weights go to a new file named by its checksum, then the manifest
 * is replaced by rename, so a crash at any moment leaves either the old model or the new one.
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
  mkdirSync(dir, { recursive: true });
  const blob = Buffer.from(weights);
  const sha = createHash('sha256').update(blob).digest('hex');
  const weightsFile = `weights-${sha.slice(0, 16)}.bin`;
  const manifest: Manifest = { ...json, weightsFile, checksum: { algorithm: 'sha256', value: sha }, createdAt: new Date().toISOString() };
  const tag = randomBytes(4).toString('hex');
  const wTmp = join(dir, `.${weightsFile}.${tag}.tmp`);
  writeFileDurably(wTmp, blob);
  renameSync(wTmp, join(dir, weightsFile));
  const mTmp = join(dir, `.${MANIFEST}.${tag}.tmp`);
  writeFileDurably(mTmp, JSON.stringify(manifest, null, 1));
  renameSync(mTmp, join(dir, MANIFEST));
  // the old weights files are no longer referenced by the (new) manifest
  for (const f of readdirSync(dir)) {
    if (/^weights-[0-9a-f]{16}\.bin$/.test(f) && f !== weightsFile) {
      try { unlinkSync(join(dir, f)); } catch { /* another writer removed it */ }
    }
  }
  return manifest;
}

/** Reads and validates a manifest (ModelFileError for a missing, corrupt or newer one). */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelFileError(`${dir}: not a model directory (it does not exist)`);
  if (!existsSync(path)) throw new ModelFileError(`${dir}: no ${MANIFEST} (not a saved dendrite model)`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new ModelFileError(`${path}: corrupt manifest (${(e as Error).message})`);
  }
  if (m?.format !== 'dendrite-model') throw new ModelFileError(`${path}: not a dendrite model manifest (format ${JSON.stringify(m?.format)})`);
  if (typeof m.version !== 'number' || m.version > MODEL_FORMAT_VERSION) {
    throw new ModelFileError(`${path}: format version ${m.version} is newer than this dendrite supports (${MODEL_FORMAT_VERSION}); upgrade dendrite to load it`);
  }
  if (typeof m.weightsFile !== 'string' || !Array.isArray(m.tensors) || !m.checksum || typeof m.byteLength !== 'number') {
    throw new ModelFileError(`${path}: manifest lacks weightsFile, tensors, byteLength or checksum`);
  }
  return m;
}

/** A loaded model with what was saved alongside it. */
export interface LoadedModel {
  model: Model;
  spec: ModelSpec;
  manifest: Manifest;
  /** The saved data preparation (also `model.preprocessing`), ready to `transform()` new tables. */
  preprocessing?: Preprocessor;
}

/**
 * Loads a model directory written by {@link saveModel}, validating everything: manifest, format
 * version, weights file presence, size and SHA-256 checksum, and every tensor's shape against
 * the network the spec builds. Any problem is a `ModelFileError`; nothing is written. A
 * checkpoint also restores optimiser state, generator states and history (to resume training).
 *
 * @example
 * ```ts
 * const { model } = loadModel('models/digits');
 * model.predict(x);
 * ```
 */
export function loadModel(dir: string): LoadedModel {
  const m = readManifest(dir);
  const wpath = join(dir, m.weightsFile);
  if (!existsSync(wpath)) throw new ModelFileError(`${dir}: weights file ${m.weightsFile} is missing`);
  const blob = readFileSync(wpath);
  if (blob.length !== m.byteLength) {
    throw new ModelFileError(`${wpath}: weights file has ${blob.length} bytes, the manifest says ${m.byteLength} (truncated or corrupt)`);
  }
  const sha = createHash('sha256').update(blob).digest('hex');
  if (sha !== m.checksum.value) throw new ModelFileError(`${wpath}: checksum mismatch (corrupt weights file): expected sha256 ${m.checksum.value}, computed ${sha}`);
  let spec: ModelSpec;
  let model: Model;
  try {
    spec = parseSpec(m.spec, `${join(dir, MANIFEST)} spec`);
    model = buildModel(spec);
  } catch (e) {
    throw new ModelFileError(`${dir}: the saved spec is invalid: ${(e as Error).message}`);
  }
  const read = (st: StoredTensor): Float32Array => {
    const n = shapeSize(st.shape);
    if (st.dtype !== 'float32') throw new ModelFileError(`${dir}: tensor ${st.name} has dtype ${st.dtype}; only float32 is supported`);
    if (!Number.isInteger(st.offset) || st.offset < 0 || st.offset + 4 * n > blob.length) {
      throw new ModelFileError(`${dir}: tensor ${st.name} at offset ${st.offset} runs past the end of the weights file`);
    }
    const b = Buffer.from(blob.subarray(st.offset, st.offset + 4 * n));
    if (!LITTLE_ENDIAN) b.swap32();
    return new Float32Array(b.buffer, b.byteOffset, n).slice();
  };
  try {
    restoreModel(model, m, read, 'the weights file');
  } catch (e) {
    if (e instanceof ModelFileError || !(e instanceof DendriteError)) throw e;
    throw new ModelFileError(`${dir}: ${e.message}`);
  }
  return { model, spec, manifest: m, preprocessing: model.preprocessing };
}
