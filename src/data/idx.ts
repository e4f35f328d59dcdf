import { ConfigError, DataError, fmtShape } from '../errors.js';
import { nodeBuiltin } from '../node-edge.js';
import { openRegularFile } from './node-files.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { oneHot } from './encode.js';

/** Element types of the IDX format (type code in the magic number's third byte). */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const DTYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/** Deflate's largest compression ratio: a gzip file of n bytes decompresses to at most about 1032·n bytes. */
const DEFLATE_MAX_RATIO = 1032;

/** Largest data size this reader allocates (a header asking for more is treated as corrupt). */
const MAX_BYTES = 2 ** 31 - 1;

/** Typed array for each IDX element type. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An IDX file's contents: element type, dimensions and values (row-major). */
export interface IdxArray {
  /** Path the data came from. */
  file: string;
  dtype: IdxDtype;
  /** Dimensions, outermost first (with `limit`, the first is the number of items read). */
  shape: number[];
  data: IdxData;
}

/** Options of the IDX readers. */
export interface IdxReadOptions {
  /**
   * Read only the first `limit` items (along the first dimension). The rest of the file is still
   * streamed through (not stored) so that its length is validated.
   */
  limit?: number;
}

interface IdxHeader {
  dtype: IdxDtype;
  itemBytes: number;
  shape: number[];
  headerBytes: number;
  /** Bytes of data the dimensions call for. */
  dataBytes: number;
}

/**
 * Incremental IDX parser: feed it chunks; it parses the header, then hands every data byte that
 * falls within the first `keepBytes` to the sink together with its offset in the data section.
 */
class IdxStream {
  private head = new Uint8Array(4);
  private headFill = 0;
  header: IdxHeader | null = null;
  /** Bytes consumed so far (offset in the decompressed IDX stream). */
  offset = 0;
  private keep = 0;

  /** The most bytes the whole stream can hold (known from the file's real length); checked against the header before anything is allocated. */
  maxStreamBytes = Infinity;
  /** Whether `maxStreamBytes` is the exact length (an uncompressed file). */
  exactLength = false;

