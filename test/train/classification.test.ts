// The classification example end to end: softmax + cross-entropy + dropout + Adam + early stopping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, confusionMatrix } from '../../src/index.js';
import { trainClassifier } from '../../examples/classification.js';

test('classification example: stops early, restores the best epoch and classifies the test set well', () => {
  const { model, history, es, xTest, yTest } = trainClassifier({ quiet: true });
  assert.equal(history.stopped, 'earlyStopping');
  assert.equal(history.epochs.length, es.bestEpoch! + 15);
  const val = history.epochs.map((e) => e.valLoss as number);
  assert.equal(es.best, Math.min(...val));
  const pred = model.predict(xTest);
  assert.ok(accuracy(pred, yTest) > 0.7, `test accuracy ${accuracy(pred, yTest)}`);
  const cm = confusionMatrix(pred, yTest);
  assert.equal(cm.flat().reduce((a, b) => a + b, 0), 120);
});
