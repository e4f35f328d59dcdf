import { nodeBuiltin } from '../node-edge.js';
import { ModelFileError, fmtShape } from '../errors.js';
import { shapeSize } from '../tensor/tensor.js';
import type { Model } from '../train/model.js';
import type { History } from '../train/callbacks.js';
import type { ModelSpec } from './spec.js';
import { buildModel, parseSpec } from './spec.js';

/** Format version this build writes; loading refuses newer versions. */
export const MODEL_FORMAT_VERSION = 1;
const MANIFEST = 'manifest.json';

// model directories are a Node feature (the browser has modelToBytes / loadModelFromBytes)
const fs = (what: string): typeof import('node:fs') => nodeBuiltin('node:fs', what, 'modelToBytes / loadModelFromBytes (or the IndexedDB and URL functions)');
const crypto = (what: string): typeof import('node:crypto') => nodeBuiltin('node:crypto', what, 'modelToBytes / loadModelFromBytes (or the IndexedDB and URL functions)');
const join = (...parts: string[]): string => nodeBuiltin('node:path', 'model directories').join(...parts);

/** One tensor stored in the weights file. */
export interface StoredTensor {
  /** `layer.param` for model parameters and state, `optimizer/<param>/<buffer>` for optimiser state. */
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset in the weights file. */
  offset: number;
}

/** The JSON manifest of a saved model directory. */
export interface Manifest {
  format: 'dendrite-model';
  version: number;
  spec: ModelSpec;
  /** Fitted data preparation (normalisers, encoders), as produced by the data module. */
  preprocessing?: unknown;
  weightsFile: string;
  byteLength: number;
  checksum: { algorithm: 'sha256'; value: string };
  tensors: StoredTensor[];
  history?: History;
  /** Present in checkpoints: everything needed to resume training exactly. */
  training?: {
    epoch: number;
    optimizer: { type: string; iterations: number };
    rng: { shuffle: unknown; runtime: unknown };
  };
  createdAt: string;
}

/** What {@link saveModel} stores besides the weights. */
export interface SaveOptions {
  preprocessing?: unknown;
  /** Also store optimiser state, RNG states and the epoch (a checkpoint that can resume). */
  checkpoint?: boolean;
}

function writeFileDurably(path: string, data: Buffer | string): void {
  const { closeSync, fsyncSync, openSync, writeSync } = fs('saveModel(dir)');
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

function tensorBytes(data: Float32Array): Uint8Array {
  const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN ? b : swap32(Uint8Array.from(b));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reverses the bytes of every 4-byte word in place (big-endian hosts only). */
function swap32(b: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const [x, y] = [b[i], b[i + 1]];
    b[i] = b[i + 3];
    b[i + 1] = b[i + 2];
    b[i + 2] = y;
    b[i + 3] = x;
  }
  return b;
}

/**
 * The model as the format's two parts: the manifest (checksum still empty) and the weights
 * bytes. Platform-neutral: the directory (Node) and the byte/IndexedDB/URL forms (any runtime)
 * store exactly these.
 *
 * @example
 * ```ts
 * const { manifest, weights } = serializeModel(model, spec);
 * sealManifest(manifest, sha256hex(weights));
 * ```
 */
export function serializeModel(model: Model, spec: ModelSpec, opts: SaveOptions = {}): { manifest: Manifest; weights: Uint8Array } {
  const entries: [string, Float32Array, readonly number[]][] = [];
  for (const l of model.net.layers) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) entries.push([`${l.name}.${k}`, t.data, t.shape]);
  }
  let training: Manifest['training'];
  if (opts.checkpoint) {
    const st = model.optimizer.getState();
    for (const [pname, bufs] of Object.entries(st.params)) {
      for (const [b, arr] of Object.entries(bufs)) entries.push([`optimizer/${pname}/${b}`, Float32Array.from(arr), [arr.length]]);
    }
    training = {
      epoch: model.history.epochs.length,
      optimizer: { type: model.optimizer.type, iterations: st.iterations },
      rng: { shuffle: model.rng.getState(), runtime: model.net.rng.getState() },
    };
  }
  const tensors: StoredTensor[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data, shape] of entries) {
    tensors.push({ name, shape: [...shape], dtype: 'float32', offset });
    const b = tensorBytes(data);
    parts.push(b);
    offset += b.length;
  }
  const weights = new Uint8Array(offset);
  offset = 0;
  for (const b of parts) {
    weights.set(b, offset);
    offset += b.length;
  }
  const manifest: Manifest = {
    format: 'dendrite-model',
    version: MODEL_FORMAT_VERSION,
    spec,
    preprocessing: opts.preprocessing,
    weightsFile: '',
    byteLength: weights.length,
    checksum: { algorithm: 'sha256', value: '' },
    tensors,
    history: model.history,
    training,
    createdAt: new Date().toISOString(),
  };
  return { manifest, weights };
}