  constructor(
    private readonly file: string,
    private readonly onHeader: (h: IdxHeader) => number,
    private readonly sink: (bytes: Uint8Array, dataOffset: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    let p = 0;
    while (!this.header && p < chunk.length) {
      const need = this.head.length - this.headFill;
      const take = Math.min(need, chunk.length - p);
      this.head.set(chunk.subarray(p, p + take), this.headFill);
      this.headFill += take;
      p += take;
      this.offset += take;
      if (this.headFill === 4 && this.head.length === 4) this.parseMagic();
      else if (this.headFill === this.head.length && this.head.length > 4) this.parseDims();
    }
    if (!this.header || p >= chunk.length) return;
    const data = chunk.subarray(p);
    const dataOff = this.offset - this.header.headerBytes;
    if (dataOff < this.keep) this.sink(data.subarray(0, Math.min(data.length, this.keep - dataOff)), dataOff);
    this.offset += data.length;
  }

  private parseMagic(): void {
    const h = this.head;
    const code = h[2];
    const nd = h[3];
    const hex = Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
    if (h[0] !== 0 || h[1] !== 0 || !DTYPES[code] || nd === 0) {
      const why =
        h[0] !== 0 || h[1] !== 0
          ? 'the first two bytes must be 0'
          : !DTYPES[code]
            ? `type code 0x${code.toString(16).padStart(2, '0')} is not one of 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32), 0x0e (float64)`
            : 'the number of dimensions is 0';
      throw new DataError(`${this.file}: byte offset 0: wrong magic number 0x${hex} for an IDX file (${why})`);
    }
    const grown = new Uint8Array(4 + 4 * nd);
    grown.set(h);
    this.head = grown;
  }

  private parseDims(): void {
    const h = this.head;
    const { dtype, bytes } = DTYPES[h[2]];
    const nd = h[3];
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const shape: number[] = [];
    let total = bytes;
    for (let i = 0; i < nd; i++) {
      const d = view.getUint32(4 + 4 * i, false);
      shape.push(d);
      total *= d;
    }
    const headerBytes = 4 + 4 * nd;
    if (total > MAX_BYTES) {
      throw new DataError(
        `${this.file}: byte offset 4: dimensions ${fmtShape(shape)} of ${dtype} need ${total} bytes of data, more than this reader handles (${MAX_BYTES}); the header is probably corrupt`,
      );
    }
    this.header = { dtype, itemBytes: bytes, shape, headerBytes, dataBytes: total };
    if (headerBytes + total > this.maxStreamBytes) {
      if (this.exactLength) this.lengthError(this.maxStreamBytes);
      throw new DataError(
        `${this.file}: byte offset 4: dimensions ${fmtShape(shape)} of ${dtype} need ${total} bytes of data, more than a gzip file of this size can hold (${this.maxStreamBytes} decompressed bytes); the header is probably corrupt`,
      );
    }
    this.keep = this.onHeader(this.header);
  }

  /** Checks, at the end of the stream, that the data length matches the dimensions. */
  finish(): IdxHeader {
    if (!this.header) {
      const need = this.head.length;
      throw new DataError(
        `${this.file}: byte offset ${this.offset}: the file ends inside the IDX header (${this.offset} of ${need}${need === 4 ? '+' : ''} header bytes)`,
      );
    }
    if (this.offset !== this.header.headerBytes + this.header.dataBytes) this.lengthError(this.offset);
    return this.header;
  }

  /** The DataError for a stream of `end` bytes that does not match the header's dimensions. */
  private lengthError(end: number): never {
    const h = this.header!;
    const expectedEnd = h.headerBytes + h.dataBytes;
    {
      const dims = `dimensions ${fmtShape(h.shape)} of ${h.dtype} need ${h.dataBytes} bytes of data after the ${h.headerBytes}-byte header (ending at byte offset ${expectedEnd})`;
      if (end < expectedEnd) throw new DataError(`${this.file}: byte offset ${end}: the data ends early: ${dims}`);
      throw new DataError(`${this.file}: byte offset ${expectedEnd}: ${end - expectedEnd} bytes more than the dimensions describe: ${dims}`);
    }
  }
}

/**
 * Streams a file (gunzipping it when it starts with the gzip magic bytes) through an
 * {@link IdxStream}. Errors of the gzip stream become DataErrors with the byte offsets.
 */
async function streamIdx(path: string, parser: (file: string) => IdxStream): Promise<IdxHeader> {
  const zlib = nodeBuiltin('node:zlib', 'IDX files from paths');
  const { handle, size: fileSize } = await openRegularFile(path, { what: 'IDX file', fail: (m) => new DataError(m) });
  let gz = false;
  try {
    const sig = new Uint8Array(2);
    const { bytesRead } = await handle.read(sig, 0, 2, 0);
    gz = bytesRead === 2 && sig[0] === 0x1f && sig[1] === 0x8b;
  } catch (e) {
    await handle.close();
    throw new DataError(`${path}: cannot read the file (${(e as Error).message})`);
  }
  const p = parser(path);
  // deflate expands at most 1032:1, so a header asking for more than that is refused before allocating
  p.maxStreamBytes = gz ? fileSize * DEFLATE_MAX_RATIO : fileSize;
  p.exactLength = !gz;
  const src = handle.createReadStream({ start: 0, highWaterMark: 1 << 20 });
  if (!gz) {
    try {
      for await (const chunk of src) p.push(chunk as Uint8Array);
    } catch (e) {
      src.destroy();
      if (e instanceof DataError) throw e;
      throw new DataError(`${path}: byte offset ${p.offset}: read error (${(e as Error).message})`);
    }
    return p.finish();
  }
  const gunzip = zlib.createGunzip();
  src.on('error', (e) => gunzip.destroy(e));
  src.pipe(gunzip);
  try {
    for await (const chunk of gunzip) p.push(chunk as Uint8Array);
  } catch (e) {
    src.destroy();
    gunzip.destroy();
    if (e instanceof DataError) throw new DataError(`${e.message} (offset in the decompressed stream)`);
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message;
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg)) {
      throw new DataError(
        `${path}: truncated gzip stream: the compressed file ends at byte offset ${fileSize} after ${p.offset} decompressed bytes (${msg})`,
      );
    }
    if (code && code.startsWith('Z_')) {
      throw new DataError(
        `${path}: corrupt gzip stream near compressed byte offset ${gunzip.bytesWritten} (after ${p.offset} decompressed bytes): ${msg}`,
      );
    }
    throw new DataError(`${path}: read error after ${p.offset} decompressed bytes (${msg})`);
  }
  try {
    return p.finish();
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`${e.message} (offset in the decompressed stream)`);
    throw e;
  }
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new ConfigError(`IDX limit must be an integer ≥ 0, received ${JSON.stringify(limit)}`);
  }
}

function itemsToKeep(h: IdxHeader, limit: number | undefined): number {
  const n = h.shape[0];
  return limit === undefined ? n : Math.min(n, limit);
}

