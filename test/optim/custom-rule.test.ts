// An optimiser with a rule of its own (rule() gives null): step() applies its update() parameter by
// parameter, returns Σg², stops at a non-finite gradient before applying it, and fit trains with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, Model, Optimizer, Sequential, getBackend, mul, sum, tensor } from '../../src/index.js';
import type { ParamState } from '../../src/index.js';

/** Gradient descent whose step shrinks as 1/√t. */
class DecayingSGD extends Optimizer {
  readonly type = 'decayingSgd';
  constructor(learningRate: number) {
    super(learningRate);
  }
  protected rule(): null {
    return null;
  }
  protected initState(): ParamState {
    return {};
  }
  protected override update(w: Float32Array, g: Float32Array, _s: ParamState, t: number): void {
    getBackend().axpy(w.length, -this.learningRate / Math.sqrt(t), g, w, w);
  }
  config(): Record<string, unknown> {
    return { type: this.type, learningRate: this.learningRate };
  }
}

test('a rule of its own: w ← w − α/√t·g by hand, Σg² returned', () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const c = tensor([3, -4]);
  const opt = new DecayingSGD(0.5);
  sum(mul(w, c)).backward(); // ∂/∂w = c
  assert.equal(opt.step([['w', w]]), 25);
  assert.deepEqual(Array.from(w.data), [1 - 1.5, 2 + 2]);
  opt.zeroGrad([['w', w]]);
  sum(mul(w, c)).backward();
  opt.step([['w', w]]);
  const s = 0.5 / Math.SQRT2;
  assert.deepEqual(Array.from(w.data), [Math.fround(Math.fround(-0.5) - Math.fround(s * 3)), Math.fround(4 + Math.fround(s * 4))]);
});

test('a rule of its own stops at a non-finite gradient before applying it', () => {
  const a = tensor([1, 1], { requiresGrad: true });
  const b = tensor([1, 1], { requiresGrad: true });
  a.grad = tensor([1, 1]);
  b.grad = tensor([NaN, 1]);
  const opt = new DecayingSGD(0.1);
  assert.ok(Number.isNaN(opt.step([['a', a], ['b', b]])));
  assert.deepEqual(Array.from(b.data), [1, 1], 'b untouched');
});

test('fit trains with a rule of its own', () => {
  const net = new Sequential([new Dense({ units: 1 })], { inputShape: [2], seed: 3 });
  const model = new Model(net, { loss: 'mse', optimizer: new DecayingSGD(0.1), seed: 3 });
  const x = tensor([[0, 1], [1, 0], [1, 1], [0, 0]]);
  const y = tensor([[1], [2], [3], [0]]);
  const h = model.fit(x, y, { epochs: 40, batchSize: 4 });
  assert.ok(h.epochs[39].loss < h.epochs[0].loss / 10, `loss ${h.epochs[0].loss} → ${h.epochs[39].loss}`);
});

test('an optimizer with neither a fused rule nor update() is a ConfigError naming it', () => {
  class Incomplete extends Optimizer {
    readonly type = 'incomplete';
    protected rule(): null {
      return null;
    }
    protected initState(): ParamState {
      return {};
    }
    config(): Record<string, unknown> {
      return { type: this.type };
    }
  }
  const w = tensor([1], { requiresGrad: true });
  w.grad = tensor([1]);
  assert.throws(() => new Incomplete(0.1).step([['w', w]]), (e: unknown) =>
    e instanceof ConfigError && e.message === 'incomplete: rule() gives no fused rule, so the optimizer must implement update()');
});
