// A short seeded slice of the fuzz campaign (`npm run fuzz` runs the long one): every input of
// every kind must end in a success or a typed error, within the time and memory limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, formatReport } from '../../fuzz/run.js';

test('fuzz slice: 120 mutated model directories, CSV and IDX files each, no untyped error, NaN, hang or crash', async () => {
  const r = await fuzz({ inputs: 120, kinds: ['model', 'csv', 'idx'], seed: 7001, batch: 120, jobs: 2, timeout: 20000, memory: 3072 });
  for (const [kind, v] of Object.entries(r)) {
    assert.equal(v.inputs, 120, kind);
    assert.equal(v.untyped + v.nonFinite + v.hangs + v.crashes, 0, formatReport(r));
    assert.ok(v.typed > 0 && v.success > 0, `${kind}: both outcomes occur`);
  }
});
