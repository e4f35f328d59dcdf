// The model format as bytes: validating a manifest and decoding a weights buffer into a model,
// without touching a file system (so a browser loader can use it on fetched bytes). Nothing in a
// manifest is trusted: every field is type- and range-checked, the weights' length, checksum and
// the tensor table's checksum are verified, and the network is built under an allocation limit
// derived from the real weights length before any tensor is read.
import { DendriteError, ModelFileError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { withAllocationLimit } from '../backend/index.js';
import type { Model } from '../train/model.js';
import type { History } from '../train/callbacks.js';
import type { ModelSpec } from './spec.js';
import type { ModelJSON, StoredTensor } from './model-json.js';
import { Preprocessor } from '../data/preprocess.js';
import { buildModel, buildOptimizer, parseSpec } from './spec.js';

/** Format version this build writes; loading refuses newer versions. Version 2 adds `checksum.tensors`. */
export const MODEL_FORMAT_VERSION = 2;

/** The name the saver gives a weights file: `weights-` + the first 16 hex digits of its SHA-256. */
export const WEIGHTS_FILE_PATTERN = /^weights-[0-9a-f]{16}\.bin$/;

/** Largest manifest accepted, in bytes (history and preprocessing included). */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export type { StoredTensor } from './model-json.js';

/** The JSON manifest of a saved model: the model's JSON plus the weights file's name and checksums. */
export interface Manifest extends ModelJSON {
  weightsFile: string;
  /**
   * `value`: SHA-256 of the weights file; `tensors` (version ≥ 2): SHA-256 of the tensor table
   * (see {@link tensorTableDigest}), so that an edited name, shape or offset is detected.
   */
  checksum: { algorithm: 'sha256'; value: string; tensors?: string };
  createdAt: string;
}

/** A loaded model with what was saved alongside it. */
export interface LoadedModel {
  model: Model;
  spec: ModelSpec;
  manifest: Manifest;
  /** The saved data preparation (also `model.preprocessing`), ready to `transform()` new tables. */
  preprocessing?: Preprocessor;
}

/** A SHA-256 function returning lowercase hex (Node: `createHash`; a browser supplies its own). */
export type Sha256 = (bytes: Uint8Array) => string;

/**
 * How {@link decodeModel} checks the checksums: with a synchronous SHA-256, or with the digests
 * of the weights and of {@link tensorTableBytes} computed beforehand (WebCrypto is asynchronous).
 * `file` and `weightsFile` name the sources in errors.
 *
 * @example
 * ```ts
 * const opts: DecodeOptions = { file: 'm.dendrite', weightsFile: 'm.dendrite', digests: { weights: w, tensors: t } };
 * ```
 */
export type DecodeOptions = { file: string; weightsFile: string } & ({ sha256: Sha256 } | { digests: { weights: string; tensors: string } });

/**
 * Parses a manifest from JSON text or UTF-8 bytes and validates it ({@link parseManifest});
 * text that is not JSON is a `ModelFileError` naming `name`.
 *
 * @example
 * ```ts
 * const m = parseManifestJson(await (await fetch(url)).text(), url);
 * ```
 */
export function parseManifestJson(json: Uint8Array | string, name: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw new ModelFileError(`${name}: corrupt manifest (${(e as Error).message})`);
  }
  return parseManifest(raw, name);
}

const STOP_REASONS = ['converged', 'maxEpochs', 'earlyStopping', 'callback'];
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_DIMS = 8;

/**
 * The SHA-256 of a tensor table as the manifest's `checksum.tensors` stores it: the digest of
 * the JSON of `[name, shape, dtype, offset]` per tensor, in table order.
 *
 * @example
 * ```ts
 * const sum = tensorTableDigest(manifest.tensors, (b) => createHash('sha256').update(b).digest('hex'));
 * ```
 */
export function tensorTableDigest(tensors: readonly StoredTensor[], sha256: Sha256): string {
  return sha256(tensorTableBytes(tensors));
}

