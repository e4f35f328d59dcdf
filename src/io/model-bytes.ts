import { ConfigError, ModelFileError } from '../errors.js';
import type { Model } from '../train/model.js';
import { MODEL_FILE_HEADER, MODEL_FILE_MAGIC, decodeModel, parseManifestJson, sealManifest, splitModelFile, tensorTableBytes } from './model-format.js';
import type { LoadedModel, Manifest } from './model-format.js';
import { serializeModel } from './model-json.js';
import type { SerializeOptions } from './model-json.js';
import type { ModelSpec } from './spec.js';

/**
 * Models as bytes, Blobs, URLs and IndexedDB records, in any JavaScript runtime (browsers, Node,
 * workers): the same format as a model directory — its `manifest.json` and its weights file —
 * with the SHA-256 checksum computed and verified through WebCrypto (`crypto.subtle`).
 *
 * The single-file form is the two files back to back:
 * `DNDRMODL` (8 ASCII bytes) · manifest length (uint32, little-endian) · manifest.json (UTF-8) · weights file.
 */


async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) throw new ConfigError('model bytes need WebCrypto (crypto.subtle): a secure context (https or localhost) in browsers');
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The model in the single-file form (see the module notes): what {@link modelToBlob} wraps and
 * {@link loadModelFromBytes} reads back.
 *
 * @example
 * ```ts
 * const bytes = await modelToBytes(model, spec);
 * const { model: again } = await loadModelFromBytes(bytes);
 * ```
 */
export async function modelToBytes(model: Model, spec?: ModelSpec, opts: SerializeOptions = {}): Promise<Uint8Array> {
  const serialized = serializeModel(model, spec ? { ...opts, spec } : opts);
  const weights = new Uint8Array(serialized.weights);
  const manifest = sealManifest(serialized.json, await sha256Hex(weights), await sha256Hex(tensorTableBytes(serialized.json.tensors)));
  const json = new TextEncoder().encode(JSON.stringify(manifest, null, 1));
  const out = new Uint8Array(MODEL_FILE_HEADER + json.length + weights.length);
  out.set(new TextEncoder().encode(MODEL_FILE_MAGIC));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, MODEL_FILE_HEADER);
  out.set(weights, MODEL_FILE_HEADER + json.length);
  return out;
}

/**
 * The model as a `Blob` (for a download link, `fetch` upload or the Cache API).
 *
 * @example
 * ```ts
 * const url = URL.createObjectURL(await modelToBlob(model, spec));
 * ```
 */
