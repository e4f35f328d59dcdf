import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW, Adam, SGD, WarmupCosine, StepDecay, ReduceLROnPlateau, scheduleFromSpec, Sequential, Dense, Model, tensor, sum, mul,
  parseSpec, buildModel, fitOptionsFromSpec, ConfigError, softmaxCrossEntropy,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

const isConfig = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);
const param = (v: number[], g: number[]): [string, Tensor][] => {
  const p = tensor(v, { requiresGrad: true });
  p.grad = tensor(g);
  return [['p', p]];
};

test('AdamW: decoupled decay w ← w·(1 − αλ) before the Adam step; Adam with the same λ couples it into the gradient', () => {
  const ps = param([2, -4], [0.5, 0]);
  const opt = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
  opt.step(ps);
  // decay: 2·(1 − 0.05) = 1.9, −4·0.95 = −3.8; Adam's first step moves by α·sign(g) (g ≠ 0): 1.9 − 0.1 = 1.8; g = 0 moves nothing
  const w = ps[0][1].toFlatArray();
  assert.ok(Math.abs(w[0] - 1.8) < 1e-6 && Math.abs(w[1] + 3.8) < 1e-6, `${w}`);
  assert.deepEqual(opt.config(), { type: 'adamw', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.5 });
  const coupled = param([2, -4], [0.5, 0]);
  new Adam({ learningRate: 0.1, weightDecay: 0.5 }).step(coupled);
  const c = coupled[0][1].toFlatArray();
  assert.ok(Math.abs(c[1] + 3.9) < 1e-6, 'coupled L2 goes through Adam\'s normalisation: a full α step');
  assert.equal(new AdamW().decoupledWeightDecay, 0.01);
  assert.throws(() => new AdamW({ weightDecay: -1 }), isConfig(/adamw.weightDecay must be a number ≥ 0, received -1/));
});

test('schedules: warm-up + cosine, step decay; the optimiser applies them per update and resumes by its update count', () => {
  const wc = new WarmupCosine({ warmupSteps: 2, decaySteps: 2 });
  assert.deepEqual([0, 1, 2, 3, 4, 9].map((t) => +wc.factor(t).toFixed(12)), [0.5, 1, 1, 0.5, 0, 0]);
  assert.equal(new WarmupCosine({ decaySteps: 4, minFactor: 0.2 }).factor(100), 0.2);
  const sd = new StepDecay({ every: 2, factor: 0.5 });
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((t) => sd.factor(t)), [1, 1, 0.5, 0.5, 0.25, 0.25]);
  const opt = new SGD({ learningRate: 1 });
  opt.schedule = sd;
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ps = param([0], [1]);
    opt.step(ps);
    seen.push(-ps[0][1].data[0]);
    assert.equal(opt.learningRate, seen[i]);
  }
  assert.deepEqual(seen, [1, 1, 0.5, 0.5, 0.25]);
  assert.deepEqual(scheduleFromSpec({ type: 'warmupCosine', warmupSteps: 10, decaySteps: 90 }).config(), { type: 'warmupCosine', warmupSteps: 10, decaySteps: 90, minFactor: 0 });
  assert.throws(() => scheduleFromSpec({ type: 'cosine' }), isConfig(/optimizer.schedule.type is "cosine"; known schedules: warmupCosine, stepDecay/));
  assert.throws(() => new StepDecay({ every: 0 }), isConfig(/stepDecay.every must be an integer ≥ 1/));
  assert.throws(() => new WarmupCosine({ decaySteps: 10, minFactor: 2 }), isConfig(/warmupCosine.minFactor must be a number in \[0, 1\], received 2/));
});

