import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { idxBytes } from '../../fuzz/cases.js';
import { readIdx, readIdxImages, readIdxLabels, loadIdxDataset, findIdxFiles, FASHION_MNIST_CLASSES, DataError, ConfigError, Rng } from '../../src/index.js';

// Bytes of an IDX file (the fuzz harness builds its inputs with the same helper)
const idx = idxBytes;

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dendrite-idx-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const IMAGES = Uint8Array.from([0, 255, 51, 102, 255, 0, 0, 0, 1, 2, 3, 4]); // 3 images of 2×2

test('idx: reads uint8 images and labels, gzipped or not, into typed arrays and [N, 1, H, W] tensors in [0, 1]', withDir(async (dir) => {
  const raw = idx(0x08, [3, 2, 2], IMAGES);
  writeFileSync(join(dir, 'img'), raw);
  writeFileSync(join(dir, 'img.gz'), gzipSync(raw));
  for (const f of ['img', 'img.gz']) {
    const a = await readIdx(join(dir, f));
    assert.equal(a.dtype, 'uint8');
    assert.deepEqual(a.shape, [3, 2, 2]);
    assert.deepEqual(Array.from(a.data), Array.from(IMAGES));
    const x = await readIdxImages(join(dir, f));
    assert.deepEqual(x.shape, [3, 1, 2, 2]);
    assert.deepEqual(Array.from(x.data), Array.from(IMAGES, (b) => Math.fround(b / 255)));
    const first = await readIdxImages(join(dir, f), { limit: 2 });
    assert.deepEqual(first.shape, [2, 1, 2, 2]);
    assert.deepEqual(Array.from(first.data), Array.from(x.data.subarray(0, 8)));
  }
  writeFileSync(join(dir, 'lab'), idx(0x08, [3], Uint8Array.from([7, 0, 9])));
  assert.deepEqual(Array.from(await readIdxLabels(join(dir, 'lab'))), [7, 0, 9]);
  await assert.rejects(readIdxLabels(join(dir, 'img')), (e: unknown) => e instanceof DataError && /expected labels of unsigned bytes \[N\].*received uint8 \[3, 2, 2\]/.test(e.message));
  await assert.rejects(readIdxImages(join(dir, 'lab')), (e: unknown) => e instanceof DataError && /expected images of unsigned bytes/.test(e.message));
  await assert.rejects(readIdx(join(dir, 'img'), { limit: -1 }), ConfigError);
}));

test('idx: multi-byte element types are big-endian; large files stream in many chunks', withDir(async (dir) => {
  const d = new Uint8Array(4 * 3);
  const v = new DataView(d.buffer);
  [1.5, -2, 1e6].forEach((x, i) => v.setFloat32(4 * i, x, false));
  writeFileSync(join(dir, 'f32'), idx(0x0d, [3], d));
  assert.deepEqual(Array.from((await readIdx(join(dir, 'f32'))).data), [1.5, -2, 1e6]);
  const s = new Uint8Array(4);
  new DataView(s.buffer).setInt16(0, -300, false);
  new DataView(s.buffer).setInt16(2, 1234, false);
  writeFileSync(join(dir, 'i16.gz'), gzipSync(idx(0x0b, [2], s)));
  const a = await readIdx(join(dir, 'i16.gz'));
  assert.equal(a.dtype, 'int16');
  assert.deepEqual(Array.from(a.data), [-300, 1234]);
  // 3 MB of pseudo-random bytes: several 1 MB read chunks, and the header split from the data
  const n = 3000;
  const big = new Uint8Array(n * 32 * 32);
  const rng = new Rng(5);
  for (let i = 0; i < big.length; i++) big[i] = rng.nextUint32() & 255;
  writeFileSync(join(dir, 'big.gz'), gzipSync(idx(0x08, [n, 32, 32], big)));
  const x = await readIdxImages(join(dir, 'big.gz'), { limit: 2999 });
  assert.deepEqual(x.shape, [2999, 1, 32, 32]);
  assert.equal(x.data[x.size - 1], Math.fround(big[x.size - 1] / 255));
  assert.equal(x.data[12345], Math.fround(big[12345] / 255));
}));

