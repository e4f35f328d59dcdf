/**
 * Fashion-MNIST for the JavaScript systems of the benchmark, in the form every workload uses:
 * pixels scaled to [0, 1] as float32 rows of 784, labels one-hot (10 columns) and as class indices.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** One split of the data set. */
export interface Split {
  /** Number of examples. */
  n: number;
  /** [n, 784] pixels / 255. */
  x: Float32Array;
  /** [n, 10] one-hot labels. */
  y: Float32Array;
  /** [n] class indices. */
  labels: Uint8Array;
}

/** The training (60,000) and test (10,000) splits. */
export interface Fashion {
  train: Split;
  test: Split;
}

/** Reads one IDX file (gzip-compressed or not) and checks its magic number and size. */
function readIdx(path: string, dims: number): { shape: number[]; bytes: Uint8Array } {
  let buf = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf.readUInt16BE(0) !== 0 || buf[2] !== 0x08 || buf[3] !== dims) {
    throw new Error(`${path}: not an IDX file of unsigned bytes with ${dims} dimension(s)`);
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(buf.readUInt32BE(4 + 4 * d));
  const off = 4 + 4 * dims;
  const size = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== off + size) throw new Error(`${path}: expected ${off + size} bytes, found ${buf.length}`);
  return { shape, bytes: new Uint8Array(buf.buffer, buf.byteOffset + off, size) };
}

function split(dir: string, prefix: string): Split {
  const find = (name: string) => {
    for (const p of [join(dir, `${name}.gz`), join(dir, name)]) if (existsSync(p)) return p;
    throw new Error(`Fashion-MNIST file ${name}(.gz) not found in ${dir}`);
  };
  const img = readIdx(find(`${prefix}-images-idx3-ubyte`), 3);
  const lab = readIdx(find(`${prefix}-labels-idx1-ubyte`), 1);
  const n = img.shape[0];
  if (lab.shape[0] !== n || img.shape[1] * img.shape[2] !== 784) throw new Error(`${dir}: ${prefix} images and labels do not match`);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = img.bytes[i] / 255;
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) y[i * 10 + lab.bytes[i]] = 1;
  return { n, x, y, labels: Uint8Array.from(lab.bytes) };
}

/**
 * Loads Fashion-MNIST from a directory of the four IDX files (as Debian's
 * `dataset-fashion-mnist` installs them in /usr/share/datasets/fashion-mnist).
 */
export function loadFashionMnist(dir: string): Fashion {
  return { train: split(dir, 'train'), test: split(dir, 't10k') };
}
