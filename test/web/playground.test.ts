// The playground (web/) in Debian's Chromium through playwright-core: the built static files
// (scripts/build-web.mjs) served by the playground's own server (scripts/playground.mjs). The
// worked example shows Tables 4–6 at step 0; after one step the tables show that update (Table 5's
// δs at the weights before it, Table 7's per-example ∂E/∂w and their sum, eq 45's new weight) and
// Table 8's loss; it converges after as many updates as Node's run of the same spec. Online steps,
// a pause and a run end at Node's update count and epoch losses (XOR); mini-batch steps list their
// batch. XOR's boundary separates the four points; the digits CNN beats chance and draws feature
// maps; its conv/pool layers are edited and a network the library rejects shows its error. Every
// diagnostic marks its neurons in the diagram. The page stays responsive while the worker trains;
// a downloaded model loads in Node; bad CSV (chosen or dropped), a non-model upload and a bad link
// show the library's errors. No console errors, no request off the local server. Screenshots of
// every view go to test-output/playground/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { buildModel, fitOptionsFromSpec, getBackend, loadModel, setBackend, tensor } from '../../src/index.js';
import type { BackendName, ModelSpec, WeightJson } from '../../src/index.js';
import { W1, W2, W3, X, Y, split } from '../lecture/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = join(ROOT, 'test-output/playground');

interface Server { server: import('node:http').Server; url: string }
const script = async <T>(name: string): Promise<T> => import(pathToFileURL(join(ROOT, 'scripts', name)).href) as Promise<T>;

/** Reads the neuron table: neuron number → { z, a, dadz, delta }. */
async function neuronTable(page: Page): Promise<Record<number, { z: number; a: number; dadz: number; delta: number }>> {
  return page.$$eval('#neuron-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => {
    const v = (c: string) => Number(r.querySelector(`.${c}`)!.textContent);
    return [Number(r.getAttribute('data-neuron')), { z: v('z'), a: v('a'), dadz: v('dadz'), delta: v('delta') }];
  })));
}

function close(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `${what}[${i}]: page shows ${v}, the lecture prints ${expected[i]}`));
}

async function waitStopped(page: Page, timeout: number): Promise<string> {
  await page.waitForSelector('#stopped[data-state="converged"], #stopped[data-state="maxEpochs"]', { timeout, state: 'attached' });
  return (await page.getAttribute('#stopped', 'data-state'))!;
}

/** Reads the weight-update table: row (d1…, sum, before, after) → weight index → value. */
async function updateTable(page: Page): Promise<Record<string, Record<string, number>>> {
  return page.$$eval('#update-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => [
    r.getAttribute('data-row')!, Object.fromEntries(Array.from(r.querySelectorAll('td')).map((c) => [c.getAttribute('data-w')!, Number(c.textContent)])),
  ])));
}

/** Node's run of a spec the page trained (same backend, same initial weights): its model and history. */
function nodeRun(spec: ModelSpec, backend: string, x: number[][], y: number[][], weights?: WeightJson) {
  const before = getBackend().name as BackendName;
  setBackend(backend as BackendName);
  try {
    const model = buildModel(spec);
    if (weights) model.net.setWeights(weights);
    const history = model.fit(tensor(x), tensor(y), fitOptionsFromSpec(spec));
    return { model, history };
  } finally {
    setBackend(before);
  }
}

const pageSpec = (page: Page): Promise<ModelSpec> => page.evaluate(() => (globalThis as unknown as { playground: { spec: ModelSpec } }).playground.spec);

/** Clicks Step `k` times, each time waiting for exactly one more update. */
async function stepTimes(page: Page, k: number): Promise<void> {
  for (let i = 0; i < k; i++) {
    const n = await updates(page);
    await page.click('#step');
    await page.waitForFunction((want) => document.body.dataset.updates === String(want), n + 1);
  }
}

/** The diagram's neurons carrying a diagnostic's mark. */
const flagged = (page: Page, kind: string): Promise<string[]> => page.$$eval(`g.neuron.flag-${kind}`, (gs) => gs.map((g) => g.getAttribute('data-neuron')!));