test('idx error: a wrong magic number is a DataError with file and byte offset 0', withDir(async (dir) => {
  const f = join(dir, 'bad-magic');
  writeFileSync(f, Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]));
  await assert.rejects(readIdx(f), (e: unknown) => e instanceof DataError && e.message.startsWith(`${f}: byte offset 0: wrong magic number 0x504b0304 for an IDX file (the first two bytes must be 0)`));
  writeFileSync(f, idx(0x07, [1], Uint8Array.from([1])));
  await assert.rejects(readIdx(f), (e: unknown) => e instanceof DataError && /byte offset 0: wrong magic number 0x00000701.*type code 0x07 is not one of/.test(e.message));
  writeFileSync(f, gzipSync(Uint8Array.from([1, 2, 3, 4, 5])));
  await assert.rejects(readIdx(f), (e: unknown) => e instanceof DataError && /byte offset 0: wrong magic number 0x01020304 .*\(offset in the decompressed stream\)/.test(e.message));
  writeFileSync(f, Uint8Array.from([0, 0, 8]));
  await assert.rejects(readIdx(f), (e: unknown) => e instanceof DataError && /byte offset 3: the file ends inside the IDX header/.test(e.message));
}));

test('idx error: dimensions that do not match the data length are a DataError with the byte offset', withDir(async (dir) => {
  const f = join(dir, 'short');
  writeFileSync(f, idx(0x08, [3, 2, 2], IMAGES.subarray(0, 10)));
  await assert.rejects(
    readIdx(f),
    (e: unknown) => e instanceof DataError && e.message === `${f}: byte offset 26: the data ends early: dimensions [3, 2, 2] of uint8 need 12 bytes of data after the 16-byte header (ending at byte offset 28)`,
  );
  // still detected when only the first image is kept
  await assert.rejects(readIdxImages(f, { limit: 1 }), (e: unknown) => e instanceof DataError && /byte offset 26: the data ends early/.test(e.message));
  const g = join(dir, 'long.gz');
  writeFileSync(g, gzipSync(idx(0x08, [2, 2, 2], IMAGES)));
  await assert.rejects(readIdx(g), (e: unknown) => e instanceof DataError && /long\.gz: byte offset 24: 4 bytes more than the dimensions describe.*\(offset in the decompressed stream\)/.test(e.message));
  const h = join(dir, 'huge');
  writeFileSync(h, idx(0x0e, [100000, 100000], new Uint8Array(8)));
  await assert.rejects(readIdx(h), (e: unknown) => e instanceof DataError && /byte offset 4: dimensions \[100000, 100000\] of float64 need 80000000000 bytes.*header is probably corrupt/.test(e.message));
}));

test('idx error: a truncated or corrupt gzip stream is a DataError with file and byte offset', withDir(async (dir) => {
  const data = new Uint8Array(200000);
  const rng = new Rng(9);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextUint32() & 255;
  const gz = gzipSync(idx(0x08, [200, 1000], data));
  const t = join(dir, 'truncated.gz');
  writeFileSync(t, gz.subarray(0, 100000));
  await assert.rejects(readIdx(t), (e: unknown) => e instanceof DataError && /^.*truncated\.gz: truncated gzip stream: the compressed file ends at byte offset 100000 after \d+ decompressed bytes/.test(e.message));
  const c = join(dir, 'corrupt.gz');
  const bad = Uint8Array.from(gz);
  for (let i = 50000; i < 50100; i++) bad[i] ^= 0x5a;
  writeFileSync(c, bad);
  await assert.rejects(readIdx(c), (e: unknown) => e instanceof DataError && /corrupt\.gz: corrupt gzip stream near compressed byte offset \d+ \(after \d+ decompressed bytes\): /.test(e.message));
  const h = join(dir, 'badheader.gz');
  const bh = Uint8Array.from(gz);
  bh[3] = 0xff; // reserved flag bits
  writeFileSync(h, bh);
  await assert.rejects(readIdx(h), (e: unknown) => e instanceof DataError && /badheader\.gz: corrupt gzip stream near compressed byte offset \d+/.test(e.message));
  await assert.rejects(readIdx(join(dir, 'missing.gz')), (e: unknown) => e instanceof DataError && /missing\.gz: cannot read the file/.test(e.message));
}));

