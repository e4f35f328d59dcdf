// Every kernel of the native backend against the reference (js) backend (test/helpers/
// backend-comparisons.ts). Where the native addon could not be built, this file checks instead
// that asking for it fails with a ConfigError that says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, getBackend, setBackend } from '../../src/index.js';
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
}