export async function modelToBlob(model: Model, spec?: ModelSpec, opts: SerializeOptions = {}): Promise<Blob> {
  return new Blob([await modelToBytes(model, spec, opts) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
}

async function bytesOf(src: ArrayBuffer | ArrayBufferView | Blob): Promise<Uint8Array> {
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (typeof Blob !== 'undefined' && src instanceof Blob) return new Uint8Array(await src.arrayBuffer());
  throw new ConfigError(`loadModelFromBytes: expected an ArrayBuffer, typed array or Blob, received ${Object.prototype.toString.call(src)}`);
}

/** Checks size and checksum of the weights, then builds the model. */
async function finish(m: Manifest, weights: Uint8Array, name: string): Promise<LoadedModel> {
  if (weights.length !== m.byteLength) {
    throw new ModelFileError(`${name}: the weights have ${weights.length} bytes, the manifest says ${m.byteLength} (truncated or corrupt)`);
  }
  const digests = { weights: await sha256Hex(weights), tensors: await sha256Hex(tensorTableBytes(m.tensors)) };
  return decodeModel(m, weights, { file: `${name} manifest`, weightsFile: name, digests });
}

/**
 * Loads a model from the single-file form (an `ArrayBuffer`, typed array or `Blob`, e.g. a
 * `File` from an `<input type="file">`), validating it as `loadModel` validates a directory:
 * any problem (not a model, truncated, wrong checksum, shapes that do not fit the spec) is a
 * `ModelFileError`. `name` names the source in errors.
 *
 * @example
 * ```ts
 * const { model } = await loadModelFromBytes(await file.arrayBuffer(), file.name);
 * ```
 */
export async function loadModelFromBytes(src: ArrayBuffer | ArrayBufferView | Blob, name = 'model bytes'): Promise<LoadedModel> {
  const { manifest, weights } = splitModelFile(await bytesOf(src), name);
  return finish(manifest, weights, name);
}

/**
 * Loads a model over HTTP: either a single model file, or a model directory served as static
 * files (the URL of its `manifest.json`, or of the directory with a trailing `/`; the weights file
 * is fetched next to it). Errors of the network or the server are `ModelFileError`s naming the URL.
 *
 * @example
 * ```ts
 * const { model } = await loadModelFromUrl('/models/digits/'); // manifest.json + weights-….bin
 * const other = await loadModelFromUrl('/models/digits.dendrite');
 * ```
 */
export async function loadModelFromUrl(url: string | URL, init?: RequestInit): Promise<LoadedModel> {
  const base = new URL(String(url), (globalThis as { location?: { href: string } }).location?.href);
  const target = base.pathname.endsWith('/') ? new URL('manifest.json', base) : base;
  const get = async (u: URL): Promise<Uint8Array> => {
    let r: Response;
    try {
      r = await fetch(u, init);
    } catch (e) {
      throw new ModelFileError(`${u.href}: cannot fetch (${(e as Error).message})`);
    }
    if (!r.ok) throw new ModelFileError(`${u.href}: the server answered ${r.status} ${r.statusText}`);
    return new Uint8Array(await r.arrayBuffer());
  };
  const first = await get(target);
  if (first.length >= 8 && new TextDecoder().decode(first.subarray(0, 8)) === MODEL_FILE_MAGIC) return loadModelFromBytes(first, target.href);
  const m = parseManifestJson(first, target.href);
  const wurl = new URL(m.weightsFile, target);
  if (wurl.origin !== target.origin || !/^weights-[0-9a-f]{16}\.bin$/.test(m.weightsFile)) {
    throw new ModelFileError(`${target.href}: weightsFile ${JSON.stringify(m.weightsFile)} is not a weights file name next to the manifest`);
  }
  return finish(m, await get(wurl), wurl.href);
}

// ---- IndexedDB -----------------------------------------------------------------------------------

const STORE = 'models';

function idb(): IDBFactory {
  const f = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!f) throw new ConfigError('IndexedDB is not available in this JavaScript runtime (use modelToBytes / saveModel(dir) instead)');
  return f;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new ModelFileError(`IndexedDB: ${r.error?.message ?? 'request failed'}`));
  });
}

async function withStore<T>(dbName: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const open = idb().open(dbName, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(fn(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(new ModelFileError(`IndexedDB: ${tx.error?.message ?? 'transaction failed'}`));
    });
    return result;
  } finally {
    db.close();
  }
}

/**
 * Saves a model in the browser's IndexedDB under `key` (database `dbName`, store `models`), in the
 * single-file form: it survives reloads and can be loaded with {@link loadModelFromIndexedDB}.
 *
 * @example
 * ```ts
 * await saveModelToIndexedDB('digits', model, spec);
 * ```
 */
export async function saveModelToIndexedDB(key: string, model: Model, spec?: ModelSpec, opts: SerializeOptions = {},
  dbName = 'dendrite'): Promise<void> {
  const bytes = await modelToBytes(model, spec, opts);
  await withStore(dbName, 'readwrite', (s) => s.put(bytes.buffer, key));
}

/**
 * Loads a model saved by {@link saveModelToIndexedDB}; `ModelFileError` when there is none under
 * `key` or the record is damaged.
 *
 * @example
 * ```ts
 * const { model } = await loadModelFromIndexedDB('digits');
 * ```
 */
export async function loadModelFromIndexedDB(key: string, dbName = 'dendrite'): Promise<LoadedModel> {
  const v = await withStore<unknown>(dbName, 'readonly', (s) => s.get(key));
  if (!(v instanceof ArrayBuffer)) throw new ModelFileError(`IndexedDB ${dbName}/${STORE}: no model saved under ${JSON.stringify(key)}`);
  return loadModelFromBytes(v, `IndexedDB ${dbName}/${STORE}/${key}`);
}

/**
 * Deletes a model saved by {@link saveModelToIndexedDB} (nothing happens when there is none).
 *
 * @example
 * ```ts
 * await deleteModelFromIndexedDB('digits');
 * ```
 */
export async function deleteModelFromIndexedDB(key: string, dbName = 'dendrite'): Promise<void> {
  await withStore(dbName, 'readwrite', (s) => s.delete(key));
}
