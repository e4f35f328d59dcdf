import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, renderReport, writeReport, checkReportPath, reportFromData, featureMapsOf, diagnose, inspectModel } from '../../src/index.js';
import { workedModel, x, y } from '../lecture/fixtures.js';
import { cnnReport, strokes } from './report-fixture.js';

const sections = (html: string) => [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);

test('a report of an untrained model says the history is empty instead of failing', () => {
  const model = workedModel();
  const html = renderReport({ model });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /No training history: this model has not been trained yet \(its history is empty\)/);
  assert.match(html, /Layer dynamics need data/);
  assert.deepEqual(sections(html), ['summary', 'history', 'diagnostics', 'dynamics', 'activations']);
  assert.match(html, /<td>h1<\/td><td>dense<\/td><td>logistic<\/td><td>\[N, 3\]<\/td><td>9<\/td>/);
});

test('a trained CNN report has every section: summary, curves, diagnostics, dynamics, filters, feature maps, confusion matrix', () => {
  const input = cnnReport(4);
  const html = renderReport(input);
  assert.deepEqual(sections(html), ['summary', 'history', 'diagnostics', 'dynamics', 'cnn', 'confusion', 'activations']);
  assert.equal((html.match(/class="dd-plot dd-learning-curves"/g) ?? []).length, 2, 'loss and accuracy');
  assert.equal((html.match(/class="dd-plot dd-boxplot"/g) ?? []).length, 4);
  assert.equal((html.match(/class="dd-plot dd-filters"/g) ?? []).length, 1);
  assert.equal((html.match(/class="dd-plot dd-feature-maps"/g) ?? []).length, 3, 'input, conv, pool');
  assert.match(html, /Strokes CNN/);
  assert.match(html, /validation loss/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'self-contained: no scripts, no network');
  assert.equal(input.featureMaps![1].layer, 'conv');
  assert.deepEqual(input.featureMaps![1].maps.shape, [4, 4, 4]);
  const cm = input.confusion!.matrix;
  assert.equal(cm.flat().reduce((s, v) => s + v, 0), 60);
});

test('writeReport writes atomically and names a missing directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-report-'));
  try {
    const model = workedModel();
    const path = writeReport(join(dir, 'r.html'), { model, dynamics: inspectModel(model, x(), y()), diagnostics: diagnose(model, x(), y()) });
    assert.equal(readdirSync(dir).join(','), 'r.html', 'no temporary file left behind');
    assert.match(readFileSync(path, 'utf8'), /Layer dynamics \(one training iteration, 4 examples\)/);
    const missing = join(dir, 'no', 'such', 'dir', 'r.html');
    assert.throws(() => writeReport(missing, { model }), (e: Error) => e instanceof ConfigError && e.message.includes(`report path ${missing}: directory ${join(dir, 'no', 'such', 'dir')} does not exist`));
    assert.throws(() => writeReport(dir, { model }), (e: Error) => e instanceof ConfigError && /is a directory; give a file name/.test(e.message));
    assert.throws(() => checkReportPath(missing), (e: Error) => e instanceof ConfigError && e.message.includes(missing));
    assert.equal(checkReportPath(join(dir, 'new.html')), join(dir, 'new.html'));
    assert.throws(() => writeReport('', { model }), (e: Error) => e instanceof ConfigError && /report path must be a file name/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a report from data needs data; feature maps need a row', () => {
  const model = workedModel();
  assert.throws(() => reportFromData(model, undefined as never, undefined as never), (e: Error) => e instanceof ConfigError && /a report with layer dynamics needs data/.test(e.message));
  assert.throws(() => renderReport({} as never), (e: Error) => e instanceof ConfigError && /renderReport needs \{ model \}/.test(e.message));
  assert.throws(() => featureMapsOf(model, undefined as never), (e: Error) => e instanceof ConfigError && /featureMapsOf needs inputs/.test(e.message));
  assert.deepEqual(featureMapsOf(model, x()), [], 'a dense network has no feature maps');
  assert.equal(strokes().x.shape[0], 60);
});
