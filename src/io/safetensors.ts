/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}` (padded
 * with spaces), then the raw little-endian tensor bytes. Encoded and decoded here from bytes, so
 * it runs in browsers too; every field of a file is checked before anything is allocated.
 */
import { ModelFileError, ShapeError, fmtShape } from '../errors.js';
import { float32Bytes } from './onnx/graph.js';

/** A tensor of a safetensors file: float32 values, or int64 ones (PyTorch counters). @example `{ dtype: 'F32', shape: [2, 3], data: new Float32Array(6) }` */
export interface SafeTensor {
  dtype: 'F32' | 'I64';
  shape: number[];
  /** Values (int64 values as numbers: they are counters and indices, far below 2^53). */
  data: Float32Array | number[];
}

/** A decoded safetensors file: the tensors by name and the string metadata. @example `decodeSafetensors(bytes).tensors.get('dense_1.weight')!.shape` */
export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const DTYPE_SIZE: Record<string, number> = { F32: 4, I64: 8 };

/**
 * Encodes tensors (in the given order) and string metadata as safetensors bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]]));
 * ```
 */
export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    let b: Uint8Array;
    if (t.dtype === 'F32') {
      b = float32Bytes(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
    } else {
      b = new Uint8Array(t.data.length * 8);
      const dv = new DataView(b.buffer);
      for (let i = 0; i < t.data.length; i++) dv.setBigInt64(i * 8, BigInt(Math.round(t.data[i])), true);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + b.length] };
    parts.push(b);
    offset += b.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((new TextEncoder().encode(json).length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes safetensors bytes. Anything malformed — too short, a header length past the end,
 * invalid JSON, an unknown dtype, a shape that does not match its byte range, a range outside the
 * data — is a ModelFileError naming `file`, the tensor and the byte offset.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(bytes, 'model.safetensors');
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors'): SafetensorsFile {
  const bad = (offset: number, why: string) => new ModelFileError(`${file}: ${why} (byte offset ${offset} of ${bytes.length})`);
  if (bytes.length < 8) throw bad(bytes.length, 'truncated: shorter than the 8-byte header length');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw bad(8, `truncated or corrupt: the header claims ${n} bytes but only ${bytes.length - 8} follow`);
  const hlen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen))) as Record<string, unknown>;
  } catch (e) {
    throw bad(8, `corrupt header JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad(8, 'the header is not a JSON object');
  const start = 8 + hlen;
  const dataLen = bytes.length - start;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Object.values(raw).some((v) => typeof v !== 'string')) throw bad(8, '__metadata__ must map strings to strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const size = typeof e?.dtype === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, e.dtype) ? DTYPE_SIZE[e.dtype] : 0;
    if (!size) throw bad(8, `tensor ${name}: dtype ${JSON.stringify(e?.dtype)} is not supported (F32, I64)`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(8, `tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw bad(8, `tensor ${name}: data_offsets ${JSON.stringify(offs)} are not [begin, end]`);
    }
    const [b, end] = offs as [number, number];
    if (end > dataLen) throw bad(start + b, `truncated: tensor ${name} ends at byte ${start + end}, past the end of the file`);
    const count = (shape as number[]).reduce((a, c) => a * c, 1);
    if (count * size !== end - b) throw bad(start + b, `tensor ${name}: shape ${fmtShape(shape as number[])} needs ${count * size} bytes, its range holds ${end - b}`);
    const tdv = new DataView(bytes.buffer, bytes.byteOffset + start + b, end - b);
    let data: Float32Array | number[];
    if (e.dtype === 'F32') {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = tdv.getFloat32(i * 4, true);
    } else {
      data = Array.from({ length: count }, (_, i) => Number(tdv.getBigInt64(i * 8, true)));
    }
    tensors.set(name, { dtype: e.dtype as 'F32' | 'I64', shape: shape as number[], data });
  }
  return { tensors, metadata };
}

/**
 * A float32 tensor of a decoded file with exactly the expected shape: a missing one is a
 * ModelFileError, another dtype or shape a ShapeError naming the tensor.
 */
export function expectTensor(f: SafetensorsFile, name: string, shape: readonly number[], file: string): Float32Array {
  const t = f.tensors.get(name);
  if (!t) throw new ModelFileError(`${file}: tensor ${name} ${fmtShape(shape)} is missing`);
  if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new ShapeError(`${file}: tensor ${name} has dtype ${t.dtype}, expected F32`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${file}: tensor ${name} has shape ${fmtShape(t.shape)}, the dendrite model needs ${fmtShape(shape)}`);
  }
  return t.data;
}
