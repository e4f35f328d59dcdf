// The lecture's LSTM numbers (eq 114–115 and eq 138–144), with the misprints corrected as
// shared/spec/LECTURE-NOTES.md says. Float32 storage limits agreement to ~1e-7 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, lstm, lstmCellStep, sum, mul, add, LSTM, Sequential } from '../../src/index.js';
import type { LstmWeights, Tensor } from '../../src/index.js';
import { assertClose } from '../helpers/gradcheck.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

test('eq 114–115: the forget gate of the worked example gives f = [0.997527377, 0.002472623, 0.5] and c†', () => {
  // W(f) of eq 114 has columns [bias, h1, h2, x]. The cell has 3 units, so h_{t−1} needs 3 elements
  // (LECTURE-NOTES.md); h = [1, 1, 0] with a zero third column keeps the printed arithmetic z = [6, −6, 0].
  const Wf = tensor([[1, 1, 0, 1], [-1, -1, 0, -1], [0, 0, 0, 0]]);
  const zero3 = tensor([0, 0, 0]);
  const w: LstmWeights = {
    Wf, Wi: tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), Wc: tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    Wo: tensor([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), bf: zero3, bi: zero3, bc: zero3, bo: zero3,
  };
  const x = tensor([[4]]);
  const h = tensor([[1, 1, 0]]);
  const c = tensor([[1, 1, 1]]);
  const s = lstmCellStep(x, h, c, w);
  assertClose(s.zf.data, [6, -6, 0], 1e-6, 'z(f)');
  // float32 holds these to one unit in the last place (6e-8 near 1)
  assertClose(s.f.data, [0.997527377, 0.002472623, 0.5], 6e-8, 'f_t');
  assertClose(s.cDagger.data, [0.997527377, 0.002472623, 0.5], 6e-8, 'c†_t');
  // the fused op computes the same gate, in its trace (gate order f, i†, i‡, o†)
  const r = lstm(tensor([[[4]]]), w, { h0: h, c0: c, keepTrace: true });
  assertClose(r.trace!.gates!.data.subarray(0, 3), [0.997527377, 0.002472623, 0.5], 6e-8, 'fused f_t');
});

/**
 * Figure 42's weights are not in the text; these reproduce every activation the backward
 * example uses: f_t(1 − f_t) = [0.248743973, 0.249694] (z_f = [0.142, 0.07]),
 * o† = [0.575420058, 0.52098661] and 1 − tanh²(c_t) = [0.999184559, 0.997048635], with
 * c_{t−1} = [0.3, 0.6], h = [0.1, 0.8], x = [0.9]. The weights on h and x are arbitrary; each
 * bias is chosen so the weighted sum is the one the printed activation needs.
 */
function figure42(): { w: LstmWeights; h: Tensor; c: Tensor; x: Tensor } {
  const hx = [0.1, 0.8, 0.9];
  const rows: Record<string, number[][]> = {
    f: [[0.1, -0.2, 0.3], [0.25, 0.15, -0.05]],
    i: [[0.2, 0.1, -0.1], [-0.3, 0.2, 0.1]],
    c: [[-0.1, 0.3, 0.2], [0.05, -0.2, 0.4]],
    o: [[0.3, 0.1, -0.2], [0.1, 0.05, 0.15]],
  };
  const dot = (r: number[]) => r.reduce((s, v, j) => s + v * hx[j], 0);
  const zf = [0.142, 0.07];
  const zi = [0.2, -0.1];
  const zo = [logit(0.575420058), logit(0.52098661)];
  const cPrev = [0.3, 0.6];
  const tanhC = [Math.sqrt(1 - 0.999184559), Math.sqrt(1 - 0.997048635)];
  const cT = tanhC.map(Math.atanh);
  const zc = cT.map((ct, u) => Math.atanh((ct - sigmoid(zf[u]) * cPrev[u]) / sigmoid(zi[u])));
  const bias = (g: string, z: number[]) => tensor(z.map((v, u) => v - dot(rows[g][u])));
  return {
    w: {
      Wf: tensor(rows.f), Wi: tensor(rows.i), Wc: tensor(rows.c), Wo: tensor(rows.o),
      bf: bias('f', zf), bi: bias('i', zi), bc: bias('c', zc), bo: bias('o', zo),
    },
    h: tensor([[0.1, 0.8]]), c: tensor([cPrev]), x: tensor([[0.9]]),
  };
}

// ∂E_t/∂o_t, ∂E_{t+1}/∂h_t and ∂E_{t+1}/∂c_t of the example
const dEt_do = tensor([[0.15, 0.60]]);
const dEt1_dh = tensor([[0.75, 0.25]]);
const dEt1_dc = tensor([[0.35, 0.50]]);

// eq 138–144; second components corrected for eq 139's misprint (0.4428386185, not 0.442839512)
// and carried through 140–144
const EQ138 = [0.9, 0.85];
const EQ139 = [0.517878052, 0.4428386185];
const EQ140 = [0.517455753, 0.44153164];
const EQ141 = [0.867455753, 0.94153164];
const EQ142 = [0.260236726, 0.564918984];
const EQ143 = [0.064732317, 0.141056881];
const EQ144 = [
  [0.064732317, 0.006473232, 0.051785854, 0.058259085],
  [0.141056881, 0.014105688, 0.112845505, 0.126951193],
];

