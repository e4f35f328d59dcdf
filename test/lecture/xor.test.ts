import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/index.js';
import { XOR_X, XOR_Y, trainXor } from '../../examples/xor.js';

test('XOR is learned by a 2-2-1 logistic network (seed 1, batch gradient descent, α = 2)', () => {
  const { model, history } = trainXor(1);
  assert.equal(history.stopped, 'converged');
  assert.ok(history.updates < 1000, `${history.updates} updates`);
  assert.equal(model.net.paramCount(), 9);
  const pred = model.predict(tensor(XOR_X)).data;
  XOR_X.forEach((_, i) => assert.ok(Math.abs(pred[i] - XOR_Y[i][0]) < 0.1, `XOR${JSON.stringify(XOR_X[i])} → ${pred[i]}`));
  // deterministic: the same seed gives the same weights
  const again = trainXor(1);
  assert.deepEqual(again.model.net.getWeights().out.weight.toFlatArray(), model.net.getWeights().out.weight.toFlatArray());
});
