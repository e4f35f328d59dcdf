import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainGan } from '../../examples/gan-digits.js';

test('the GAN example runs: both networks update, losses are finite, a sample grid per snapshot', async () => {
  const { G, D, logs, grids } = await trainGan({ epochs: 2, limit: 128, batchSize: 32, snapshots: [2], quiet: true });
  assert.equal(logs.length, 2);
  assert.ok(logs.every((l) => Number.isFinite(l.d) && Number.isFinite(l.g)));
  assert.equal(grids.length, 1);
  assert.match(grids[0].svg, /after epoch 2/);
  assert.ok(G.parameters().every((p) => p.grad === null) && D.parameters().every((p) => p.grad === null), 'gradients cleared after each step');
  assert.ok(D.layers.every((l) => l.trainable), 'the discriminator is unfrozen after the generator steps');
});