/**
 * Fills in the checksum and the weights file name (named by the checksum) of a serialised manifest.
 *
 * @example
 * ```ts
 * sealManifest(manifest, 'e3b0c442…').weightsFile; // 'weights-e3b0c44298fc1c14.bin'
 * ```
 */
export function sealManifest(manifest: Manifest, sha256Hex: string): Manifest {
  manifest.checksum = { algorithm: 'sha256', value: sha256Hex };
  manifest.weightsFile = `weights-${sha256Hex.slice(0, 16)}.bin`;
  return manifest;
}

/**
 * Saves a model to a directory: `manifest.json` (format version, spec, preprocessing, tensor
 * names/shapes/dtypes/offsets, SHA-256 checksum, history) and one little-endian float32 weights
 * file. Written atomically: the weights go to a new file named by its checksum, then the manifest
 * is replaced by rename, so a crash at any moment leaves either the old model or the new one.
 *
 * @example
 * ```ts
 * saveModel('models/digits', model, spec);
 * const again = loadModel('models/digits');
 * ```
 */
export function saveModel(dir: string, model: Model, spec: ModelSpec, opts: SaveOptions = {}): Manifest {
  const { mkdirSync, readdirSync, renameSync, unlinkSync } = fs('saveModel(dir)');
  const { createHash, randomBytes } = crypto('saveModel(dir)');
  mkdirSync(dir, { recursive: true });
  const { manifest: m0, weights } = serializeModel(model, spec, opts);
  const blob = Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength);
  const sha = createHash('sha256').update(blob).digest('hex');
  const manifest = sealManifest(m0, sha);
  const weightsFile = manifest.weightsFile;
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
  const { existsSync, readFileSync, statSync } = fs('readManifest(dir)');
  const path = join(dir, MANIFEST);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelFileError(`${dir}: not a model directory (it does not exist)`);
  if (!existsSync(path)) throw new ModelFileError(`${dir}: no ${MANIFEST} (not a saved dendrite model)`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new ModelFileError(`${path}: corrupt manifest (${(e as Error).message})`);
  }
  return checkManifest(m, path);
}

/**
 * Validates a parsed manifest (`path` names it in errors): ModelFileError for a corrupt or newer one.
 *
 * @example
 * ```ts
 * const m = checkManifest(JSON.parse(text), 'models/digits/manifest.json');
 * ```
 */
export function checkManifest(m: Manifest, path: string): Manifest {
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
  preprocessing?: unknown;
}

/**
 * Loads a model directory written by {@link saveModel} — or a single model file (the form
 * `modelToBytes` writes and the playground downloads) — validating everything: manifest, format
 * version, weights file presence, size and SHA-256 checksum, and every tensor's shape against
 * the network the spec builds. Any problem is a `ModelFileError`; nothing is written. A
 * checkpoint also restores optimiser state, generator states and history (to resume training).
 *
 * @example
 * ```ts
 * const { model } = loadModel('models/digits');          // a directory
 * const again = loadModel('playground-xor.dendrite');    // or one model file
 * model.predict(x);
 * ```
 */
export function loadModel(dir: string): LoadedModel {
  const { existsSync, readFileSync, statSync } = fs('loadModel(dir)');
  const { createHash } = crypto('loadModel(dir)');
  const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  if (existsSync(dir) && statSync(dir).isFile()) {
    const { manifest, weights: view } = splitModelFile(readFileSync(dir), dir);
    const weights = new Uint8Array(view); // a copy, so the tensors' float32 views are aligned
    checkWeights(manifest, weights, sha256(weights), dir);
    return restoreModel(manifest, weights, dir, `${dir} manifest`);
  }
  const m = readManifest(dir);
  const wpath = join(dir, m.weightsFile);
  if (!existsSync(wpath)) throw new ModelFileError(`${dir}: weights file ${m.weightsFile} is missing`);
  const blob = readFileSync(wpath);
  checkWeights(m, blob, sha256(blob), wpath, 'weights file has');
  return restoreModel(m, blob, dir, join(dir, MANIFEST));
}

/**
 * Checks the weights bytes against the manifest: size, then the SHA-256 `sha` computed by the
 * caller (`name` names the source in the `ModelFileError`, `what` the bytes in the size message).
 *
 * @example
 * ```ts
 * checkWeights(manifest, weights, sha256Hex(weights), 'model.dendrite');
 * ```
 */
export function checkWeights(m: Manifest, weights: Uint8Array, sha: string, name: string, what = 'the weights have'): void {
  if (weights.length !== m.byteLength) {
    throw new ModelFileError(`${name}: ${what} ${weights.length} bytes, the manifest says ${m.byteLength} (truncated or corrupt)`);
  }
  if (sha !== m.checksum.value) throw new ModelFileError(`${name}: checksum mismatch (corrupt weights): expected sha256 ${m.checksum.value}, computed ${sha}`);
}

