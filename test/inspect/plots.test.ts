import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, ShapeError, tensor, summarize, plotLearningCurves, plotBoxes, plotLayerDynamics, plotHeatmap,
  plotFilters, plotFeatureMaps, plotConfusionMatrix, plotActivationFunctions, inspectModel,
} from '../../src/index.js';
import type { EpochLog } from '../../src/index.js';
import { workedModel, x, y } from '../lecture/fixtures.js';

const count = (svg: string, cls: string) => (svg.match(new RegExp(`class="(?:[^"]* )?${cls}(?=[ "])`, 'g')) ?? []).length;
const root = (svg: string, kind: string) => {
  assert.match(svg, new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" class="dd-plot dd-${kind}" width="\\d+" height="\\d+" viewBox="0 0 \\d+ \\d+"`));
  assert.ok(svg.endsWith('</svg>'));
  // balanced elements (a cheap well-formedness check; the browser test parses them as XML)
  const open = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>|<[a-z]+>/g) ?? []).length;
  const close = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  assert.equal(open, close, 'open and close tags balance');
};

test('learning curves: training and validation loss per epoch, log scale when they span > 100×', () => {
  const epochs: EpochLog[] = Array.from({ length: 50 }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1) ** 2, valLoss: 1.2 / (i + 1) ** 2, seconds: 0.01 }));
  const svg = plotLearningCurves(epochs, { title: 'SSE' });
  root(svg, 'learning-curves');
  assert.equal(count(svg, 'dd-series'), 2);
  assert.match(svg, /training loss/);
  assert.match(svg, /validation loss/);
  assert.match(svg, />0\.001<\/text>.*>0\.01<\/text>.*>0\.1<\/text>/, 'log ticks');
  const lin = plotLearningCurves(epochs.map((e) => ({ ...e, loss: 2 - e.epoch / 50, valLoss: undefined })));
  assert.equal(count(lin, 'dd-series'), 1);
  assert.doesNotMatch(lin, />0\.001</);
});

test('learning curves: an empty history says so; long runs are thinned but keep spikes', () => {
  const empty = plotLearningCurves([]);
  assert.equal(count(empty, 'dd-empty'), 1);
  assert.match(empty, /no training history/);
  const long: EpochLog[] = Array.from({ length: 20000 }, (_, i) => ({ epoch: i + 1, loss: i === 12345 ? 5 : 1, seconds: 0 }));
  const svg = plotLearningCurves(long, { logScale: false });
  const d = /class="dd-series dd-series-loss" d="([^"]+)"/.exec(svg)![1];
  assert.ok(d.split(/[ML]/).length < 1500, 'thinned');
  assert.match(svg, />5</, 'spike kept on the axis');
});

test('box plots: one box, median and whisker per layer (Figures 24–27)', () => {
  const r = inspectModel(workedModel(), x(), y());
  for (const q of ['weight', 'z', 'a', 'delta'] as const) {
    const svg = plotLayerDynamics(r, q);
    root(svg, 'boxplot');
    assert.equal(count(svg, 'dd-box'), 3);
    assert.equal(count(svg, 'dd-median'), 3);
    assert.equal(count(svg, 'dd-whisker'), 3);
  }
  assert.match(plotLayerDynamics(r, 'delta'), /δs by layer/);
  const svg = plotBoxes([{ label: 'a', stats: summarize([1, 2, 3]) }, { label: 'none', stats: null }]);
  assert.equal(count(svg, 'dd-box'), 1);
  assert.match(svg, />none</);
});

test('heatmaps, filters and feature maps: one grey cell per value', () => {
  const h = plotHeatmap([[0, 255, 0], [0, 255, 0]]);
  root(h, 'heatmap');
  assert.equal(count(h, 'dd-cell'), 6);
  assert.match(h, /fill="#000000"/);
  assert.match(h, /fill="#ffffff"/);
  const w = tensor(Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i), { shape: [2, 3, 2, 2] });
  const f = plotFilters(w);
  root(f, 'filters');
  assert.equal(count(f, 'dd-filter'), 6);
  assert.equal(count(f, 'dd-cell'), 24);
  const m = plotFeatureMaps(tensor(Array.from({ length: 4 * 5 * 5 }, (_, i) => Math.sin(i)), { shape: [1, 4, 5, 5] }));
  root(m, 'feature-maps');
  assert.equal(count(m, 'dd-feature-map'), 4);
  assert.equal(count(m, 'dd-cell'), 100);
  assert.throws(() => plotFilters(tensor([[1, 2]])), (e: Error) => e instanceof ShapeError && /plotFilters expects filters \[filters, channels, height, width\], received \[1, 2\]/.test(e.message));
  assert.throws(() => plotFeatureMaps(tensor([1, 2])), (e: Error) => e instanceof ShapeError && /plotFeatureMaps expects \[channels, height, width\].*received \[2\]/.test(e.message));
  assert.throws(() => plotHeatmap([[1, 2], [3]]), (e: Error) => e instanceof ShapeError && /rectangular/.test(e.message));
});

test('confusion matrix: k² cells with counts', () => {
  const svg = plotConfusionMatrix([[5, 1, 0], [0, 7, 2], [1, 0, 9]], { labels: ['low', 'medium', 'high'] });
  root(svg, 'confusion');
  assert.equal(count(svg, 'dd-cm-cell'), 9);
  assert.match(svg, />medium</);
  assert.match(svg, />predicted</);
  assert.throws(() => plotConfusionMatrix([[1, 2]]), (e: Error) => e instanceof ShapeError && /square/.test(e.message));
});

test('activation functions and their derivatives (Figures 2 and 13)', () => {
  const svg = plotActivationFunctions();
  root(svg, 'activations');
  assert.equal(count(svg, 'dd-activation-panel'), 6);
  assert.equal(count(svg, 'dd-phi'), 6);
  assert.equal(count(svg, 'dd-dphi'), 5, 'the threshold has no derivative to draw');
  assert.match(svg, /rectifier \(ReLU\)/);
  const one = plotActivationFunctions(['logistic']);
  assert.match(one, />0\.25</, 'the logistic derivative peaks at 0.25 (eq 16)');
  assert.throws(() => plotActivationFunctions(['softmax']), (e: Error) => e instanceof ConfigError && /softmax is not an elementwise function/.test(e.message));
  assert.throws(() => plotActivationFunctions(['swish' as never]), (e: Error) => e instanceof ConfigError && /must be one of linear, .*received "swish"/.test(e.message));
});

test('activation plots: PReLU (one slope for the whole curve) and the table\'s newer rows draw with their derivatives', () => {
  const svg = plotActivationFunctions(['prelu', 'gelu', 'softplus'], { lambda: 0.3 });
  assert.equal(count(svg, 'dd-activation-panel'), 3);
  assert.equal(count(svg, 'dd-dphi'), 3);
  assert.match(svg, /PReLU \(λ = 0\.3\)/);
});
