// Forward values and every gradient against PyTorch (fixtures written by
// scripts/fixtures/torch_attention.py: float64 references from float32 inputs; loss Σ y ⊙ r).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Tensor, Rng, layerNorm, matmul, mul, sum, MultiHeadAttention, TransformerEncoderBlock,
} from '../../src/index.js';
import type { Layer } from '../../src/index.js';

interface Entry { shape: number[]; data: number[] }
type Fixture = Record<string, unknown>;

function load(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/attention/${name}.json`, import.meta.url), 'utf8')) as Fixture;
}

function t(e: unknown, requiresGrad = false): Tensor {
  const { shape, data } = e as Entry;
  return new Tensor(Float32Array.from(data), shape, requiresGrad);
}

/** |actual − expected| ≤ tol · (1 + |expected|) elementwise, optionally only where `use(i)`. */
function close(actual: ArrayLike<number>, e: unknown, tol: number, what: string, use?: (i: number) => boolean): void {
  const exp = (e as Entry).data;
  assert.equal(actual.length, exp.length, `${what}: length`);
  for (let i = 0; i < exp.length; i++) {
    if (use && !use(i)) continue;
    assert.ok(Math.abs(actual[i] - exp[i]) <= tol * (1 + Math.abs(exp[i])), `${what}[${i}]: ${actual[i]} vs PyTorch ${exp[i]}`);
  }
}

function backwardWith(y: Tensor, r: unknown): void {
  sum(mul(y, t(r))).backward();
}

function built<L extends Layer>(layer: L, shape: number[]): L {
  layer.name = 'l';
  layer.build(shape, { rng: new Rng(1), runtimeRng: new Rng(2) });
  return layer;
}

function setParam(layer: Layer, key: string, data: ArrayLike<number>): void {
  const p = layer.ownParameters().get(key);
  assert.ok(p, `parameter ${key}`);
  assert.equal(p.size, data.length, `${key} size`);
  p.data.set(data);
}

function grad(layer: Layer, key: string): Float32Array {
  const g = layer.ownParameters().get(key)?.grad;
  assert.ok(g, `gradient of ${key}`);
  return g.data;
}

/** Sets q/k/v/output projections from PyTorch's stacked in_proj and out_proj. */
function setAttention(layer: Layer, prefix: string, inW: number[], inB: number[], outW: number[], outB: number[], E: number): void {
  ['query', 'key', 'value'].forEach((k, i) => {
    setParam(layer, `${prefix}${k}Weight`, inW.slice(i * E * E, (i + 1) * E * E));
    setParam(layer, `${prefix}${k}Bias`, inB.slice(i * E, (i + 1) * E));
  });
  setParam(layer, `${prefix}outputWeight`, outW);
  setParam(layer, `${prefix}outputBias`, outB);
}

function attentionGrads(layer: Layer, prefix: string): { inW: number[]; inB: number[]; outW: Float32Array; outB: Float32Array } {
  const inW: number[] = [];
  const inB: number[] = [];
  for (const k of ['query', 'key', 'value']) {
    inW.push(...grad(layer, `${prefix}${k}Weight`));
    inB.push(...grad(layer, `${prefix}${k}Bias`));
  }
  return { inW, inB, outW: grad(layer, `${prefix}outputWeight`), outB: grad(layer, `${prefix}outputBias`) };
}

test('LayerNorm matches torch.nn.LayerNorm: forward and the gradients of x, weight and bias', () => {
  const f = load('layernorm');
  const x = t(f.x, true);
  const w = t(f.weight, true);
  const b = t(f.bias, true);
  const y = layerNorm(x, w, b, f.eps as number);
  close(y.data, f.y, 1e-5, 'y');
  backwardWith(y, f.r);
  close(x.grad!.data, f.grad_x, 1e-5, 'grad x');
  close(w.grad!.data, f.grad_weight, 1e-5, 'grad weight');
  close(b.grad!.data, f.grad_bias, 1e-5, 'grad bias');
});

test('batched matmul matches torch.matmul with broadcasting: forward and both gradients', () => {
  for (const [i, c] of (load('matmul').cases as Fixture[]).entries()) {
    const a = t(c.a, true);
    const b = t(c.b, true);
    const y = matmul(a, b);
    assert.deepEqual(y.shape, (c.y as Entry).shape);
    close(y.data, c.y, 1e-5, `case ${i} y`);
    backwardWith(y, c.r);
    close(a.grad!.data, c.grad_a, 1e-5, `case ${i} grad a`);
    close(b.grad!.data, c.grad_b, 1e-5, `case ${i} grad b`);
  }
});

test('MultiHeadAttention matches torch.nn.MultiheadAttention with and without causal and padding masks', () => {
  for (const c of load('mha').cases as Fixture[]) {
    const x = t(c.x, true);
    const [B, T, E] = x.shape;
    const layer = built(new MultiHeadAttention({ numHeads: c.numHeads as number }), [T, E]);
    setAttention(layer, '', (c.in_proj_weight as Entry).data, (c.in_proj_bias as Entry).data,
      (c.out_proj_weight as Entry).data, (c.out_proj_bias as Entry).data, E);
    const keep = t(c.keep);
    const padded = keep.data.some((v) => v === 0);
    const r = layer.attend(x, x, x, { causal: c.causal as boolean, keyMask: padded ? keep : null, returnWeights: true });
    const real = (i: number) => keep.data[Math.floor(i / E)] === 1; // outputs at real query positions
    close(r.output.data, c.y, 1e-5, `${c.name} y`, real);
    assert.deepEqual(r.weights!.shape, [B, c.numHeads, T, T]);
    close(r.weights!.data, c.weights, 1e-5, `${c.name} attention weights`);
    backwardWith(r.output, c.r);
    close(x.grad!.data, c.grad_x, 1e-4, `${c.name} grad x`);
    const g = attentionGrads(layer, '');
    close(g.inW, c.grad_in_proj_weight, 1e-4, `${c.name} grad in_proj_weight`);
    close(g.inB, c.grad_in_proj_bias, 1e-4, `${c.name} grad in_proj_bias`);
    close(g.outW, c.grad_out_proj_weight, 1e-4, `${c.name} grad out_proj.weight`);
    close(g.outB, c.grad_out_proj_bias, 1e-4, `${c.name} grad out_proj.bias`);
  }
});

test('TransformerEncoderBlock matches torch.nn.TransformerEncoderLayer (relu/gelu, post/pre-norm, causal)', () => {
  const names: [string, string][] = [
    ['linear1.weight', 'ff1.weight'], ['linear1.bias', 'ff1.bias'], ['linear2.weight', 'ff2.weight'], ['linear2.bias', 'ff2.bias'],
    ['norm1.weight', 'norm1.gamma'], ['norm1.bias', 'norm1.beta'], ['norm2.weight', 'norm2.gamma'], ['norm2.bias', 'norm2.beta'],
  ];
  for (const c of load('encoder').cases as Fixture[]) {
    const what = `${c.activation} normFirst=${c.normFirst} causal=${c.causal}`;
    const x = t(c.x, true);
    const [, T, E] = x.shape;
    const block = built(new TransformerEncoderBlock({
      numHeads: c.numHeads as number, ffDim: c.ffDim as number, activation: c.activation as 'relu' | 'gelu',
      normFirst: c.normFirst as boolean, causal: c.causal as boolean,
    }), [T, E]);
    const p = c.params as Record<string, Entry>;
    setAttention(block, 'attention.', p['self_attn.in_proj_weight'].data, p['self_attn.in_proj_bias'].data,
      p['self_attn.out_proj.weight'].data, p['self_attn.out_proj.bias'].data, E);
    for (const [tn, dn] of names) setParam(block, dn, p[tn].data);
    const y = block.forward(x);
    close(y.data, c.y, 1e-5, `${what} y`);
    backwardWith(y, c.r);
    close(x.grad!.data, c.grad_x, 1e-4, `${what} grad x`);
    const g = c.grads as Record<string, Entry>;
    const ag = attentionGrads(block, 'attention.');
    close(ag.inW, g['self_attn.in_proj_weight'], 1e-4, `${what} grad in_proj_weight`);
    close(ag.inB, g['self_attn.in_proj_bias'], 1e-4, `${what} grad in_proj_bias`);
    close(ag.outW, g['self_attn.out_proj.weight'], 1e-4, `${what} grad out_proj.weight`);
    close(ag.outB, g['self_attn.out_proj.bias'], 1e-4, `${what} grad out_proj.bias`);
    for (const [tn, dn] of names) close(grad(block, dn), g[tn], 1e-4, `${what} grad ${tn}`);
  }
});
