// The two activations added as rows of the kernel table: softplus (one row in src/backend/unary.ts,
// one in native/src/unary.h, one line of README) and GELU (exact erf form, PyTorch's default).
// Forward on hand-checkable numbers, central-difference gradients, and PyTorch's values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, Model, SGD, Sequential, applyActivation, exportPytorch, tensor, traceModel, unaryOp } from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

// x, then F.softplus(x), its gradient, F.gelu(x) and its gradient, computed once in float64 with
// /usr/bin/python3 and torch 1.13 (see this file's history for the script)
const X = [-20, -3, -1, -0.5, 0, 0.5, 1, 2, 3, 10, 25];
const TORCH = {
  softplus: [2.061153620314381e-09, 0.04858735157374206, 0.31326168751822286, 0.4740769841801067, 0.6931471805599453,
    0.9740769841801067, 1.3132616875182228, 2.1269280110429727, 3.048587351573742, 10.000045398899218, 25.0],
  softplusGrad: [2.0611536181902033e-09, 0.04742587317756679, 0.2689414213699951, 0.37754066879814546, 0.5,
    0.6224593312018546, 0.7310585786300049, 0.8807970779778824, 0.9525741268224333, 0.9999546021312976, 1.0],
  gelu: [-0.0, -0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0.0, 0.34573123063700656,
    0.841344746068543, 1.9544997361036416, 2.99595030590511, 10.0, 25.0],
  geluGrad: [-1.1041896724319527e-86, -0.01194564720418392, -0.08331547058768635, 0.13250487534383712, 0.5,
    0.8674951246561629, 1.0833154705876864, 1.085231801078197, 1.011945647204184, 1.0, 1.0],
};

/** Relative float32-level agreement (absolute below 1e-30). */
function near(got: ArrayLike<number>, want: readonly number[], rel: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= rel * Math.abs(want[i]) + 1e-30, `${what}(${X[i]}): ${got[i]} vs PyTorch ${want[i]}`);
  }
}

test('softplus forward on hand-checkable numbers: ln 2 at 0, ln(1 + e), ln(1 + 1/e), x for large x', () => {
  const y = unaryOp('softplus', tensor([0, 1, -1, 30, -30]));
  assertClose(y.data, [Math.LN2, Math.log(1 + Math.E), Math.log(1 + 1 / Math.E), 30, Math.exp(-30)], 1e-6);
  assert.ok(y.data[4] > 0, 'e^−30 survives (no 1 + u rounding to 1)');
  // derivative at 0 is the logistic's 0.5
  const z = tensor([0], { requiresGrad: true });
  unaryOp('softplus', z).backward(Float32Array.of(1));
  assert.equal(z.grad!.data[0], 0.5);
});

test('softplus and gelu gradients match central differences', () => {
  gradCheck((x) => unaryOp('softplus', x), [randT([3, 4], 7, -4, 4)]);
  gradCheck((x) => unaryOp('gelu', x), [randT([3, 4], 8, -4, 4)]);
});

test('softplus and gelu agree with PyTorch (F.softplus, F.gelu; values and gradients)', () => {
  for (const name of ['softplus', 'gelu'] as const) {
    const x = tensor(X, { requiresGrad: true });
    const y = applyActivation(name, x);
    y.backward(new Float32Array(X.length).fill(1));
    near(y.data, TORCH[name], 1e-6, name);
    near(x.grad!.data, TORCH[`${name}Grad`], 2e-6, `${name}'`);
  }
});

test('softplus in a layer: trained, traced (∂a/∂z = logistic(z)) and exported like any activation', () => {
  const net = new Sequential([new Dense({ units: 2, activation: 'softplus', name: 'h' }), new Dense({ units: 1, name: 'out' })], { inputShape: [2], seed: 3 });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const t = traceModel(model, tensor([[0.5, -1]]), tensor([[1]]));
  assert.equal(t.layers[0].activation, 'softplus');
  const z = (t.layers[0].z as number[][])[0];
  const dadz = (t.layers[0].dadz as number[][])[0];
  assertClose(dadz, z.map((v) => 1 / (1 + Math.exp(-v))), 1e-6);
  assert.match(exportPytorch(model)['model.py'], /F\.softplus\(x\)/);
  const { loss: before } = model.evaluate(tensor([[0.5, -1]]), tensor([[1]]));
  model.fit(tensor([[0.5, -1]]), tensor([[1]]), { epochs: 5, batchSize: 1 });
  assert.ok(model.evaluate(tensor([[0.5, -1]]), tensor([[1]])).loss < before);
});