function show(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field checks that throw a ModelFileError naming the file and the field. */
class Fields {
  constructor(readonly file: string) {}

  fail(field: string, expected: string, got: unknown): never {
    throw new ModelFileError(`${this.file}: field "${field}" must be ${expected}, received ${show(got)}`);
  }

  obj(v: unknown, field: string): Record<string, unknown> {
    if (!isObj(v)) this.fail(field, 'an object', v);
    return v;
  }

  arr(v: unknown, field: string, max: number): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'a list', v);
    if (v.length > max) this.fail(field, `a list of at most ${max} entries`, `${v.length} entries`);
    return v;
  }

  int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer in [${min}, ${max}]`, v);
    return v;
  }

  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v);
    return v;
  }

  str(v: unknown, field: string, re?: RegExp, expected = 'a string'): string {
    if (typeof v !== 'string' || (re && !re.test(v))) this.fail(field, expected, v);
    return v;
  }
}

function parseTensors(f: Fields, raw: unknown, byteLength: number): StoredTensor[] {
  const list = f.arr(raw, 'tensors', Math.floor(byteLength / 4) + 1024);
  const names = new Set<string>();
  const spans: [number, number, string][] = [];
  const out = list.map((t, i) => {
    const field = `tensors[${i}]`;
    const o = f.obj(t, field);
    const name = f.str(o.name, `${field}.name`, /^[^\0]{1,1000}$/, 'a name of 1 to 1000 characters');
    if (names.has(name)) f.fail(`${field}.name`, 'unique', name);
    names.add(name);
    const shape = f.arr(o.shape, `${field}.shape`, MAX_DIMS).map((d, k) => f.int(d, `${field}.shape[${k}]`, 0, 2 ** 31 - 1));
    let size = 1;
    for (const d of shape) size = Math.min(size * d, 2 ** 53);
    if (o.dtype !== 'float32') f.fail(`${field}.dtype`, '"float32"', o.dtype);
    const offset = f.int(o.offset, `${field}.offset`, 0, byteLength);
    if (offset % 4 !== 0) f.fail(`${field}.offset`, 'a multiple of 4', offset);
    if (offset + 4 * size > byteLength) {
      f.fail(`${field}.offset`, `such that ${name} ${fmtShape(shape)} (${4 * size} bytes) ends within the ${byteLength}-byte weights file`, offset);
    }
    if (size > 0) spans.push([offset, offset + 4 * size, name]);
    return { name, shape, dtype: 'float32' as const, offset };
  });
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) f.fail('tensors', `non-overlapping (${spans[i][2]} overlaps ${spans[i - 1][2]})`, `offset ${spans[i][0]}`);
  }
  return out;
}

function parseHistory(f: Fields, raw: unknown): History {
  const h = f.obj(raw, 'history');
  const epochs = f.arr(h.epochs, 'history.epochs', 10_000_000).map((e, i) => {
    const field = `history.epochs[${i}]`;
    const o = f.obj(e, field);
    f.int(o.epoch, `${field}.epoch`, i + 1, i + 1);
    f.num(o.loss, `${field}.loss`);
    f.num(o.seconds, `${field}.seconds`);
    for (const k of ['valLoss', 'accuracy', 'valAccuracy', 'gradNorm']) if (o[k] !== undefined && o[k] !== null) f.num(o[k], `${field}.${k}`);
    return o;
  });
  if (!STOP_REASONS.includes(h.stopped as string)) f.fail('history.stopped', `one of ${STOP_REASONS.join(', ')}`, h.stopped);
  f.int(h.updates, 'history.updates', 0);
  return { ...h, epochs } as unknown as History;
}

function parseRngState(f: Fields, raw: unknown, field: string): { s: [number, number, number, number]; spare: number | null } {
  const o = f.obj(raw, field);
  const s = f.arr(o.s, `${field}.s`, 4).map((v, i) => f.int(v, `${field}.s[${i}]`, 0, 2 ** 32 - 1));
  if (s.length !== 4 || s.every((v) => v === 0)) f.fail(`${field}.s`, 'four unsigned 32-bit integers, not all 0', o.s);
  const spare = o.spare === null ? null : f.num(o.spare, `${field}.spare`);
  return { s: s as [number, number, number, number], spare };
}

/**
 * Validates a parsed `manifest.json` (from `file`, named in errors): every field's type and
 * range, the weights file name (the saver's own format, so it can never name a path outside the
 * model directory), the tensor table (bounded by `byteLength`, non-overlapping), history and
 * checkpoint state. Any problem is a `ModelFileError` naming the file and the field.
 *
 * @example
 * ```ts
 * const m = parseManifest(JSON.parse(text), 'models/digits/manifest.json');
 * ```
 */
export function parseManifest(raw: unknown, file: string): Manifest {
  const f = new Fields(file);
  if (!isObj(raw) || raw.format !== 'dendrite-model') {
    throw new ModelFileError(`${file}: not a dendrite model manifest (format ${show(isObj(raw) ? raw.format : raw)})`);
  }
  if (typeof raw.version === 'number' && Number.isInteger(raw.version) && raw.version > MODEL_FORMAT_VERSION) {
    throw new ModelFileError(`${file}: format version ${raw.version} is newer than this dendrite supports (${MODEL_FORMAT_VERSION}); upgrade dendrite to load it`);
  }
  const version = f.int(raw.version, 'version', 1, MODEL_FORMAT_VERSION);
  f.obj(raw.spec, 'spec');
  const weightsFile = f.str(raw.weightsFile, 'weightsFile', WEIGHTS_FILE_PATTERN, 'a file name of the form weights-<16 hex digits>.bin');
  const byteLength = f.int(raw.byteLength, 'byteLength', 0);
  if (byteLength % 4 !== 0) f.fail('byteLength', 'a multiple of 4 (float32 values)', byteLength);
  const ck = f.obj(raw.checksum, 'checksum');
  if (ck.algorithm !== 'sha256') f.fail('checksum.algorithm', '"sha256"', ck.algorithm);
  const value = f.str(ck.value, 'checksum.value', HEX64, '64 lowercase hex digits');
  if (weightsFile !== `weights-${value.slice(0, 16)}.bin`) f.fail('weightsFile', `weights-${value.slice(0, 16)}.bin (named by its checksum)`, weightsFile);
  if (version >= 2 || ck.tensors !== undefined) f.str(ck.tensors, 'checksum.tensors', HEX64, '64 lowercase hex digits');
  const tensors = parseTensors(f, raw.tensors, byteLength);
  const history = raw.history === undefined ? undefined : parseHistory(f, raw.history);
  let training: Manifest['training'];
  if (raw.training !== undefined) {
    const t = f.obj(raw.training, 'training');
    const epoch = f.int(t.epoch, 'training.epoch', 0);
    if (epoch !== (history?.epochs.length ?? 0)) f.fail('training.epoch', `the number of epochs in the history (${history?.epochs.length ?? 0})`, epoch);
    const o = f.obj(t.optimizer, 'training.optimizer');
    const type = f.str(o.type, 'training.optimizer.type');
    const iterations = f.int(o.iterations, 'training.optimizer.iterations', 0);
    const rng = f.obj(t.rng, 'training.rng');
    training = {
      epoch,
      optimizer: { type, iterations },
      rng: { shuffle: parseRngState(f, rng.shuffle, 'training.rng.shuffle'), runtime: parseRngState(f, rng.runtime, 'training.rng.runtime') },
    };
  }
  const createdAt = raw.createdAt === undefined ? '' : f.str(raw.createdAt, 'createdAt');
  return {
    format: 'dendrite-model', version, spec: raw.spec as ModelSpec, preprocessing: raw.preprocessing as ModelJSON['preprocessing'], weightsFile, byteLength,
    checksum: { algorithm: 'sha256', value, tensors: ck.tensors as string | undefined }, tensors, history, training, createdAt,
  };
}

/** Reads one stored tensor (little-endian; bounds validated by {@link parseManifest}); non-finite values are refused. */
function readTensor(weights: Uint8Array, st: StoredTensor, n: number, where: string): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(weights.buffer, weights.byteOffset + st.offset, 4 * n);
  for (let i = 0; i < n; i++) {
    const v = view.getFloat32(4 * i, true);
    if (!Number.isFinite(v)) throw new ModelFileError(`${where}: tensor ${st.name} holds a non-finite value (${v}) at index ${i}`);
    out[i] = v;
  }
  return out;
}

/**
 * Buffer names of an optimiser's per-parameter state, and which of them can never be negative
 * (running squares), found by running a fresh copy of it on one parameter with gradients +1 and −1.
 */
function optimizerBuffers(spec: ModelSpec): { names: string[]; nonNegative: Set<string> } {
  const seen = [1, -1].map((g) => {
    const opt = buildOptimizer(spec);
    const p = new Tensor(new Float32Array([0.5]), [1], true);
    p.grad = new Tensor(new Float32Array([g]), [1]);
    opt.step([['p', p]]);
    return opt.getState().params.p ?? {};
  });
  const names = Object.keys(seen[0]).sort();
  return { names, nonNegative: new Set(names.filter((b) => seen.every((s) => s[b][0] > 0))) };
}

function restoreOptimizer(model: Model, m: Manifest, spec: ModelSpec, weights: Uint8Array, file: string): void {
  const training = m.training!;
  if (training.optimizer.type !== spec.optimizer.type) {
    throw new ModelFileError(`${file}: field "training.optimizer.type" is ${show(training.optimizer.type)} but the spec's optimizer is ${show(spec.optimizer.type)}`);
  }
  const params = new Map(model.net.namedParameters());
  const { names, nonNegative } = optimizerBuffers(spec);
  const state: Record<string, Record<string, number[]>> = {};
  for (const st of m.tensors) {
    if (!st.name.startsWith('optimizer/')) continue;
    const rest = st.name.slice('optimizer/'.length);
    const cut = rest.lastIndexOf('/');
    const pname = rest.slice(0, cut);
    const buf = rest.slice(cut + 1);
    const p = cut > 0 ? params.get(pname) : undefined;
    if (!p) throw new ModelFileError(`${file}: tensor ${st.name} is optimiser state for an unknown parameter (the parameters are ${[...params.keys()].join(', ')})`);
    if (!names.includes(buf)) throw new ModelFileError(`${file}: tensor ${st.name}: ${spec.optimizer.type} keeps the buffers ${names.join(', ') || '(none)'}, not ${show(buf)}`);
    if (st.shape.length !== 1 || st.shape[0] !== p.size) throw new ModelFileError(`${file}: tensor ${st.name} has shape ${fmtShape(st.shape)}, the parameter needs [${p.size}]`);
    const v = readTensor(weights, st, p.size, file);
    if (nonNegative.has(buf) && v.some((x) => x < 0)) throw new ModelFileError(`${file}: tensor ${st.name} holds a negative value; ${buf} is a running square`);
    (state[pname] ??= Object.create(null) as Record<string, number[]>)[buf] = Array.from(v);
  }
  for (const [pname, bufs] of Object.entries(state)) {
    const missing = names.filter((b) => !Object.hasOwn(bufs, b));
    if (missing.length) throw new ModelFileError(`${file}: the optimiser state of ${pname} lacks ${missing.map((b) => `optimizer/${pname}/${b}`).join(', ')}`);
  }
  model.optimizer.setState({ iterations: training.optimizer.iterations, params: state });
  const rng = training.rng as { shuffle: Parameters<Model['rng']['setState']>[0]; runtime: Parameters<Model['rng']['setState']>[0] };
  model.rng.setState(rng.shuffle);
  model.net.rng.setState(rng.runtime);
}

