import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, ShapeError, accuracy, confusionMatrix, formatConfusionMatrix, precisionRecall, tensor, toClassIndices,
} from '../../src/index.js';
import { assertClose } from '../helpers/gradcheck.js';

test('class indices from scores, one-hot rows, a logistic column or plain labels', () => {
  assert.deepEqual(Array.from(toClassIndices(tensor([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4]]))), [1, 0, 2]);
  assert.deepEqual(Array.from(toClassIndices(tensor([[0.2], [0.5], [0.9]]))), [0, 1, 1]);
  assert.deepEqual(Array.from(toClassIndices([2, 0, 1])), [2, 0, 1]);
  assert.throws(() => toClassIndices([1, -1]), (e: unknown) => e instanceof ConfigError && /class labels must be integers ≥ 0, received -1 at position 1/.test(e.message));
});

test('accuracy, confusion matrix and per-class precision/recall on a hand-checked example', () => {
  // actual:    0 0 0 1 1 2 2 2
  // predicted: 0 0 1 1 2 2 2 0
  const actual = [0, 0, 0, 1, 1, 2, 2, 2];
  const predicted = [0, 0, 1, 1, 2, 2, 2, 0];
  assert.equal(accuracy(predicted, actual), 5 / 8);
  const m = confusionMatrix(predicted, actual);
  assert.deepEqual(m, [[2, 1, 0], [0, 1, 1], [1, 0, 2]]);
  const s = precisionRecall(m);
  assertClose(s.precision, [2 / 3, 1 / 2, 2 / 3], 1e-12, 'precision');
  assertClose(s.recall, [2 / 3, 1 / 2, 2 / 3], 1e-12, 'recall');
  assertClose(s.f1, [2 / 3, 1 / 2, 2 / 3], 1e-12, 'f1');
  assert.deepEqual(s.support, [3, 2, 3]);
  // tensors: one-hot targets against softmax outputs
  const onehot = tensor(actual.map((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0))));
  const probs = tensor(predicted.map((c) => [0, 1, 2].map((j) => (j === c ? 0.8 : 0.1))));
  assert.deepEqual(confusionMatrix(probs, onehot), m);
  assert.equal(accuracy(probs, onehot), 5 / 8);
  // a class never predicted gets precision 0; a class without rows recall 0
  const z = precisionRecall(confusionMatrix([0, 0], [0, 1], 3));
  assert.deepEqual(z.precision, [0.5, 0, 0]);
  assert.deepEqual(z.recall, [1, 0, 0]);
});

test('the confusion matrix prints as a table with level names, recall and precision', () => {
  const text = formatConfusionMatrix([[2, 1, 0], [0, 1, 1], [1, 0, 2]], ['low', 'medium', 'high']);
  const lines = text.split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0], /^actual \\ predicted\s+low\s+medium\s+high\s+recall$/);
  assert.match(lines[1], /^low\s+2\s+1\s+0\s+0\.667$/);
  assert.match(lines[4], /^precision\s+0\.667\s+0\.500\s+0\.667\s*$/);
});

test('metrics reject mismatched lengths, bad class counts and non-square matrices', () => {
  assert.throws(() => accuracy([0, 1], [0]), (e: unknown) => e instanceof ShapeError && /predictions \(2 rows\) and targets \(1 rows\) differ in length/.test(e.message));
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 2), (e: unknown) => e instanceof ConfigError && /row 1 has class 3, but numClasses is 2/.test(e.message));
  assert.throws(() => precisionRecall([[1, 2]]), (e: unknown) => e instanceof ShapeError && /needs a square confusion matrix/.test(e.message));
  assert.throws(() => formatConfusionMatrix([[1]], ['a', 'b']), (e: unknown) => e instanceof ConfigError && /2 level names for 1 classes/.test(e.message));
});
