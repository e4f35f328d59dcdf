// Every kernel of the native backend against the reference (js) backend (test/helpers/
// backend-comparisons.ts). Where the native addon could not be built, this file checks instead
// that asking for it fails with a ConfigError that says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ShapeError, getBackend, setBackend } from '../../src/index.js';
import { loadNative } from '../../src/backend/native.js';
import { registerComparisons } from '../helpers/backend-comparisons.js';
import { registerTrainingComparisons } from '../helpers/training-kernel-comparisons.js';

const loaded = loadNative();

if ('error' in loaded) {
  test('native backend unavailable: setBackend("native") throws a ConfigError saying why', () => {
    const before = getBackend();
    assert.throws(() => setBackend('native'), (e: unknown) =>
      e instanceof ConfigError &&
      /backend 'native' is not available \(.+\); available backends: js/.test(e.message) &&
      e.message.includes(loaded.error));
    assert.equal(getBackend(), before);
  });
} else {
  registerComparisons(loaded.backend);
  registerTrainingComparisons(loaded.backend);

  test('native: permute and binary above rank 16 are ShapeErrors naming the kernel, the rank and the limit', () => {
    const be = loaded.backend;
    const shape = new Array<number>(17).fill(1);
    const axes = shape.map((_, i) => i);
    const one = (): Float32Array => new Float32Array(1);
    assert.throws(() => be.permute(one(), shape, axes, one()), (e: unknown) =>
      e instanceof ShapeError && e.message === 'permute: rank 17 exceeds the native limit of 16');
    assert.throws(() => be.binary('add', one(), shape, one(), shape, one(), shape), (e: unknown) =>
      e instanceof ShapeError && e.message === 'binary: rank 17 exceeds the native limit of 16');
  });
}