/**
 * Reads an IDX file (the MNIST / Fashion-MNIST format), gzipped or not (detected from the
 * content), streaming it into a typed array of its element type. Validates the magic number,
 * the type code and that the data length matches the dimensions; a wrong magic number, a
 * length mismatch, or a truncated or corrupt gzip stream is a {@link DataError} with the file and
 * byte offset. Node only.
 *
 * @example
 * ```ts
 * const labels = await readIdx('t10k-labels-idx1-ubyte.gz'); // { dtype: 'uint8', shape: [10000], data }
 * ```
 */
export async function readIdx(path: string, opts: IdxReadOptions = {}): Promise<IdxArray> {
  checkLimit(opts.limit);
  let raw = new Uint8Array(0);
  let keptItems = 0;
  const h = await streamIdx(
    path,
    (file) =>
      new IdxStream(
        file,
        (hd) => {
          keptItems = itemsToKeep(hd, opts.limit);
          const bytes = hd.shape[0] === 0 ? 0 : (hd.dataBytes / hd.shape[0]) * keptItems;
          raw = new Uint8Array(bytes);
          return bytes;
        },
        (bytes, off) => raw.set(bytes, off),
      ),
  );
  const shape = [keptItems, ...h.shape.slice(1)];
  return { file: path, dtype: h.dtype, shape, data: decode(raw, h.dtype) };
}

/** Big-endian bytes → typed array of the element type. */
function decode(raw: Uint8Array, dtype: IdxDtype): IdxData {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'uint8':
      return raw;
    case 'int8':
      return new Int8Array(raw.buffer, raw.byteOffset, raw.length);
    case 'int16':
      return Int16Array.from({ length: raw.length / 2 }, (_, i) => v.getInt16(2 * i, false));
    case 'int32':
      return Int32Array.from({ length: raw.length / 4 }, (_, i) => v.getInt32(4 * i, false));
    case 'float32':
      return Float32Array.from({ length: raw.length / 4 }, (_, i) => v.getFloat32(4 * i, false));
    case 'float64':
      return Float64Array.from({ length: raw.length / 8 }, (_, i) => v.getFloat64(8 * i, false));
  }
}

/**
 * Reads an IDX file of unsigned-byte images `[N, H, W]` (or `[N, C, H, W]`) straight into a
 * float32 tensor `[N, C, H, W]` (C = 1 for 3-D files) with values scaled to [0, 1] (byte / 255),
 * converting chunk by chunk as the file streams. Errors as {@link readIdx}, plus a DataError for
 * a file that is not uint8 images.
 *
 * @example
 * ```ts
 * const x = await readIdxImages('t10k-images-idx3-ubyte.gz', { limit: 100 }); // [100, 1, 28, 28]
 * ```
 */
export async function readIdxImages(path: string, opts: IdxReadOptions = {}): Promise<Tensor> {
  checkLimit(opts.limit);
  let out: Tensor | null = null;
  const scale = 1 / 255;
  await streamIdx(
    path,
    (file) =>
      new IdxStream(
        file,
        (h) => {
          if (h.dtype !== 'uint8' || (h.shape.length !== 3 && h.shape.length !== 4)) {
            throw new DataError(
              `${file}: byte offset 2: expected images of unsigned bytes [N, H, W] or [N, C, H, W] (type 0x08, 3 or 4 dimensions), received ${h.dtype} ${fmtShape(h.shape)}`,
            );
          }
          const n = itemsToKeep(h, opts.limit);
          const rest = h.shape.length === 3 ? [1, h.shape[1], h.shape[2]] : h.shape.slice(1);
          out = zeros([n, ...rest]);
          return out.size;
        },
        (bytes, off) => {
          const d = out!.data;
          for (let i = 0; i < bytes.length; i++) d[off + i] = bytes[i] * scale;
        },
      ),
  );
  return out!;
}

/**
 * Reads an IDX file of unsigned-byte labels `[N]`. Errors as {@link readIdx}, plus a DataError
 * for a file that is not 1-D uint8.
 *
 * @example
 * ```ts
 * const labels = await readIdxLabels('t10k-labels-idx1-ubyte.gz'); // Uint8Array(10000)
 * ```
 */
export async function readIdxLabels(path: string, opts: IdxReadOptions = {}): Promise<Uint8Array> {
  const a = await readIdx(path, opts);
  if (a.dtype !== 'uint8' || a.shape.length !== 1) {
    throw new DataError(`${path}: byte offset 2: expected labels of unsigned bytes [N] (type 0x08, 1 dimension), received ${a.dtype} ${fmtShape(a.shape)}`);
  }
  return a.data as Uint8Array;
}

/** Images with their labels, as tensors ready for training. */
export interface ImageSet {
  /** Images `[N, C, H, W]`, float32 in [0, 1]. */
  x: Tensor;
  /** One-hot labels `[N, classes]`. */
  y: Tensor;
  /** Class index of each image. */
  labels: Uint8Array;
}