/** The first bytes of the single-file form. */
export const MODEL_FILE_MAGIC = 'DNDRMODL';
const FILE_HEADER = 12;

/**
 * Parses a manifest from JSON text or UTF-8 bytes and validates it (`name` names the source).
 *
 * @example
 * ```ts
 * const m = parseManifest(await (await fetch(url)).text(), url);
 * ```
 */
export function parseManifest(json: Uint8Array | string, name: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true }).decode(json)) as Manifest;
  } catch (e) {
    throw new ModelFileError(`${name}: corrupt manifest (${(e as Error).message})`);
  }
  return checkManifest(m, name);
}

/**
 * Splits the single-file form — `DNDRMODL` (8 ASCII bytes) · manifest length (uint32,
 * little-endian) · manifest.json (UTF-8) · weights file — into its checked manifest and the
 * weights bytes (not yet size- or checksum-checked). Anything else is a `ModelFileError`.
 *
 * @example
 * ```ts
 * const { manifest, weights } = splitModelFile(bytes, 'model.dendrite');
 * ```
 */
export function splitModelFile(b: Uint8Array, name: string): { manifest: Manifest; weights: Uint8Array } {
  if (b.length < FILE_HEADER || new TextDecoder().decode(b.subarray(0, 8)) !== MODEL_FILE_MAGIC) {
    throw new ModelFileError(`${name}: not a dendrite model file (it does not start with ${MODEL_FILE_MAGIC})`);
  }
  const len = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true);
  if (FILE_HEADER + len > b.length) throw new ModelFileError(`${name}: the manifest runs past the end (${b.length} bytes; truncated)`);
  return { manifest: parseManifest(b.subarray(FILE_HEADER, FILE_HEADER + len), name), weights: b.subarray(FILE_HEADER + len) };
}

/**
 * Builds the model of a checked manifest and sets its tensors from the weights bytes (size and
 * checksum already verified): every tensor's dtype, offset and shape are checked against the
 * network the spec builds (`dir` and `manifestName` name the source in errors).
 *
 * @example
 * ```ts
 * const { model } = restoreModel(manifest, weightBytes, 'models/digits', 'models/digits/manifest.json');
 * ```
 */
export function restoreModel(m: Manifest, blob: Uint8Array, dir: string, manifestName: string): LoadedModel {
  let spec: ModelSpec;
  let model: Model;
  try {
    spec = parseSpec(m.spec, `${manifestName} spec`);
    model = buildModel(spec);
  } catch (e) {
    throw new ModelFileError(`${dir}: the saved spec is invalid: ${(e as Error).message}`);
  }
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  const read = (st: StoredTensor): Float32Array => {
    const n = shapeSize(st.shape);
    if (st.dtype !== 'float32') throw new ModelFileError(`${dir}: tensor ${st.name} has dtype ${st.dtype}; only float32 is supported`);
    if (!Number.isInteger(st.offset) || st.offset < 0 || st.offset + 4 * n > blob.length) {
      throw new ModelFileError(`${dir}: tensor ${st.name} at offset ${st.offset} runs past the end of the weights file`);
    }
    const b = blob.slice(st.offset, st.offset + 4 * n);
    if (!LITTLE_ENDIAN) swap32(b);
    return new Float32Array(b.buffer, b.byteOffset, n);
  };
  for (const l of model.net.layers) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) {
      const name = `${l.name}.${k}`;
      const st = byName.get(name);
      if (!st) throw new ModelFileError(`${dir}: the weights file lacks ${name} ${fmtShape(t.shape)}`);
      if (st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
        throw new ModelFileError(`${dir}: ${name} has shape ${fmtShape(st.shape)} in the weights file, the spec needs ${fmtShape(t.shape)}`);
      }
      t.data.set(read(st));
    }
  }
  if (m.history) model.history = structuredClone(m.history);
  if (m.training) {
    const params: Record<string, Record<string, number[]>> = {};
    for (const st of m.tensors) {
      if (!st.name.startsWith('optimizer/')) continue;
      const rest = st.name.slice('optimizer/'.length);
      const cut = rest.lastIndexOf('/');
      const pname = rest.slice(0, cut);
      (params[pname] ??= {})[rest.slice(cut + 1)] = Array.from(read(st));
    }
    model.optimizer.setState({ iterations: m.training.optimizer.iterations, params });
    model.rng.setState(m.training.rng.shuffle as Parameters<typeof model.rng.setState>[0]);
    model.net.rng.setState(m.training.rng.runtime as Parameters<typeof model.rng.setState>[0]);
  }
  return { model, spec, manifest: m, preprocessing: m.preprocessing };
}
