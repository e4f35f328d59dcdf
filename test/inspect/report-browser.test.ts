// End-to-end: the HTML report opened in a real browser (Debian's chromium, driven by
// playwright-core). Checks that every plot rendered with the expected elements, that the page
// needs no network, and saves a screenshot to test-output/report.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { writeReport, plotLearningCurves, plotActivationFunctions, plotConfusionMatrix, plotLayerDynamics, plotFilters } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { cnnReport } from './report-fixture.js';
import { workedModel } from '../lecture/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the report renders in headless Chromium with every plot and its elements', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  const work = mkdtempSync(join(tmpdir(), 'dd-browser-'));
  const profile = join(work, 'profile');
  mkdirSync('test-output', { recursive: true });
  const input = cnnReport(8);
  const page1 = writeReport(join(work, 'report.html'), input);
  const page2 = writeReport(join(work, 'empty.html'), { model: workedModel() });
  // a fresh profile directory: playwright passes it to chromium as --user-data-dir
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto(`file://${page1}`);
    const got = await page.evaluate(() => {
      const n = (sel: string) => document.querySelectorAll(sel).length;
      const sizes = Array.from(document.querySelectorAll('svg.dd-plot')).map((s) => {
        const r = s.getBoundingClientRect();
        return [s.getAttribute('class'), Math.round(r.width), Math.round(r.height)] as [string, number, number];
      });
      const seriesLength = Array.from(document.querySelectorAll('path.dd-series')).map((p) => (p as SVGPathElement).getTotalLength());
      const boxHeights = Array.from(document.querySelectorAll('rect.dd-box')).map((b) => (b as SVGRectElement).getBBox().height);
      return {
        title: document.title,
        sections: Array.from(document.querySelectorAll('main > section')).map((s) => s.id),
        svgs: n('svg.dd-plot'), curves: n('svg.dd-learning-curves'), series: n('path.dd-series'), seriesLength,
        boxplots: n('svg.dd-boxplot'), boxes: n('rect.dd-box'), medians: n('line.dd-median'), boxHeights,
        filters: n('svg.dd-filters g.dd-filter'), maps: n('svg.dd-feature-maps g.dd-feature-map'), cells: n('rect.dd-cell'),
        confusion: n('svg.dd-confusion rect.dd-cm-cell'), panels: n('svg.dd-activations g.dd-activation-panel'),
        warnings: n('li.dd-warning'), ok: n('.dd-ok'), summaryRows: n('table.dd-summary tbody tr'), dynamicsRows: n('table.dd-dynamics tbody tr'),
        sizes,
      };
    });
    assert.equal(got.title, 'Strokes CNN');
    assert.deepEqual(got.sections, ['summary', 'history', 'diagnostics', 'dynamics', 'cnn', 'confusion', 'activations']);
    assert.equal(got.summaryRows, 5);
    assert.equal(got.curves, 2, 'loss and accuracy curves');
    assert.equal(got.series, 4, 'training and validation series in both');
    assert.ok(got.seriesLength.every((l) => l > 50), `curves are drawn: ${got.seriesLength}`);
    assert.equal(got.boxplots, 4, 'weights, z, a, δ');
    assert.equal(got.boxes, 3 + 4 + 5 + 4, 'a box per layer with values: weights (conv, hidden, out), z and δ (all but flatten), a (all)');
    assert.equal(got.medians, got.boxes);
    assert.equal(got.dynamicsRows, 5);
    assert.equal(got.filters, 4, 'four 3×3 filters');
    assert.equal(got.maps, 1 + 4 + 4, 'input image, conv and pool feature maps');
    assert.equal(got.cells, 4 * 9 + 36 + 4 * 16 + 4 * 4);
    assert.equal(got.confusion, 9);
    assert.equal(got.panels, 2, 'relu and tanh');
    assert.ok(got.warnings + got.ok >= 1, 'diagnostics list warnings or say there are none');
    for (const [cls, w, h] of got.sizes) assert.ok(w > 100 && h > 100, `${cls} rendered at ${w}×${h}`);
    assert.deepEqual(requests, [], 'the report loads nothing from the network');
    await page.screenshot({ path: 'test-output/report.png', fullPage: true });
    assert.ok(statSync('test-output/report.png').size > 20_000);

    // every plot is well-formed XML on its own (usable as a standalone .svg file)
    const standalone = [
      plotLearningCurves(input.model.history), plotLayerDynamics(input.dynamics!, 'delta'), plotActivationFunctions(),
      plotConfusionMatrix(input.confusion!.matrix), plotFilters(input.model.net.layers[0].ownParameters().get('weight') as Tensor),
    ];
    const errors = await page.evaluate((svgs) => svgs.map((s) => {
      const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
      return doc.querySelector('parsererror')?.textContent ?? (doc.documentElement.nodeName === 'svg' ? '' : doc.documentElement.nodeName);
    }), standalone);
    assert.deepEqual(errors, standalone.map(() => ''));

    await page.goto(`file://${resolve(page2)}`);
    const empty = await page.evaluate(() => document.querySelector('#history')?.textContent ?? '');
    assert.match(empty, /No training history/);
  } finally {
    await context.close();
    rmSync(work, { recursive: true, force: true });
  }
});
