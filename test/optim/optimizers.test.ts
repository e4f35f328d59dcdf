import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, ConfigError, Dense, Model, RMSProp, SGD, Sequential, buildOptimizer, parseSpec, tensor } from '../../src/index.js';
import type { Optimizer } from '../../src/index.js';
import { assertClose } from '../helpers/gradcheck.js';

/** One parameter w with gradient g set by hand; returns w after each of the steps. */
function run(opt: Optimizer, w0: number[], grads: number[][]): number[][] {
  const w = tensor(w0, { requiresGrad: true });
  const out: number[][] = [];
  for (const g of grads) {
    w.grad = tensor(g);
    opt.step([['w', w]]);
    out.push(w.toFlatArray());
  }
  return out;
}

test('Adam: bias-corrected moments, hand-computed for two steps', () => {
  const lr = 0.1;
  const [b1, b2, eps] = [0.9, 0.999, 1e-7];
  const g1 = [0.5, -2];
  const g2 = [0.1, 1];
  const ws = run(new Adam({ learningRate: lr }), [1, 1], [g1, g2]);
  // step 1: m̂ = g, v̂ = g² → w −= α·g/(|g| + ε) ≈ α·sign(g)
  assertClose(ws[0], [1 - lr * 0.5 / (0.5 + eps), 1 + lr * 2 / (2 + eps)], 1e-6, 'step 1');
  const expect = [0, 1].map((i) => {
    const m = b1 * (1 - b1) * g1[i] + (1 - b1) * g2[i];
    const v = b2 * (1 - b2) * g1[i] ** 2 + (1 - b2) * g2[i] ** 2;
    return ws[0][i] - (lr * (m / (1 - b1 ** 2))) / (Math.sqrt(v / (1 - b2 ** 2)) + eps);
  });
  assertClose(ws[1], expect, 1e-6, 'step 2');
});

test('RMSProp: plain, with momentum and centred, hand-computed', () => {
  const [lr, rho, eps] = [0.01, 0.9, 1e-7];
  const ws = run(new RMSProp({ learningRate: lr }), [1], [[2], [1]]);
  const s1 = (1 - rho) * 4;
  const s2 = rho * s1 + (1 - rho) * 1;
  assertClose(ws[0], [1 - (lr * 2) / Math.sqrt(s1 + eps)], 1e-6, 'step 1');
  assertClose(ws[1], [ws[0][0] - lr / Math.sqrt(s2 + eps)], 1e-6, 'step 2');
  const wm = run(new RMSProp({ learningRate: lr, momentum: 0.5 }), [1], [[2], [1]]);
  const u1 = (lr * 2) / Math.sqrt(s1 + eps);
  const u2 = 0.5 * u1 + lr / Math.sqrt(s2 + eps);
  assertClose(wm[1], [1 - u1 - u2], 1e-6, 'momentum');
  const wc = run(new RMSProp({ learningRate: lr, centered: true }), [1], [[2]]);
  const mg = (1 - rho) * 2;
  assertClose(wc[0], [1 - (lr * 2) / Math.sqrt(s1 - mg * mg + eps)], 1e-6, 'centred');
});

test('SGD with momentum and Nesterov, hand-computed', () => {
  const ws = run(new SGD({ learningRate: 0.1, momentum: 0.9 }), [1], [[1], [1]]);
  assertClose(ws.flat(), [0.9, 0.9 - 0.1 * 1.9], 1e-7, 'momentum');
  const wn = run(new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), [1], [[1], [1]]);
  assertClose(wn.flat(), [1 - 0.1 * 1.9, 1 - 0.1 * 1.9 - 0.1 * (1 + 0.9 * 1.9)], 1e-7, 'nesterov');
});

test('weight decay (L2) adds λ·w to the gradient for every optimiser', () => {
  // SGD: w ← w − α(g + λw)
  assertClose(run(new SGD({ learningRate: 0.1, weightDecay: 0.5 }), [2, -4], [[1, 0]])[0], [2 - 0.1 * (1 + 1), -4 - 0.1 * (0 - 2)], 1e-7, 'sgd');
  // with a zero gradient the weights shrink towards 0
  const w = run(new SGD({ learningRate: 0.1, weightDecay: 0.1 }), [1], [[0], [0], [0]]);
  assertClose(w.flat(), [0.99, 0.9801, 0.970299], 1e-7, 'decay alone');
  // Adam sees g + λw: step 1 with g = 0, λ = 1, w = 2 moves by −α·sign(w)
  assertClose(run(new Adam({ learningRate: 0.01, weightDecay: 1 }), [2], [[0]])[0], [1.99], 1e-6, 'adam');
  // in fit(): the same model with and without decay ends with smaller weights when decayed
  const fitNorm = (wd: number) => {
    const net = new Sequential([new Dense({ units: 1, name: 'o', kernelInitializer: 'ones' })], { inputShape: [2] });
    const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1, weightDecay: wd }) });
    model.fit(tensor([[1, 0], [0, 1]]), tensor([[3], [3]]), { epochs: 50, batchSize: 2, shuffle: false });
    return net.getWeights().o.weight.toFlatArray().reduce((s, v) => s + v * v, 0);
  };
  assert.ok(fitNorm(0.2) < fitNorm(0) - 0.5);
});