/** Extra values a network may allocate while it is built, besides its parameters and state. */
const BUILD_SLACK = 16 * 1024 * 1024;

/**
 * Turns a validated manifest and the bytes of its weights file into a model, without touching
 * a file system: checks the length and SHA-256 of the weights and of the tensor table, validates
 * the spec, builds the network under an allocation limit set by the real weights length (so a
 * tiny file cannot make it reserve gigabytes), checks every tensor's shape and values, and
 * restores checkpoint state (optimiser buffers, generator states, history). `file` and
 * `weightsFile` name the sources in errors; every problem is a `ModelFileError`.
 *
 * @example
 * ```ts
 * const m = parseManifest(JSON.parse(manifestText), 'manifest.json');
 * const { model } = decodeModel(m, weightsBytes, { file: 'manifest.json', weightsFile: m.weightsFile, sha256 });
 * ```
 */
export function decodeModel(m: Manifest, weights: Uint8Array, opts: DecodeOptions): LoadedModel {
  const { file, weightsFile } = opts;
  if (weights.length !== m.byteLength) {
    throw new ModelFileError(`${weightsFile}: weights file has ${weights.length} bytes, the manifest says ${m.byteLength} (truncated or corrupt)`);
  }
  const digests = 'digests' in opts ? opts.digests : { weights: opts.sha256(weights), tensors: tensorTableDigest(m.tensors, opts.sha256) };
  const sha = digests.weights;
  if (sha !== m.checksum.value) throw new ModelFileError(`${weightsFile}: checksum mismatch (corrupt weights file): expected sha256 ${m.checksum.value}, computed ${sha}`);
  if (m.checksum.tensors !== undefined) {
    const t = digests.tensors;
    if (t !== m.checksum.tensors) throw new ModelFileError(`${file}: field "tensors" does not match "checksum.tensors" (the tensor table was edited or is corrupt): expected sha256 ${m.checksum.tensors}, computed ${t}`);
  }
  let spec: ModelSpec;
  let model: Model;
  const values = m.byteLength / 4;
  try {
    spec = parseSpec(m.spec, `${file} spec`);
    const tooMuch = (n: number, total: number) =>
      new ModelFileError(`${file}: field "spec" describes a network that needs more than ${total - n} + ${n} values, but the weights file holds ${values}; the spec does not belong to these weights`);
    model = withAllocationLimit(values + BUILD_SLACK, tooMuch, () => buildModel(spec));
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    if (e instanceof DendriteError || e instanceof RangeError) throw new ModelFileError(`${file}: field "spec" is invalid: ${e.message}`);
    throw e;
  }
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  for (const l of model.net.layers) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) {
      const name = `${l.name}.${k}`;
      const st = byName.get(name);
      if (!st) throw new ModelFileError(`${file}: the weights file lacks ${name} ${fmtShape(t.shape)}`);
      if (st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
        throw new ModelFileError(`${file}: ${name} has shape ${fmtShape(st.shape)} in the weights file, the spec needs ${fmtShape(t.shape)}`);
      }
      t.data.set(readTensor(weights, st, t.size, file));
      used.add(name);
    }
  }
  for (const st of m.tensors) {
    if (!used.has(st.name) && !(m.training && st.name.startsWith('optimizer/'))) {
      throw new ModelFileError(`${file}: tensor ${st.name} in the table belongs to no layer of the spec${st.name.startsWith('optimizer/') ? ' (optimiser state without "training")' : ''}`);
    }
  }
  if (m.history) model.history = structuredClone(m.history);
  if (m.training) restoreOptimizer(model, m, spec, weights, file);
  if (m.preprocessing !== undefined) {
    try {
      model.preprocessing = Preprocessor.fromJSON(m.preprocessing);
    } catch (e) {
      if (!(e instanceof DendriteError)) throw e;
      throw new ModelFileError(`${file}: field "preprocessing" is invalid: ${e.message}`);
    }
  }
  return { model, spec, manifest: m, preprocessing: model.preprocessing };
}