const updates = async (page: Page): Promise<number> => Number(await page.textContent('#updates'));

/** Starts recording requestAnimationFrame timestamps in the page. */
async function recordFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { frames: number[]; recording: boolean };
    g.frames = [];
    g.recording = true;
    const tick = (ts: number) => { g.frames.push(ts); if (g.recording) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
}

/** Stops the recording; the median interval between frames (ms) and the number of intervals. */
async function frameMedian(page: Page): Promise<{ median: number; n: number }> {
  const frames = await page.evaluate(() => {
    const g = globalThis as unknown as { frames: number[]; recording: boolean };
    g.recording = false;
    return g.frames;
  });
  const gaps = frames.slice(1).map((f, i) => f - frames[i]).sort((a, b) => a - b);
  return { median: gaps[Math.floor(gaps.length / 2)], n: gaps.length };
}

test('playground in Chromium: lecture tables, convergence = Node, XOR, digits CNN, responsiveness, download/upload, bad input', { timeout: 240_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package`);
  const out = mkdtempSync(join(tmpdir(), 'dd-playground-'));
  const { buildPlayground } = await script<{ buildPlayground(o: string): Promise<string> }>('build-web.mjs');
  await buildPlayground(out);
  const { servePlayground } = await script<{ servePlayground(d: string, p: number): Promise<Server> }>('playground.mjs');
  const { server, url } = await servePlayground(out, 0);
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    context.on('request', (r) => requests.push(r.url()));
    const origin = url.replace(/\/$/, '');

    // ---- worked example, step 0: Tables 5 and 6 (example d2), printed precision ----
    await page.goto(url);
    await page.waitForSelector('#neuron-table');
    assert.equal(await page.inputValue('#data'), 'worked');
    assert.equal(await page.inputValue('#example'), '1', 'the worked example opens on d2, the example of Tables 5 and 6');
    const t = await neuronTable(page);
    const ns = [3, 4, 5, 6, 7, 8];
    close(ns.map((n) => t[n].z), [-0.0042, -0.1898, 0.1208, 0.207122, 0.23546, -0.113108], 1e-5, 'Table 5 z3..z8');
    close(ns.map((n) => t[n].dadz), [0.25, 0.2478, 0.2491, 0.2473, 0.2466, 0.2492], 5e-5, 'Table 5 ∂a/∂z');
    close(ns.map((n) => t[n].delta), [-0.0006, -0.0003, 0.0003, 0.0025, -0.0105, 0.0852], 5e-5, 'eq 38–43 δ3..δ8');
    close([t[8].a], [0.4718], 5e-5, 'Table 4 prediction for d2');
    const preds = await page.$$eval('#pred-table .pred', (c) => c.map((x) => Number(x.textContent)));
    close(preds, [0.4715, 0.4718, 0.4717, 0.4716], 5e-5, 'Table 4 predictions');
    close([Number(await page.textContent('#train-loss'))], [0.17921847], 2e-6, 'Table 4 ½SSE (the book summed errors rounded to 4 decimals)');
    await page.click('g.neuron[data-neuron="8"]');
    const dw = await page.$$eval('#dw-table .dw', (c) => c.map((x) => Number(x.textContent)));
    close(dw, [0.0852, 0.04699632, 0.04759272], 5e-5, 'Table 6 ∂E/∂w8,0 w8,6 w8,7');
    await page.focus('g.neuron[data-neuron="7"]');
    await page.keyboard.press('Enter');
    const dw7 = await page.$$eval('#dw-table .dw', (c) => c.map((x) => Number(x.textContent)));
    close(dw7, [-0.0105, -0.0052395, -0.00475335, -0.0055671], 5e-5, 'Table 6 ∂E/∂w7,0 w7,3..5 (keyboard)');
    // the diagnostics highlight the neurons concerned: δ vanishes towards h1 at the lecture's weights
    assert.deepEqual(await flagged(page, 'vanishingGradients'), ['3', '4', '5']);
    assert.match((await page.getAttribute('g.neuron[data-neuron="4"]', 'aria-label'))!, /^neuron 4 \(h1, unit 2\): vanishing δ$/);
    assert.match((await page.textContent('#diag li[data-kind="vanishingGradients"]'))!, /Highlighted: every neuron of h1\. Advice: use ReLUs/);
    await page.screenshot({ path: join(SHOTS, 'worked-step0.png'), fullPage: true });

    // ---- one step: one batch update, Table 8's ½SSE ----
    await page.click('#step');
    await page.waitForFunction(() => document.body.dataset.updates === '1');
    const first = await page.evaluate(() => (globalThis as unknown as { playground: { epochs: { loss: number }[] } }).playground.epochs[0].loss);
    close([first], [0.1789671], 2e-6, 'Table 8 ½SSE after one update');
    // the tables now show the update just made: Table 5's δs (the weights before it), Table 7's sums, eq 45
    assert.equal(await page.getAttribute('#table-source', 'data-source'), 'step');
    const t1 = await neuronTable(page);
    close(ns.map((n) => t1[n].delta), [-0.0006, -0.0003, 0.0003, 0.0025, -0.0105, 0.0852], 5e-5, 'update 1 was computed from eq 38–43\'s δs');
    await page.click('g.neuron[data-neuron="7"]');
    const upd = await updateTable(page);
    close(['d1', 'd2', 'd3', 'd4'].map((d) => upd[d]['5']), [0.0073008, -0.0055671, 0.0015702, -0.00176664], 2e-5, 'Table 7: ∂E/∂w7,5 per example');
    close([upd.sum['5']], [0.0015244827], 1e-6, 'Table 7: Δw7,5 (exact; the book prints 0.00153726 from rounded values)');
    close([upd.before['5'], upd.after['5']], [-0.09, -0.09 - 0.2 * 0.0015244827], 1e-6, 'eq 45: w7,5 before and after the update');
    close([upd.sum['0']], [upd.d1['0'] + upd.d2['0'] + upd.d3['0'] + upd.d4['0']], 5e-8, 'Δw7,0 sums the four examples');
    await page.screenshot({ path: join(SHOTS, 'worked-step1.png'), fullPage: true });
    // another example: the step's pass for d1, at the weights before the update (Table 7's d1 row)
    await page.selectOption('#example', '0');
    await page.waitForFunction((v) => document.querySelector('#dw-table .dw[data-w="5"]')?.textContent === v, upd.d1['5'].toFixed(8));
    assert.equal(await page.getAttribute('#table-source', 'data-source'), 'step');
    await page.selectOption('#example', '1');
    await page.waitForFunction((v) => document.querySelector('#dw-table .dw[data-w="5"]')?.textContent === v, upd.d2['5'].toFixed(8));

    // ---- train to the stop criterion, measuring frame intervals meanwhile; Node's run of the same spec ----
    const spec = await pageSpec(page);
    const backend = await page.evaluate(() => (globalThis as unknown as { playground: { backend: string } }).playground.backend);
    await recordFrames(page);
    await page.click('#run');
    assert.equal(await waitStopped(page, 120_000), 'converged');
    const fw = await frameMedian(page);
    console.log(`# worked example in the page (${backend}): ${await updates(page)} updates; median frame interval ${fw.median.toFixed(1)} ms over ${fw.n} frames`);
    assert.ok(fw.n >= 5 && fw.median < 50, `median frame interval ${fw.median} ms over ${fw.n} frames while training`);
    const { model: nodeModel, history: nodeHistory } = nodeRun(spec, backend, X, Y, { h1: split(W1), h2: split(W2), out: split(W3) });
    assert.equal(await updates(page), nodeHistory.updates, 'the page converges after as many updates as Node');
    const aPage = (await neuronTable(page))[8].a;
    await page.screenshot({ path: join(SHOTS, 'worked-converged.png'), fullPage: true });

    // ---- download the model; Node's loadModel reads it and predicts the page's numbers ----
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const file = join(out, 'worked.dendrite');
    await download.saveAs(file);
    const loaded = loadModel(file);
    const pNode = loaded.model.predict(tensor(X)).data;
    assert.ok(Math.abs(pNode[1] - aPage) <= 5e-7, `Node predicts ${pNode[1]} for d2, the page shows ${aPage}`);
    assert.deepEqual(Array.from(pNode), Array.from(nodeModel.predict(tensor(X)).data), 'the downloaded model = Node\'s own run, bit for bit');
    // upload it back, and a file that is not a model
    await page.setInputFiles('#upload', file);
    await page.waitForFunction(() => /Loaded worked\.dendrite/.test(document.getElementById('message')!.textContent!));
    await page.setInputFiles('#upload', { name: 'notes.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') });
    await page.waitForFunction(() => document.getElementById('message')!.classList.contains('error'));
    assert.equal(await page.textContent('#message'), 'ModelFileError: notes.csv: not a dendrite model file (it does not start with DNDRMODL)');

    // ---- bad CSV: the library's located error, nothing else changes ----
    const hashBefore = await page.evaluate(() => location.hash);
    await page.setInputFiles('#csv', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,y\n1,2,3\n4,x,5\n6,7,8\n') });
    await page.waitForFunction(() => /bad\.csv/.test(document.getElementById('message')!.textContent!));
    assert.match((await page.textContent('#message'))!, /^DataError: bad\.csv, line 3, column 2 \("b"\): "x" is not a number/);
    assert.equal(await page.evaluate(() => location.hash), hashBefore);
    assert.equal(await page.inputValue('#data'), 'worked');
    await page.setInputFiles('#csv', { name: 'gap.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,y\n1,2,3\n4,,5\n6,7,8\n') });
    await page.waitForFunction(() => /gap\.csv/.test(document.getElementById('message')!.textContent!));
    assert.match((await page.textContent('#message'))!, /^DataError: gap\.csv, line 3, column 2 \("b"\): missing value/);
    // a CSV dropped on the page goes the same way
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['a,b,y\n1,2,3\n4,5,6\n7,?,9\n'], 'dropped.csv', { type: 'text/csv' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => /dropped\.csv/.test(document.getElementById('message')!.textContent!));
    assert.match((await page.textContent('#message'))!, /^DataError: dropped\.csv, line 4, column 2 \("b"\): "\?" is not a number/);
    assert.equal(await page.inputValue('#data'), 'worked');
    await page.screenshot({ path: join(SHOTS, 'bad-csv.png') });
    // a good CSV trains
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${(i % 7) + 2 * ((i * 3) % 5)}`).join('\n');
    await page.setInputFiles('#csv', { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(`p,q,target\n${rows}\n`) });
    await page.waitForFunction(() => /good\.csv: 40 rows, 2 inputs/.test(document.getElementById('message')!.textContent!));
    assert.equal(await page.inputValue('#data'), 'csv');

    // ---- XOR 2-2-1: trains to the stop criterion, the boundary separates the four points ----
    await page.selectOption('#data', 'xor');
    await page.waitForFunction(() => /data=xor/.test(location.hash) && document.body.dataset.updates === '0');
    await page.click('#run');
    assert.equal(await waitStopped(page, 60_000), 'converged');
    const sides = await page.evaluate(() => {
      const cv = document.getElementById('boundary') as HTMLCanvasElement;
      const ctx = cv.getContext('2d')!;
      const S = cv.width;
      // the points sit at 0 and 1 in a range padded by 15% on each side; sample 12 px towards the centre (off the dot)
      const at = (v: number) => ((v + 0.15) / 1.3) * S;
      const img = ctx.getImageData(0, 0, S, S).data; // one readback
      return [[0, 0], [0, 1], [1, 0], [1, 1]].map(([a, b]) => {
        const x = at(a) + (a ? -12 : 12);
        const y = S - at(b) + (b ? 12 : -12);
        const k = (Math.round(y) * S + Math.round(x)) * 4;
        return img[k + 2] > img[k] ? 1 : 0;
      });
    });
    assert.deepEqual(sides, [0, 1, 1, 0], 'the output plane is blue (class 1) at (0,1) and (1,0), orange at (0,0) and (1,1)');
    await page.screenshot({ path: join(SHOTS, 'xor.png'), fullPage: true });

    // ---- online (XOR, shuffled): a step is one update over one example of the run Node's fit makes; ----
    // ---- steps, a pause and a run end at Node's update count and stop criterion ----
    await page.goto(`${url}?online#data=xor&bs=1&lr=0.02&epochs=20000`);
    await page.waitForSelector('#neuron-table');
    assert.match((await page.textContent('#step'))!, /one example/);
    assert.match((await page.textContent('#bs-name'))!, /^online/);
    await stepTimes(page, 6);
    assert.equal(await page.getAttribute('#table-source', 'data-source'), 'step');
    assert.match((await page.textContent('#table-source'))!, /^Update 6 \(online\)/);
    await page.click('#run');
    await page.waitForFunction(() => document.body.dataset.running === 'true');
    await page.click('#run');
    await page.waitForFunction(() => document.body.dataset.running === 'false');
    assert.equal(await page.getAttribute('#stopped', 'data-state'), '', 'paused before the stop criterion');
    await stepTimes(page, 3);
    await page.click('#run');
    assert.equal(await waitStopped(page, 60_000), 'converged');
    const xorX = [[0, 0], [0, 1], [1, 0], [1, 1]];
    const xorNode = nodeRun(await pageSpec(page), backend, xorX, [[0], [1], [1], [0]]).history;
    assert.equal(xorNode.stopped, 'converged');
    assert.equal(await updates(page), xorNode.updates, 'online steps + runs end after as many updates as Node\'s fit');
    const pageEpochs = await page.evaluate(() => (globalThis as unknown as { playground: { epochs: { loss: number }[] } }).playground.epochs.map((e) => e.loss));
    assert.deepEqual(pageEpochs, xorNode.epochs.map((e) => e.loss), 'the same epoch losses as Node');

    // ---- mini-batch (the worked example, 2 rows per update, unshuffled): each step's Table 7 lists its batch ----
    await page.goto(`${url}?minibatch#data=worked&bs=2`);
    await page.waitForSelector('#neuron-table');
    assert.match((await page.textContent('#step'))!, /2 examples/);
    await stepTimes(page, 1);
    await page.click('g.neuron[data-neuron="8"]');
    assert.deepEqual(Object.keys(await updateTable(page)), ['d1', 'd2', 'sum', 'before', 'after']);
    assert.match((await page.textContent('#table-source'))!, /^Update 1 \(mini-batch\): the forward and backward pass of this example that computed it/);
    await stepTimes(page, 1);
    assert.deepEqual(Object.keys(await updateTable(page)), ['d3', 'd4', 'sum', 'before', 'after']);
    assert.match((await page.textContent('#table-source'))!, /^Update 2 \(mini-batch\): this example is not in its batch \(rows 3, 4\)/);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { playground: { epochs: unknown[] } }).playground.epochs.length), 1, 'two mini-batches of 2 make the first epoch');
    await page.screenshot({ path: join(SHOTS, 'worked-minibatch.png'), fullPage: true });

    // ---- spirals (a screenshot of a 2-D set with a validation split) ----
    await page.selectOption('#data', 'circles');
    await page.waitForFunction(() => /data=circles/.test(location.hash) && document.body.dataset.updates === '0');
    await page.click('#run');
    await page.waitForFunction(() => Number(document.body.dataset.updates) > 200);
    await page.click('#run');
    await page.screenshot({ path: join(SHOTS, 'circles.png'), fullPage: true });

    // ---- digits CNN: a few hundred updates beat chance by a margin, feature maps render ----
    await page.selectOption('#data', 'digits');
    await page.waitForFunction(() => /data=digits/.test(location.hash) && document.body.dataset.updates === '0');
    await recordFrames(page);
    await page.click('#run');
    await page.waitForFunction(() => Number(document.body.dataset.updates) >= 250, undefined, { timeout: 60_000 });
    await page.click('#run');
    const fd = await frameMedian(page);
    assert.ok(fd.n > 10 && fd.median < 50, `median frame interval ${fd.median} ms over ${fd.n} frames while the CNN trains`);
    await page.waitForFunction(() => document.getElementById('run')!.textContent === 'Train');
    const acc = Number((await page.textContent('#test-accuracy'))!.match(/([\d.]+)%/)![1]) / 100;
    console.log(`# digits CNN in the page: ${await updates(page)} updates, test accuracy ${(100 * acc).toFixed(1)}% (chance 10%); median frame interval ${fd.median.toFixed(1)} ms over ${fd.n} frames`);
    assert.ok(acc > 0.4, `test accuracy ${acc} after a few hundred updates`);
    assert.ok(await page.$$eval('#feature-maps svg', (s) => s.length) >= 2, 'feature maps of the input and the conv layer');
    assert.ok(await page.$$eval('#feature-maps svg rect', (s) => s.length) > 100, 'feature maps have pixels');
    await page.screenshot({ path: join(SHOTS, 'digits.png'), fullPage: true });

    // ---- digits: conv and pooling layers edited (kernel, stride, padding, activation, average pooling); ----
    // ---- a network the library rejects: its message, and the run stays as it was ----
    await page.goto(`${url}?cnn#data=digits&cnn=conv:4:5:1:valid:relu,max:2:2,conv:6:3:2:1:tanh,avg:2:2`);
    await page.waitForFunction(() => document.body.dataset.updates === '0');
    const cnnSpec = () => page.evaluate(() => (globalThis as unknown as { playground: { spec: ModelSpec } }).playground.spec.layers
      .filter((l) => l.type !== 'dense').map((l) => ({ ...l, kernelInitializer: undefined })));
    assert.deepEqual(await cnnSpec(), [
      { type: 'conv2d', name: 'conv1', filters: 4, kernelSize: 5, strides: 1, padding: 'valid', activation: 'relu', kernelInitializer: undefined },
      { type: 'maxPool2d', name: 'pool1', poolSize: 2, strides: 2, kernelInitializer: undefined },
      { type: 'conv2d', name: 'conv2', filters: 6, kernelSize: 3, strides: 2, padding: 1, activation: 'tanh', kernelInitializer: undefined },
      { type: 'avgPool2d', name: 'pool2', poolSize: 2, strides: 2, kernelInitializer: undefined },
      { type: 'flatten', name: 'flat', kernelInitializer: undefined },
    ]);
    await page.selectOption('[aria-label="activation of conv2"]', 'leakyRelu');
    await page.waitForFunction(() => /conv:6:3:2:1:leakyRelu/.test(decodeURIComponent(location.hash)));
    await page.fill('[aria-label="kernel size of conv1"]', '7');
    await page.press('[aria-label="kernel size of conv1"]', 'Enter');
    await page.waitForFunction(() => /cnn=conv:4:7/.test(decodeURIComponent(location.hash)));
    await stepTimes(page, 2);
    assert.ok(await page.$$eval('#feature-maps svg', (s) => s.length) >= 5, 'feature maps of the input and the four conv/pool layers');
    await page.click('#add-pool');
    await page.waitForFunction(() => /avg:2:2,max:2:2$/.test(decodeURIComponent(location.hash)));
    const goodHash = await page.evaluate(() => location.hash);
    await page.click('#add-pool');
    await page.waitForFunction(() => document.getElementById('message')!.classList.contains('error'));
    assert.match((await page.textContent('#message'))!, /^ConfigError: pool4: pool window 2×2 is larger than the input 1×1; .*The network was not rebuilt/);
    assert.equal(await page.evaluate(() => location.hash), goodHash, 'the link keeps the last network that was built');
    assert.equal((await cnnSpec()).filter((l) => /pool/.test(l.name as string)).length, 3, 'the page keeps the last network that was built');
    await page.screenshot({ path: join(SHOTS, 'digits-bad-layer.png'), fullPage: true });
    await page.click('[aria-label="remove pool4"]');
    await page.waitForFunction(() => document.getElementById('message')!.hidden);

    // ---- every diagnostic highlights its neurons: the ReLU worked example (Neuron 4 dead, α = 0.2's ----
    // ---- rising loss, Figure 21) and tanh units saturated by too large steps ----
    await page.goto(`${url}?relu#layers=3:relu,2:relu&out=relu&lr=0.2&epochs=200`);
    await page.waitForSelector('#neuron-table');
    assert.deepEqual(await flagged(page, 'deadRelu'), ['4'], 'dead at the lecture\'s weights: Neuron 4');
    await page.click('#run');
    assert.equal(await waitStopped(page, 60_000), 'maxEpochs');
    assert.deepEqual(await flagged(page, 'deadRelu'), ['4'], 'Neuron 4 stays dead');
    assert.deepEqual(await flagged(page, 'risingLoss'), ['8']);
    assert.match((await page.textContent('#diag li[data-kind="deadRelu"]'))!, /Highlighted: neuron 4\. Advice: use leaky ReLU/);
    assert.match((await page.textContent('#diag li[data-kind="risingLoss"]'))!, /went up in \d+ of the last 10 epochs with learning rate 0\.2.*Advice: lower the learning rate/);
    assert.deepEqual(await page.$$eval('#net .legend li', (l) => l.map((x) => x.textContent)), ['dead ReLU', 'rising loss']);
    await page.screenshot({ path: join(SHOTS, 'diagnostics-relu.png'), fullPage: true });
    await page.goto(`${url}?saturated#data=circles&layers=6:tanh&opt=sgd&lr=2&loss=sse&epochs=10`);
    await page.waitForSelector('#neuron-table');
    await page.click('#run');
    assert.equal(await waitStopped(page, 60_000), 'maxEpochs');
    const sat = await flagged(page, 'saturated');
    assert.ok(['5', '6', '7', '8'].every((n) => sat.includes(n)), `saturated tanh neurons highlighted: ${sat}`);
    assert.match((await page.textContent('#diag li[data-kind="saturated"]'))!, /saturated tanh units: \d+% of the activations in h1.*Highlighted: neuron 5, neuron 6, neuron 7, neuron 8/);
    await page.screenshot({ path: join(SHOTS, 'diagnostics-saturated.png'), fullPage: true });

    // ---- a link with an invalid configuration: defaults and a message naming what was ignored ----
    await page.goto(`${url}?link=1#data=xor&lr=abc&layers=2:tanh,0:relu&colour=red`);
    await page.waitForSelector('#neuron-table');
    const msg = (await page.textContent('#message'))!;
    assert.match(msg, /lr="abc" \(expected a learning rate in \[1e-6, 10\]\)/);
    assert.match(msg, /layers="2:tanh,0:relu"/);
    assert.match(msg, /unknown key "colour"/);
    assert.equal(await page.inputValue('#data'), 'xor');
    assert.equal(await page.inputValue('#lr'), '0.5', 'the XOR preset\'s learning rate');
    await page.goto(`${url}?link=2#data=nonsense`);
    await page.waitForSelector('#neuron-table');
    assert.match((await page.textContent('#message'))!, /data="nonsense" \(expected one of worked, xor/);
    assert.equal(await page.inputValue('#data'), 'worked');
    await page.screenshot({ path: join(SHOTS, 'bad-link.png') });
    // the same link twice gives the same curve (same seed ⇒ same run)
    const curve = async () => {
      await page.goto(`${url}?link=3#data=clusters&seed=5&epochs=15`);
      await page.reload();
      await page.waitForSelector('#neuron-table');
      await page.click('#run');
      await waitStopped(page, 30_000);
      return page.evaluate(() => (globalThis as unknown as { playground: { epochs: { loss: number }[] } }).playground.epochs.map((e) => e.loss));
    };
    const c1 = await curve();
    assert.equal(c1.length, 15);
    assert.deepEqual(await curve(), c1);

    // ---- narrow screen ----
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}?narrow#data=spirals`);
    await page.waitForSelector('#neuron-table');
    await page.screenshot({ path: join(SHOTS, 'narrow.png'), fullPage: true });

    assert.deepEqual(problems, [], 'no console errors or warnings');
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith(`blob:${origin}/`) && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'no request leaves the local server');
  } finally {
    await browser.close();
    server.close();
    rmSync(out, { recursive: true, force: true });
  }
});