test('eq 138–144: the LSTM backward pass traced step by step through the cell', () => {
  const { w, h, c, x } = figure42();
  for (const p of Object.values(w)) p.requiresGrad = true;
  const s = lstmCellStep(x, h, c, w);
  for (const t of [s.h, s.oDDagger, s.c, s.f, s.zf]) t.retainGrad();
  // the activations the example reads
  assertClose(s.oDagger.data, [0.575420058, 0.52098661], 6e-8, 'o†');
  assertClose(Array.from(s.f.data, (f) => f * (1 - f)), [0.248743973, 0.249694], 6e-8, 'f(1 − f)');
  assertClose(Array.from(s.c.data, (v) => 1 - Math.tanh(v) ** 2), [0.999184559, 0.997048635], 6e-8, '1 − tanh²(c_t)');
  // o_t forks into the output layer and the next step: both gradients arrive and are summed (eq 124)
  const loss = add(add(sum(mul(s.h, dEt_do)), sum(mul(s.h, dEt1_dh))), sum(mul(s.c, dEt1_dc)));
  loss.backward();
  assertClose(s.h.grad!.data, EQ138, 1e-7, 'eq 138 ∂E/∂o_t');
  assertClose(s.oDDagger.grad!.data, EQ139, 5e-7, 'eq 139 ∂E/∂o‡_t');
  const deltaOdd = Array.from(s.oDDagger.grad!.data, (g, u) => g * (1 - s.oDDagger.data[u] ** 2));
  assertClose(deltaOdd, EQ140, 5e-7, 'eq 140 δ_o‡');
  assertClose(s.c.grad!.data, EQ141, 5e-7, 'eq 141 ∂E/∂c_t');
  assertClose(s.f.grad!.data, EQ142, 5e-7, 'eq 142 ∂E/∂f');
  assertClose(s.zf.grad!.data, EQ143, 2e-7, 'eq 143 δ_f');
  // eq 144: ΔW(f) = δ_f · [1, h, x]ᵀ — column 0 (the bias input 1) is our bf, the rest Wf
  assertClose(w.bf.grad!.data, EQ144.map((r) => r[0]), 2e-7, 'eq 144 ΔW(f), bias column');
  assertClose(w.Wf.grad!.data, EQ144.flatMap((r) => r.slice(1)), 2e-7, 'eq 144 ΔW(f)');
});

test('eq 138–144 through the fused LSTM op: δ per step in the trace and ∂W(f) agree with the traced cell', () => {
  const { w, h, c, x } = figure42();
  for (const p of Object.values(w)) p.requiresGrad = true;
  const r = lstm(tensor([[[0.9]]]), w, { h0: h, c0: c, keepTrace: true });
  // ∂E/∂h_t = ∂E_t/∂o_t + ∂E_{t+1}/∂h_t at the output; ∂E_{t+1}/∂c_t at the carried cell state
  add(sum(mul(r.output, tensor([[[0.9, 0.85]]]))), sum(mul(r.cT!, dEt1_dc))).backward();
  const delta = r.trace!.z.grad!.data; // [1, 1, 4H]: δ_f, δ_i†, δ_i‡, δ_o†
  assertClose(delta.subarray(0, 2), EQ143, 2e-7, 'δ_f');
  assertClose(w.Wf.grad!.data, EQ144.flatMap((row) => row.slice(1)), 2e-7, 'ΔW(f)');
  assertClose(w.bf.grad!.data, EQ144.map((row) => row[0]), 2e-7, 'Δb(f)');
  // the other gates agree with the cell built from elementary ops
  const w2 = figure42().w;
  for (const p of Object.values(w2)) p.requiresGrad = true;
  const s = lstmCellStep(x, h, c, w2);
  add(sum(mul(s.h, tensor([[0.9, 0.85]]))), sum(mul(s.c, dEt1_dc))).backward();
  for (const k of ['Wi', 'Wc', 'Wo', 'bi', 'bc', 'bo'] as const) assertClose(w[k].grad!.data, w2[k].grad!.data, 1e-7, k);
});

test('an LSTM layer records per-step h, c and gates while tracing, and δ per step after backward', () => {
  const net = new Sequential([new LSTM({ units: 2, returnSequences: true, name: 'cell' })], { inputShape: [3, 1], seed: 3 });
  net.setTracing(true);
  const out = net.forward(tensor([[[0.9], [0.1], [-0.4]]]));
  sum(out).backward();
  const rec = net.layers[0].record!;
  assert.deepEqual(rec.extra!.h.shape, [1, 3, 2]);
  assert.deepEqual(rec.extra!.c.shape, [1, 3, 2]);
  assert.deepEqual(rec.extra!.gates.shape, [1, 3, 8]);
  assert.deepEqual(rec.z!.grad!.shape, [1, 3, 8]);
  // h_t = o† ⊙ tanh(c_t) at every step
  const g = rec.extra!.gates.data;
  const cs = rec.extra!.c.data;
  for (let t = 0; t < 3; t++) {
    for (let u = 0; u < 2; u++) {
      assert.ok(Math.abs(out.data[t * 2 + u] - g[t * 8 + 6 + u] * Math.tanh(cs[t * 2 + u])) < 1e-6);
    }
  }
});