/**
 * The bytes whose SHA-256 is the manifest's `checksum.tensors`: the JSON of
 * `[name, shape, dtype, offset]` per tensor, in table order.
 *
 * @example
 * ```ts
 * const digest = sha256Hex(tensorTableBytes(manifest.tensors));
 * ```
 */
export function tensorTableBytes(tensors: readonly StoredTensor[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(tensors.map((t) => [t.name, t.shape, t.dtype, t.offset])));
}

/**
 * The manifest of a serialised model: its JSON plus the checksums (of the weights, and of the
 * tensor table's {@link tensorTableBytes}) and the weights file name (named by the weights'
 * checksum). Directory, bytes, IndexedDB and URL forms all store exactly this.
 *
 * @example
 * ```ts
 * const { json, weights } = serializeModel(model);
 * sealManifest(json, 'e3b0c442…', '5f70bf18…').weightsFile; // 'weights-e3b0c44298fc1c14.bin'
 * ```
 */
export function sealManifest(json: ModelJSON, weightsSha256: string, tensorsSha256: string): Manifest {
  return {
    ...json,
    weightsFile: `weights-${weightsSha256.slice(0, 16)}.bin`,
    checksum: { algorithm: 'sha256', value: weightsSha256, tensors: tensorsSha256 },
    createdAt: new Date().toISOString(),
  };
}

