import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slidingWindows, timeChunks, CharVocabulary, textWindows, stackSequences, padSequences, tensor, zeros, ShapeError, DataError, ConfigError } from '../../src/index.js';

test('slidingWindows: next value and next sequence targets, strides, horizons, several features', () => {
  const a = slidingWindows([1, 2, 3, 4, 5], 3);
  assert.deepEqual(a.x.toArray(), [[[1], [2], [3]], [[2], [3], [4]]]);
  assert.deepEqual(a.y.toArray(), [[4], [5]]);
  const s = slidingWindows([1, 2, 3, 4, 5], 3, { targets: 'sequence' });
  assert.deepEqual(s.y.toArray(), [[[2], [3], [4]], [[3], [4], [5]]]);
  const h = slidingWindows(new Float32Array([1, 2, 3, 4, 5, 6, 7]), 2, { horizon: 2, stride: 2 });
  assert.deepEqual(h.x.toArray(), [[[1], [2]], [[3], [4]]]);
  assert.deepEqual(h.y.toArray(), [[4], [6]]);
  // [L, features] series; targets from one feature
  const series = tensor([[1, 10], [2, 20], [3, 30], [4, 40]]);
  const m = slidingWindows(series, 2, { targetFeatures: [1] });
  assert.deepEqual(m.x.shape, [2, 2, 2]);
  assert.deepEqual(m.x.toArray(), [[[1, 10], [2, 20]], [[2, 20], [3, 30]]]);
  assert.deepEqual(m.y.toArray(), [[30], [40]]);
  const rows = slidingWindows([[1, 10], [2, 20], [3, 30]], 2, { targets: 'sequence' });
  assert.deepEqual(rows.y.toArray(), [[[2, 20], [3, 30]]]);
});

test('slidingWindows errors: too short a series (ShapeError), bad options (ConfigError)', () => {
  assert.throws(() => slidingWindows([1, 2, 3], 3), (e: unknown) => e instanceof ShapeError && /a series of 3 steps is too short for windows of 3 steps with a horizon of 1 \(needs at least 4\)/.test(e.message));
  assert.throws(() => slidingWindows([1, 2, 3], 0), (e: unknown) => e instanceof ConfigError && /window must be an integer ≥ 1, received 0/.test(e.message));
  assert.throws(() => slidingWindows([1, 2, 3], 1, { stride: 1.5 }), (e: unknown) => e instanceof ConfigError && /stride must be an integer ≥ 1/.test(e.message));
  assert.throws(() => slidingWindows([1, 2, 3], 1, { targets: 'last' as never }), (e: unknown) => e instanceof ConfigError && /targets must be "next" or "sequence"/.test(e.message));
  assert.throws(() => slidingWindows([1, 2, 3], 1, { targetFeatures: [1] }), (e: unknown) => e instanceof ConfigError && /targetFeatures holds 1, but the series has 1 features/.test(e.message));
  assert.throws(() => slidingWindows([[1, 2], [3]], 1), (e: unknown) => e instanceof ShapeError && /step 1 has 1 features, step 0 has 2/.test(e.message));
});

test('timeChunks: subsequences for truncated BPTT; length < 1 is a ConfigError', () => {
  const x = tensor(Array.from({ length: 2 * 5 * 1 }, (_, i) => i), { shape: [2, 5, 1] });
  const chunks = timeChunks(x, 2);
  assert.deepEqual(chunks.map((c) => c.shape), [[2, 2, 1], [2, 2, 1], [2, 1, 1]]);
  assert.deepEqual(chunks[1].toArray(), [[[2], [3]], [[7], [8]]]);
  assert.deepEqual(chunks[2].toArray(), [[[4]], [[9]]]);
  assert.deepEqual(timeChunks(zeros([4, 50, 3]), 20).map((c) => c.shape[1]), [20, 20, 10]);
  assert.throws(() => timeChunks(x, 0), (e: unknown) => e instanceof ConfigError && /truncation length must be an integer ≥ 1, received 0/.test(e.message));
});

test('CharVocabulary: build, encode, one-hot [T, V], index batches, decode, JSON', () => {
  const v = CharVocabulary.fromText('hello');
  assert.deepEqual(v.chars, ['e', 'h', 'l', 'o']);
  assert.deepEqual(Array.from(v.encode('hole')), [1, 3, 2, 0]);
  assert.equal(v.decode(v.encode('hello')), 'hello');
  assert.deepEqual(v.oneHot('he').toArray(), [[0, 1, 0, 0], [1, 0, 0, 0]]);
  assert.deepEqual(v.oneHot([3]).toArray(), [[0, 0, 0, 1]]);
  assert.deepEqual(v.oneHot(tensor([[0, 1], [2, 3]])).shape, [2, 2, 4]);
  const b = v.indexBatch(['he', 'lo']);
  assert.deepEqual(b.toArray(), [[1, 0], [2, 3]]);
  assert.equal(v.decode(b), 'helo');
  // code points, not UTF-16 units
  const u = CharVocabulary.fromText('né😀n');
  assert.equal(u.size, 3);
  assert.equal(u.decode(u.encode('😀né')), '😀né');
  assert.equal(CharVocabulary.fromText('ab', { extra: '\0' }).encode('\0')[0], 0);
  assert.deepEqual(CharVocabulary.fromJSON(JSON.parse(JSON.stringify(v))).chars, v.chars);
  assert.throws(() => new CharVocabulary(['a', 'a']), (e: unknown) => e instanceof ConfigError && /character "a" appears twice/.test(e.message));
  assert.throws(() => new CharVocabulary(['ab']), (e: unknown) => e instanceof ConfigError && /entry 0 must be one character/.test(e.message));
});