test('ReduceLROnPlateau lowers the rate after `patience` epochs without improvement and logs it', () => {
  const net = new Sequential([new Dense({ units: 1 })], { inputShape: [2] });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 1e-9 }) });
  const cb = new ReduceLROnPlateau({ monitor: 'loss', patience: 2, factor: 0.5, minLearningRate: 3e-10 });
  const h = model.fit(randT([8, 2], 1), randT([8, 1], 2), { epochs: 6, batchSize: 8, callbacks: [cb] });
  // a rate of 1e-9 barely moves the loss: epoch 1 sets the best, 2–3 plateau → ×0.5, 4–5 → clamp at 3e-10
  assert.deepEqual(h.epochs.map((e) => e.learningRate), [1e-9, 1e-9, 5e-10, 5e-10, 3e-10, 3e-10]);
  assert.equal(cb.reductions, 2);
  assert.throws(() => new ReduceLROnPlateau({ factor: 1 }), isConfig(/reduceLROnPlateau.factor must be in \(0, 1\), received 1/));
  assert.throws(() => new ReduceLROnPlateau({ patience: 2, pateince: 3 } as never), isConfig(/reduceLROnPlateau\.pateince: unknown key; did you mean "patience"\?/));
  assert.throws(() => model.fit(randT([8, 2], 1), randT([8, 1], 2), { epochs: 1, callbacks: [new ReduceLROnPlateau()] }), isConfig(/monitors "valLoss", which epoch \d+ did not report \(give fit\(\) validationData/));
});

test('AdamW, schedules and reduce-on-plateau from the spec', () => {
  const spec = parseSpec({
    input: [2], layers: [{ type: 'dense', units: 1 }], loss: 'mse',
    optimizer: { type: 'adamw', learningRate: 0.01, weightDecay: 0.1, schedule: { type: 'stepDecay', every: 3, factor: 0.5 } },
    train: { epochs: 2, reduceLROnPlateau: { patience: 1, monitor: 'loss' } },
  });
  const model = buildModel(spec);
  assert.ok(model.optimizer instanceof AdamW);
  assert.equal((model.optimizer as AdamW).decoupledWeightDecay, 0.1);
  assert.equal(model.optimizer.schedule!.type, 'stepDecay');
  const fit = fitOptionsFromSpec(spec);
  assert.ok(fit.callbacks!.some((c) => c instanceof ReduceLROnPlateau));
  model.fit(randT([6, 2], 3), randT([6, 1], 4), fit);
  assert.throws(() => buildModel(parseSpec({ ...spec, optimizer: { type: 'adam', learningRate: 0.1, schedule: { type: 'exp' } } })), isConfig(/known schedules/));
  assert.throws(() => fitOptionsFromSpec(parseSpec({ ...spec, train: { reduceLROnPlateau: 3 } })), isConfig(/train\.reduceLROnPlateau must be an object, received 3/));
});

test('custom training loop: loss, backward, optimizer.step(net), optimizer.zeroGrad(net)', () => {
  const net = new Sequential([new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 2 })], { inputShape: [3], seed: 2 });
  const opt = new AdamW({ learningRate: 0.05 });
  opt.schedule = new WarmupCosine({ warmupSteps: 5, decaySteps: 45 });
  const x = randT([16, 3], 5);
  const y = tensor(Array.from({ length: 16 }, (_, i) => (x.data[i * 3] > 0 ? [1, 0] : [0, 1])));
  const losses: number[] = [];
  for (let i = 0; i < 50; i++) {
    const loss = softmaxCrossEntropy(net.forward(x), y);
    losses.push(loss.item());
    loss.backward();
    opt.step(net);
    opt.zeroGrad(net);
    assert.ok(net.parameters().every((p) => p.grad === null));
  }
  assert.ok(losses[49] < 0.3 * losses[0], `${losses[0]} → ${losses[49]}`);
  assert.equal(opt.iterations, 50);
  // the named form is the same update
  const p = tensor([1], { requiresGrad: true });
  sum(mul(p, tensor([2]))).backward();
  new SGD({ learningRate: 0.5 }).step([['p', p]]);
  assert.deepEqual(p.toFlatArray(), [0]);
});
