import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, inspectModel, formatDynamics, summarize } from '../../src/index.js';
import type { DynamicsReport, LayerDynamics } from '../../src/index.js';
import { INIT_EXPERIMENTS, runInitExperiment, experimentData } from '../../examples/init-experiment.js';
import { workedModel, x, y } from '../lecture/fixtures.js';

const run = (name: string): DynamicsReport => runInitExperiment(INIT_EXPERIMENTS.find((e) => e.name === name)!).report;
const hidden = (r: DynamicsReport): LayerDynamics[] => r.layers.filter((l) => l.name.startsWith('hl'));
const within = (v: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(v - want) <= rel * want, `${what}: ${v} not within ${100 * rel}% of ${want}`);

test('the experiment data: 100 standardised examples with two features', () => {
  const { x: xs } = experimentData();
  assert.deepEqual(xs.shape, [100, 2]);
  const col = (j: number) => Array.from({ length: 100 }, (_, i) => xs.data[2 * i + j]);
  for (const j of [0, 1]) {
    const s = summarize(col(j));
    assert.ok(Math.abs(s.mean) < 1e-6 && Math.abs(s.var - 1) < 1e-5, `column ${j}: mean ${s.mean} var ${s.var}`);
  }
});

test('N(0, 0.01²): var(z) shrinks layer by layer as eq 64–66 predict (≈ 0.0002, then ≈ 0.000002)', () => {
  const r = run('normal-0.01');
  const [hl1, hl2] = r.layers;
  assert.equal(hl1.nIn, 2);
  assert.equal(hl2.nIn, 100);
  // eq 65: 2 × 0.0001 × 1 = 0.0002; eq 66: 100 × 0.0001 × 0.0002 = 0.000002
  within(hl1.z!.var, 0.0002, 0.15, 'var(z) of HL1');
  within(hl2.z!.var, 0.000002, 0.3, 'var(z) of HL2');
  for (const l of hidden(r)) {
    within(l.weight!.var, 0.0001, 0.1, `var(W) of ${l.name}`);
    within(l.z!.var, l.predictedVarZ!, 0.3, `${l.name}: measured var(z) vs eq 64`);
  }
  for (let i = 1; i < 5; i++) assert.ok(r.layers[i].z!.var < r.layers[i - 1].z!.var / 50, `var(z) of ${r.layers[i].name} ≪ ${r.layers[i - 1].name}`);
  // linear neurons: a = z
  assert.equal(hl1.a.var, hl1.z!.var);
});

test('N(0, 0.2²): the δs explode going backwards', () => {
  const r = run('normal-0.2');
  const h = hidden(r);
  for (let i = 0; i < h.length - 1; i++) {
    assert.ok(h[i].delta!.var > 2 * h[i + 1].delta!.var, `var(δ) ${h[i].name} ${h[i].delta!.var} > 2 × ${h[i + 1].name} ${h[i + 1].delta!.var}`);
    within(h[i].delta!.var, h[i].predictedVarDelta!, 0.35, `${h[i].name}: var(δ) vs n_out·var(W)·var(δ_next)`);
  }
  assert.ok(h[0].delta!.var > 100 * h[4].delta!.var, `δ of HL1 ${h[0].delta!.var} vs HL5 ${h[4].delta!.var}`);
});

test('Xavier: var(z) and var(δ) stay level across the hidden layers', () => {
  const h = hidden(run('xavier'));
  const level = (vals: number[], what: string) => {
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    assert.ok(hi / lo < 1.6, `${what} not level: ${vals.join(', ')}`);
  };
  level(h.map((l) => l.z!.var), 'var(z)');
  level(h.map((l) => l.delta!.var), 'var(δ)');
  for (const l of h.slice(1)) within(l.z!.var, l.predictedVarZ!, 0.3, `${l.name}: var(z) vs eq 64`);
});

test('ReLU + He: var(z) and var(δ) stay level; eq 62 (with the mean of the ReLU outputs) predicts var(z)', () => {
  const h = hidden(run('relu-he'));
  const zs = h.map((l) => l.z!.var);
  const ds = h.map((l) => l.delta!.var);
  assert.ok(Math.max(...zs) / Math.min(...zs) < 1.6, `var(z) ${zs.join(', ')}`);
  assert.ok(Math.max(...ds) / Math.min(...ds) < 1.6, `var(δ) ${ds.join(', ')}`);
  for (const l of h.slice(1)) {
    within(l.z!.var, l.predictedVarZEq62!, 0.3, `${l.name}: var(z) vs eq 62`);
    assert.ok(l.predictedVarZ! < l.predictedVarZEq62!, 'eq 64 ignores E(d)² > 0 after ReLUs');
  }
  assert.ok(h.every((l) => l.a.mean > 0));
});

test('inspectModel JSON has the shape of `dendrite inspect --json`', () => {
  const r = inspectModel(workedModel(), x(), y());
  const j = JSON.parse(JSON.stringify(r));
  assert.equal(j.layers.length, 3);
  for (const l of j.layers) {
    assert.equal(typeof l.name, 'string');
    for (const k of ['mean', 'var']) assert.equal(typeof l.weight[k], 'number');
    for (const q of ['z', 'a', 'delta']) for (const k of ['mean', 'var', 'p5', 'p50', 'p95', 'min', 'max']) assert.equal(typeof l[q][k], 'number', `${l.name}.${q}.${k}`);
    assert.equal(typeof l.predictedVarZ, 'number');
  }
  assert.equal(j.examples, 4);
});

test('formatDynamics shows the eq 64 prediction next to the measured variance', () => {
  const s = formatDynamics(run('normal-0.01'));
  assert.match(s, /layer\s+act\s+n_in\s+var\(W\)\s+var\(in\)\s+eq 64 var\(z\)\s+eq 62 var\(z\)\s+var\(z\)/);
  assert.match(s, /hl1\s+linear\s+2\s+0\.000\d+\s+1\.000000\s+0\.0002\d+\s+0\.0002\d+\s+0\.0002\d+/);
  assert.match(s, /hl2\s+linear\s+100\s/);
});

test('inspecting without data is a ConfigError', () => {
  assert.throws(() => inspectModel(workedModel(), undefined as never, undefined as never), (e: Error) => e instanceof ConfigError && /needs data: pass the inputs x and the targets y \(CLI: --data FILE\.csv --target COL\)/.test(e.message));
});

test('maxRows limits the iteration to the first rows; a bad value is a ConfigError', () => {
  const { x: xs, y: ys } = experimentData();
  const model = runInitExperiment(INIT_EXPERIMENTS[2]).model;
  assert.equal(inspectModel(model, xs, ys, { maxRows: 10 }).examples, 10);
  assert.equal(inspectModel(model, xs, ys, { maxRows: 1000 }).examples, 100);
  assert.throws(() => inspectModel(model, xs, ys, { maxRows: 0 }), (e: Error) => e instanceof ConfigError && /inspect: maxRows must be an integer ≥ 1, received 0/.test(e.message));
});