test('CharVocabulary errors: an index beyond the vocabulary or an unknown character is a DataError', () => {
  const v = CharVocabulary.fromText('abc');
  assert.throws(() => v.decode([0, 3]), (e: unknown) => e instanceof DataError && e.message === 'index 3 at position 1 is beyond the vocabulary of 3 characters (indices 0–2)');
  assert.throws(() => v.oneHot([1, -1]), (e: unknown) => e instanceof DataError && /index -1 at position 1 is beyond the vocabulary of 3 characters/.test(e.message));
  assert.throws(() => v.oneHot(tensor([0.5])), (e: unknown) => e instanceof DataError && /index 0\.5 at position 0 is beyond the vocabulary/.test(e.message));
  assert.throws(() => v.encode('abz'), (e: unknown) => e instanceof DataError && /character "z" \(U\+007A\) at position 2 is not in the vocabulary of 3 characters/.test(e.message));
  assert.throws(() => v.indexBatch(['ab', 'abc']), (e: unknown) => e instanceof ShapeError && /sequence 1 has 3 steps but sequence 0 has 2/.test(e.message));
});

test('textWindows: index windows and next-character targets for a language model', () => {
  const v = CharVocabulary.fromText('abcdefg');
  const { x, y } = textWindows(v.encode('abcdefg'), 3);
  assert.deepEqual(x.toArray(), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(y.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(textWindows(v.encode('abcdefg'), 3, 1).x.shape, [4, 3]);
  assert.deepEqual(v.oneHot(y).shape, [2, 3, 7]);
  assert.throws(() => textWindows(v.encode('abc'), 3), (e: unknown) => e instanceof ShapeError && /a text of 3 characters is too short for windows of 3/.test(e.message));
});

test('padSequences: padding with a mask [N, T], pre/post, truncation, values', () => {
  const p = padSequences([[1, 2, 3], [4]]);
  assert.deepEqual(p.x.toArray(), [[1, 2, 3], [4, 0, 0]]);
  assert.deepEqual(p.mask.toArray(), [[1, 1, 1], [1, 0, 0]]);
  assert.ok(p.mask.data instanceof Float32Array);
  assert.deepEqual(Array.from(p.lengths), [3, 1]);
  const pre = padSequences([[1, 2, 3], [4]], { padding: 'pre', value: -1 });
  assert.deepEqual(pre.x.toArray(), [[1, 2, 3], [-1, -1, 4]]);
  assert.deepEqual(pre.mask.toArray(), [[1, 1, 1], [0, 0, 1]]);
  const cut = padSequences([[1, 2, 3, 4], [5]], { maxLength: 2, truncating: 'pre' });
  assert.deepEqual(cut.x.toArray(), [[3, 4], [5, 0]]);
  assert.deepEqual(Array.from(cut.lengths), [2, 1]);
  const rows = padSequences([[[1, 10], [2, 20]], [[3, 30]], []]);
  assert.deepEqual(rows.x.shape, [3, 2, 2]);
  assert.deepEqual(rows.x.toArray(), [[[1, 10], [2, 20]], [[3, 30], [0, 0]], [[0, 0], [0, 0]]]);
  assert.deepEqual(rows.mask.toArray(), [[1, 1], [1, 0], [0, 0]]);
  const tens = padSequences([tensor([[1], [2]]), tensor([[3]])]);
  assert.deepEqual(tens.x.shape, [2, 2, 1]);
  assert.throws(() => padSequences([[1]], { padding: 'middle' as never }), (e: unknown) => e instanceof ConfigError && /padding must be "post" or "pre"/.test(e.message));
  assert.throws(() => padSequences([[1]], { maxLength: 0 }), (e: unknown) => e instanceof ConfigError && /maxLength must be an integer ≥ 1/.test(e.message));
});

test('stackSequences: equal lengths stack; inconsistent lengths without padding/mask are a ShapeError', () => {
  const s = stackSequences([[1, 2], [3, 4]]);
  assert.deepEqual(s.x.toArray(), [[1, 2], [3, 4]]);
  assert.deepEqual(s.mask.toArray(), [[1, 1], [1, 1]]);
  assert.throws(
    () => stackSequences([[1, 2, 3], [4, 5]]),
    (e: unknown) => e instanceof ShapeError && /sequences of inconsistent length without a mask: sequence 0 has 3 steps, sequence 1 has 2; pad them with a mask/.test(e.message),
  );
  assert.deepEqual(stackSequences([[1, 2, 3], [4, 5]], { pad: true }).mask.toArray(), [[1, 1, 1], [1, 1, 0]]);
  assert.throws(() => stackSequences([[[1, 2]], [[1, 2, 3]]]), (e: unknown) => e instanceof ShapeError && /sequence 1 has 3 features per step but sequence 0 has 2 features per step/.test(e.message));
  assert.throws(() => stackSequences([[1], [[1]]]), (e: unknown) => e instanceof ShapeError && /sequence 1 has 1 features per step but sequence 0 has one value per step/.test(e.message));
  assert.throws(() => stackSequences([]), (e: unknown) => e instanceof ShapeError && /a batch needs at least one sequence/.test(e.message));
});
