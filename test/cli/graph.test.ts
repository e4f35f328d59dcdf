import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WORKED, files, run, tmp } from './helpers.js';

test('the CLI trains, saves, traces and evaluates a graph spec (residual connection, AdamW with a schedule)', () => {
  const dir = tmp();
  const f = files(dir, {
    spec: JSON.stringify({
      inputs: [{ name: 'x', shape: [2] }],
      layers: [
        { type: 'dense', name: 'h', units: 4, activation: 'tanh', inbound: ['x'] },
        { type: 'dense', name: 'f', units: 4, activation: 'tanh', inbound: ['h'] },
        { type: 'add', name: 'skip', inbound: ['h', 'f'] },
        { type: 'dense', name: 'out', units: 1, activation: 'logistic', inbound: ['skip'] },
      ],
      outputs: ['out'], loss: 'sse',
      optimizer: { type: 'adamw', learningRate: 0.05, schedule: { type: 'stepDecay', every: 100, factor: 0.5 } },
      train: { batchSize: 4, epochs: 200, shuffle: false, seed: 1 },
    }),
  });
  const out = join(dir, 'model');
  const data = ['--data', WORKED.data, '--target', 'electrical_output'];
  const tr = run(['train', f.spec, ...data, '--out', out, '--json']);
  assert.equal(tr.status, 0, tr.stderr);
  const tc = run(['trace', out, ...data]);
  assert.equal(tc.status, 0, tc.stderr);
  assert.match(tc.stdout, /layer skip \(add\)/);
  const ev = run(['evaluate', out, ...data, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  assert.ok(JSON.parse(ev.stdout).loss < 0.01, ev.stdout);
  const bad = files(dir, { cyc: JSON.stringify({ inputs: [{ name: 'x', shape: [2] }], layers: [{ type: 'dense', name: 'a', units: 2, inbound: ['a'] }], outputs: ['a'], loss: 'sse', optimizer: { type: 'sgd', learningRate: 0.1 } }) });
  const r = run(['train', bad.cyc, ...data]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ConfigError: .*the graph has a cycle: a → a/);
});