/** The first bytes of the single-file form (see {@link splitModelFile}). */
export const MODEL_FILE_MAGIC = 'DNDRMODL';
/** Magic (8 bytes) and manifest length (uint32). */
export const MODEL_FILE_HEADER = 12;

/**
 * Splits the single-file form — `DNDRMODL` (8 ASCII bytes) · manifest length (uint32,
 * little-endian) · manifest.json (UTF-8) · weights file — into its validated manifest and the
 * weights bytes (checked by {@link decodeModel}). Anything else is a `ModelFileError` naming `name`.
 *
 * @example
 * ```ts
 * const { manifest, weights } = splitModelFile(bytes, 'model.dendrite');
 * ```
 */
export function splitModelFile(b: Uint8Array, name: string): { manifest: Manifest; weights: Uint8Array } {
  if (b.length < MODEL_FILE_HEADER || new TextDecoder().decode(b.subarray(0, 8)) !== MODEL_FILE_MAGIC) {
    throw new ModelFileError(`${name}: not a dendrite model file (it does not start with ${MODEL_FILE_MAGIC})`);
  }
  const len = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true);
  if (MODEL_FILE_HEADER + len > b.length) throw new ModelFileError(`${name}: the manifest runs past the end (${b.length} bytes; truncated)`);
  const manifest = parseManifestJson(b.subarray(MODEL_FILE_HEADER, MODEL_FILE_HEADER + len), name);
  // a copy, so that the tensors' float32 views are aligned
  return { manifest, weights: b.slice(MODEL_FILE_HEADER + len) };
}