/** A train / test pair of {@link ImageSet}s. */
export interface ImageDataset {
  train: ImageSet;
  test: ImageSet;
}

/** Options of {@link loadIdxDataset}. */
export interface IdxDatasetOptions {
  /** Read only the first images of each set: a number for both, or per set. */
  limit?: number | { train?: number; test?: number };
  /** Number of classes of the one-hot labels (default 10); a larger label is a DataError. */
  classes?: number;
}

/**
 * The class names of Fashion-MNIST, by label.
 * @example `FASHION_MNIST_CLASSES[9] // 'Ankle boot'`
 */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

const FILE_PATTERNS = {
  trainImages: /^train-images[.-]idx3-ubyte(\.gz)?$/i,
  trainLabels: /^train-labels[.-]idx1-ubyte(\.gz)?$/i,
  testImages: /^t10k-images[.-]idx3-ubyte(\.gz)?$/i,
  testLabels: /^t10k-labels[.-]idx1-ubyte(\.gz)?$/i,
};

/**
 * Finds the four MNIST-layout files in a directory (`train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
 * `.gz`; an uncompressed file wins over a gzipped one). DataError listing what is there when one
 * is missing.
 *
 * @example
 * ```ts
 * const files = await findIdxFiles('/usr/share/datasets/fashion-mnist');
 * files.testLabels; // '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'
 * ```
 */
export async function findIdxFiles(dir: string): Promise<Record<keyof typeof FILE_PATTERNS, string>> {
  const fs = nodeBuiltin('node:fs/promises', 'findIdxFiles(dir)');
  const path = nodeBuiltin('node:path', 'findIdxFiles(dir)');
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch (e) {
    throw new DataError(`${dir}: cannot read the directory (${(e as Error).message})`);
  }
  const out = {} as Record<keyof typeof FILE_PATTERNS, string>;
  for (const key of Object.keys(FILE_PATTERNS) as (keyof typeof FILE_PATTERNS)[]) {
    const hits = names.filter((n) => FILE_PATTERNS[key].test(n));
    if (hits.length === 0) {
      const base = FILE_PATTERNS[key].source.replace(/^\^/, '').replace('[.-]', '-').replace('(\\.gz)?$', '[.gz]');
      throw new DataError(`${dir}: no ${key.replace(/([A-Z])/g, ' $1').toLowerCase()} file (${base}); the directory holds: ${names.join(', ') || 'nothing'}`);
    }
    hits.sort((a, b) => Number(a.endsWith('.gz')) - Number(b.endsWith('.gz')));
    out[key] = path.join(dir, hits[0]);
  }
  return out;
}

async function loadSet(images: string, labelsFile: string, limit: number | undefined, classes: number): Promise<ImageSet> {
  const [x, labels] = await Promise.all([readIdxImages(images, { limit }), readIdxLabels(labelsFile, { limit })]);
  if (x.shape[0] !== labels.length) {
    throw new DataError(`${images} holds ${x.shape[0]} images but ${labelsFile} holds ${labels.length} labels`);
  }
  const y = oneHot(labels, classes, { what: (i) => `${labelsFile}: byte offset ${8 + i}: label ${i}` });
  return { x, y, labels };
}

/**
 * Loads an MNIST-layout dataset (MNIST, Fashion-MNIST, …) from a directory: images as float32
 * `[N, 1, 28, 28]` scaled to [0, 1] and one-hot labels `[N, 10]`, for the train and the test
 * (`t10k`) files. On Debian, Fashion-MNIST is `apt-get install dataset-fashion-mnist`
 * (→ `/usr/share/datasets/fashion-mnist`). Node only.
 *
 * @example
 * ```ts
 * const { train, test } = await loadIdxDataset('/usr/share/datasets/fashion-mnist');
 * train.x.shape; // [60000, 1, 28, 28]
 * test.y.shape;  // [10000, 10]
 * ```
 */
export async function loadIdxDataset(dir: string, opts: IdxDatasetOptions = {}): Promise<ImageDataset> {
  const classes = opts.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 2) throw new ConfigError(`loadIdxDataset: classes must be an integer ≥ 2, received ${JSON.stringify(classes)}`);
  const lim = opts.limit;
  const trainLimit = typeof lim === 'number' ? lim : lim?.train;
  const testLimit = typeof lim === 'number' ? lim : lim?.test;
  const f = await findIdxFiles(dir);
  const train = await loadSet(f.trainImages, f.trainLabels, trainLimit, classes);
  const test = await loadSet(f.testImages, f.testLabels, testLimit, classes);
  return { train, test };
}