test('optimiser state is saved and restored exactly (checkpoints)', () => {
  const a = new Adam({ learningRate: 0.05 });
  run(a, [1, 2], [[0.3, -0.1], [0.2, 0.4]]);
  const b = new Adam({ learningRate: 0.05 });
  b.setState(a.getState());
  assert.equal(b.iterations, 2);
  const wa = run(a, [1, 2], [[0.1, 0.1]]);
  const wb = run(b, [1, 2], [[0.1, 0.1]]);
  assert.deepEqual(wa, wb);
});

test('Adam and RMSProp train a model and come from the spec', () => {
  for (const optimizer of [new Adam({ learningRate: 0.05 }), new RMSProp({ learningRate: 0.01 })]) {
    const net = new Sequential([new Dense({ units: 4, activation: 'tanh', name: 'h' }), new Dense({ units: 1, name: 'o' })], { inputShape: [1], seed: 2 });
    const model = new Model(net, { loss: 'mse', optimizer });
    const xs = tensor(Array.from({ length: 16 }, (_, i) => [i / 8 - 1]));
    const ys = tensor(Array.from({ length: 16 }, (_, i) => [Math.sin(i / 8 - 1)]));
    const h = model.fit(xs, ys, { epochs: 200, batchSize: 16 });
    assert.ok(h.epochs[h.epochs.length - 1].loss < 0.1 * h.epochs[0].loss, `${optimizer.type}: ${h.epochs[0].loss} → ${h.epochs[h.epochs.length - 1].loss}`);
  }
  const spec = (opt: object) => parseSpec({ input: [1], layers: [{ type: 'dense', units: 1 }], loss: 'mse', optimizer: opt });
  const adam = buildOptimizer(spec({ type: 'adam', learningRate: 0.002, beta2: 0.99 })) as Adam;
  assert.deepEqual(adam.config(), { type: 'adam', learningRate: 0.002, beta1: 0.9, beta2: 0.99, epsilon: 1e-7, weightDecay: 0 });
  const rms = buildOptimizer(spec({ type: 'rmsprop', learningRate: 0.001, rho: 0.95 })) as RMSProp;
  assert.equal(rms.rho, 0.95);
});

test('an Adam β outside [0, 1) and other bad optimiser options are ConfigErrors', () => {
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad(() => new Adam({ beta1: 1 }), /adam\.beta1 must be a number in \[0, 1\), received 1/);
  bad(() => new Adam({ beta1: -0.1 }), /adam\.beta1 must be a number in \[0, 1\), received -0\.1/);
  bad(() => new Adam({ beta2: 1.5 }), /adam\.beta2 must be a number in \[0, 1\), received 1\.5/);
  bad(() => new Adam({ beta2: Number.NaN }), /adam\.beta2 must be a number in \[0, 1\), received NaN/);
  bad(() => new Adam({ epsilon: 0 }), /adam\.epsilon must be a number > 0, received 0/);
  bad(() => new Adam({ learningRate: -1 }), /adam\.learningRate must be a number > 0, received -1/);
  bad(() => new RMSProp({ rho: 1 }), /rmsprop\.rho must be a number in \[0, 1\), received 1/);
  bad(() => new RMSProp({ momentum: 2 }), /rmsprop\.momentum must be a number in \[0, 1\), received 2/);
  bad(() => new RMSProp({ centered: 1 as unknown as boolean }), /rmsprop\.centered must be true or false/);
  bad(() => new SGD({ learningRate: 0.1, weightDecay: -1 }), /sgd\.weightDecay must be a number ≥ 0, received -1/);
  bad(() => buildOptimizer(parseSpec({ input: [1], layers: [{ type: 'dense', units: 1 }], loss: 'mse', optimizer: { type: 'adam', beta1: 1.2 } })),
    /optimizer\.beta1 must be a number in \[0, 1\), received 1\.2/);
  bad(() => new SGD({ learningRate: 0.1, momentun: 0.9 } as never), /sgd\.momentun: unknown key; did you mean "momentum"\?/);
  bad(() => new Adam({ beta_1: 0.9 } as never), /adam\.beta_1: unknown key; did you mean "beta1"\?/);
});