test('loadIdxDataset: finds train/t10k files (gz or not), one-hot labels, validates counts and labels', withDir(async (dir) => {
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [3, 2, 2], IMAGES)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [3], Uint8Array.from([1, 0, 9])));
  writeFileSync(join(dir, 't10k-images.idx3-ubyte'), idx(0x08, [1, 2, 2], IMAGES.subarray(0, 4)));
  await assert.rejects(loadIdxDataset(dir), (e: unknown) => e instanceof DataError && /no test labels file \(t10k-labels-idx1-ubyte\[\.gz\]\); the directory holds: t10k-images\.idx3-ubyte, train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte/.test(e.message));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [1], Uint8Array.from([4]))));
  const files = await findIdxFiles(dir);
  assert.equal(files.testImages, join(dir, 't10k-images.idx3-ubyte'));
  const { train, test: t } = await loadIdxDataset(dir);
  assert.deepEqual(train.x.shape, [3, 1, 2, 2]);
  assert.deepEqual(train.y.shape, [3, 10]);
  assert.deepEqual(Array.from(train.labels), [1, 0, 9]);
  assert.equal(train.y.data[1 * 10 + 0], 1);
  assert.equal(train.y.data[2 * 10 + 9], 1);
  assert.deepEqual(t.x.shape, [1, 1, 2, 2]);
  assert.equal(t.y.data[4], 1);
  const lim = await loadIdxDataset(dir, { limit: { train: 2 } });
  assert.equal(lim.train.x.shape[0], 2);
  // a label beyond the classes: DataError with its byte offset
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [3], Uint8Array.from([1, 12, 9])));
  await assert.rejects(loadIdxDataset(dir), (e: unknown) => e instanceof DataError && /train-labels-idx1-ubyte: byte offset 9: label 1: index 12 is outside the 10 classes/.test(e.message));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [2], Uint8Array.from([1, 2])));
  await assert.rejects(loadIdxDataset(dir), (e: unknown) => e instanceof DataError && /holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/.test(e.message));
  await assert.rejects(loadIdxDataset(join(dir, 'nope')), (e: unknown) => e instanceof DataError && /nope: cannot read the directory/.test(e.message));
}));

const FASHION = '/usr/share/datasets/fashion-mnist';

test(
  'real data: Fashion-MNIST t10k labels and the first 100 images',
  { skip: existsSync(FASHION) ? false : `${FASHION} is missing (apt-get install dataset-fashion-mnist)` },
  async () => {
    const f = await findIdxFiles(FASHION);
    const labels = await readIdxLabels(f.testLabels);
    assert.equal(labels.length, 10000);
    const counts = new Array(10).fill(0);
    for (const l of labels) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(1000)); // the test set is balanced
    assert.deepEqual(Array.from(labels.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    assert.equal(FASHION_MNIST_CLASSES[labels[0]], 'Ankle boot');
    const x = await readIdxImages(f.testImages, { limit: 100 });
    assert.deepEqual(x.shape, [100, 1, 28, 28]);
    let first = 0;
    let all = 0;
    let max = 0;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      if (i < 784) first += v;
      all += v;
      if (v > max) max = v;
    }
    // pixel byte sums: 33456 for the first image, 5854180 for the first 100
    assert.ok(Math.abs(first * 255 - 33456) < 0.01, String(first * 255));
    assert.ok(Math.abs(all * 255 - 5854180) < 1, String(all * 255));
    assert.equal(max, 1);
  },
);

test('idx: a header is checked against the real file length before anything is allocated', withDir(async (dir) => {
  // an 8-byte file whose header asks for 2 GiB: under a 2 GB address-space limit, reserving the
  // memory first fails with "Array buffer allocation failed"; checking the length first cannot
  const f = join(dir, 'tiny');
  writeFileSync(f, idx(0x08, [2 ** 31 - 1], new Uint8Array(0)));
  const mod = new URL('../../src/data/idx.js', import.meta.url).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => m.readIdx(${JSON.stringify(f)})).catch((e) => console.log(e.name + ': ' + e.message))`;
  const r = spawnSync('sh', ['-c', 'ulimit -v 2000000; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' });
  assert.match(r.stdout, /^DataError: .*tiny: byte offset 8: the data ends early: dimensions \[2147483647\] of uint8 need 2147483647 bytes/, r.stdout + r.stderr);
  // a gzip file cannot declare more than deflate's 1032:1 ratio allows
  const g = join(dir, 'tiny.gz');
  writeFileSync(g, gzipSync(idx(0x08, [1, 100000, 10000], new Uint8Array(0))));
  await assert.rejects(readIdxImages(g), (e: unknown) => e instanceof DataError && /dimensions \[1, 100000, 10000\] of uint8 need 1000000000 bytes of data, more than a gzip file of this size can hold/.test(e.message));
}));

test('idx: FIFOs, directories and devices are refused without blocking', withDir(async (dir) => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const t0 = Date.now();
  await assert.rejects(readIdx(fifo), (e: unknown) => e instanceof DataError && /fifo: the IDX file is a FIFO \(named pipe\), not a regular file/.test(e.message));
  await assert.rejects(readIdxImages(dir), (e: unknown) => e instanceof DataError && /the IDX file is a directory/.test(e.message));
  await assert.rejects(readIdx('/dev/zero'), (e: unknown) => e instanceof DataError && /the IDX file is a character device/.test(e.message));
  assert.ok(Date.now() - t0 < 2000);
}));
