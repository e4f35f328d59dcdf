// dendrite in a real browser (Debian's chromium through playwright-core): a page loads the
// esbuild bundle (platform browser, no shims) of the public entry, trains the lecture's worked
// example and a small CNN on a digits subset on the wasm backend, and must get bit-identical
// numbers to Node's wasm run of the same seeds; the CNN is saved to IndexedDB, the page reloaded,
// the model loaded and its predictions compared; a Web Worker trains the same spec. The page may
// print no console error and request nothing but the local test server. A page without
// cross-origin isolation (one thread) and an isolated one give the same numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { buildModel, fitOptionsFromSpec, getBackend, loadDigits, setBackend, tensor } from '../../src/index.js';
import type { BackendName } from '../../src/index.js';
import type { DigitsSubset } from './workloads.js';
import { CNN_SPEC, flatWeights, smallCnn, workedExample } from './workloads.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
const HERE = dirname(fileURLToPath(import.meta.url)); // dist/test/browser

async function bundle(entry: string, minify = false): Promise<Uint8Array> {
  const r = await build({
    entryPoints: [join(HERE, entry)], bundle: true, platform: 'browser', format: 'esm', write: false, minify,
    logLevel: 'silent',
  });
  return r.outputFiles[0].contents;
}

async function digitsSubset(n: number, nTest: number): Promise<DigitsSubset> {
  const { train, test: t } = await loadDigits();
  return {
    x: Array.from(train.x.data.subarray(0, n * 784)), y: Array.from(train.y.data.subarray(0, n * 10)), n,
    test: Array.from(t.x.data.subarray(0, nTest * 784)), nTest,
  };
}

/** Runs `fn` on the wasm backend in this process, restoring the backend after. */
async function onWasm<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = getBackend().name as BackendName;
  setBackend('wasm');
  try {
    return await fn();
  } finally {
    setBackend(before);
  }
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>dendrite</title><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>';

test('Chromium: bundle of the public entry trains on wasm bit-identically to Node, IndexedDB survives a reload, a worker trains', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  const [pageJs, workerJs, publicMin] = await Promise.all([bundle('page.js'), bundle('worker-entry.js'),
    build({ entryPoints: [join(HERE, '../../src/index.js')], bundle: true, platform: 'browser', format: 'esm', write: false,
      minify: true, logLevel: 'silent' }).then((r) => r.outputFiles[0].contents)]);
  // the minified public entry (core + the wasm module inlined as base64), for the record
  console.log(`# bundle of the public entry, minified: ${(publicMin.length / 1024).toFixed(1)} KiB`);
  for (const b of [pageJs, publicMin]) {
    const text = new TextDecoder().decode(b);
    assert.doesNotMatch(text, /\bfrom\s*["']node:|import\(\s*["']node:|require\(\s*["']node:/, 'no node: import in the bundle');
  }

  // Node's side, on the wasm backend
  const digits = await digitsSubset(96, 12);
  const nodeWorked = await onWasm(() => workedExample());
  const nodeCnn = await onWasm(() => smallCnn(digits));
  const workerRef = await onWasm(() => {
    const m = buildModel(CNN_SPEC);
    m.fit(tensor(Float32Array.from(digits.x), { shape: [digits.n, 1, 28, 28] }), tensor(Float32Array.from(digits.y), { shape: [digits.n, 10] }),
      fitOptionsFromSpec(CNN_SPEC));
    return flatWeights(m);
  });

  const served: string[] = [];
  const server = createServer((req, res) => {
    served.push(req.url!);
    const path = req.url!.split('?')[0];
    if (path.startsWith('/isolated/')) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const file = path.replace(/^\/isolated/, '');
    const type = file.endsWith('.js') ? 'text/javascript' : 'text/html';
    const body = file === '/' ? PAGE : file === '/page.js' ? pageJs : file === '/worker.js' ? workerJs : null;
    if (body === null) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', type);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'dd-wasm-browser-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    context.on('request', (r) => requests.push(r.url()));
    const ready = async (): Promise<void> => { await page.waitForFunction(() => 'workloads' in globalThis); };

    await page.goto(`${origin}/`);
    await ready();
    const env = await page.evaluate(() => {
      const d = (globalThis as unknown as { dendrite: typeof import('../../src/index.js') }).dendrite;
      const be = d.getBackend() as import('../../src/backend/wasm.js').WasmBackend;
      return { backend: be.name, available: d.availableBackends(), isolated: globalThis.crossOriginIsolated,
        threads: be.maxThreads(), why: be.threadInfo() };
    });
    assert.deepEqual(env, { backend: 'wasm', available: ['js', 'wasm'], isolated: false, threads: 1,
      why: 'the page is not cross-origin isolated' });

    type W = typeof import('./workloads.js');
    const worked = await page.evaluate(() => (globalThis as unknown as { workloads: W }).workloads.workedExample());
    assert.deepEqual(worked, nodeWorked, 'worked example: browser wasm = Node wasm, bit for bit');
    const cnn = await page.evaluate(async (d) => {
      const g = globalThis as unknown as { workloads: W; dendrite: typeof import('../../src/index.js') };
      const r = await g.workloads.smallCnn(d);
      await g.dendrite.saveModelToIndexedDB('cnn', r.model, g.workloads.CNN_SPEC);
      return { weights: r.weights, losses: r.losses, predictions: r.predictions };
    }, digits);
    assert.deepEqual(cnn.weights, nodeCnn.weights, 'CNN weights: browser wasm = Node wasm, bit for bit');
    assert.deepEqual(cnn.losses, nodeCnn.losses);
    assert.deepEqual(cnn.predictions, nodeCnn.predictions);

    await page.reload();
    await ready();
    const reloaded = await page.evaluate(async (d) => {
      const g = globalThis as unknown as { workloads: W; dendrite: typeof import('../../src/index.js') };
      const { model } = await g.dendrite.loadModelFromIndexedDB('cnn');
      return g.workloads.predictions(model, d);
    }, digits);
    assert.deepEqual(reloaded, cnn.predictions, 'the model loaded from IndexedDB after a reload predicts identically');
    // a damaged model blob is a ModelFileError in the browser too (WebCrypto checks the checksum)
    const damaged = await page.evaluate(async () => {
      const g = globalThis as unknown as { workloads: W; dendrite: typeof import('../../src/index.js') };
      const { model } = await g.dendrite.loadModelFromIndexedDB('cnn');
      const bytes = await g.dendrite.modelToBytes(model, g.workloads.CNN_SPEC);
      const flipped = bytes.slice();
      flipped[flipped.length - 1] ^= 1;
      const errs: string[] = [];
      for (const b of [new Blob([bytes.slice(0, bytes.length - 8)]), new Blob([flipped])]) {
        try {
          await g.dendrite.loadModelFromBytes(b, 'cnn.bin');
          errs.push('loaded');
        } catch (e) {
          errs.push(`${(e as Error).name}: ${(e as Error).message.replace(/[0-9a-f]{64}/g, 'H')}`);
        }
      }
      return errs;
    });
    assert.match(damaged[0], /^ModelFileError: cnn\.bin: the weights have \d+ bytes, the manifest says \d+ \(truncated or corrupt\)$/);
    assert.equal(damaged[1], 'ModelFileError: cnn.bin: checksum mismatch (corrupt weights): expected sha256 H, computed H');

    // a Web Worker trains the same spec (sync fit in Node), streaming epochs back
    const fromWorker = await page.evaluate(async (d) => {
      const g = globalThis as unknown as { workloads: W; dendrite: typeof import('../../src/index.js') };
      const worker = new Worker('/worker.js', { type: 'module' });
      const epochs: number[] = [];
      const r = await g.dendrite.trainInWorker(worker, {
        spec: g.workloads.CNN_SPEC, x: { data: Float32Array.from(d.x), shape: [d.n, 1, 28, 28] },
        y: { data: Float32Array.from(d.y), shape: [d.n, 10] },
      }, { onEpoch: (log) => epochs.push(log.epoch) });
      worker.terminate();
      const m = g.dendrite.buildModel(g.workloads.CNN_SPEC);
      m.net.setWeights(r.weights);
      return { epochs, weights: g.workloads.flatWeights(m) };
    }, digits);
    assert.deepEqual(fromWorker.epochs, [1, 2]);
    assert.deepEqual(fromWorker.weights, workerRef, 'worker training = Node wasm fit, bit for bit');

    // a cross-origin isolated page: helper threads (Web Workers on the shared memory), same numbers
    const bigGemm = (d: { getBackend(): { gemm: (...args: never[]) => void } }): number[] => {
      const a = Float32Array.from({ length: 64 * 784 }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: 256 * 784 }, (_, i) => Math.cos(3 * i));
      const c = new Float32Array(64 * 256);
      (d.getBackend().gemm as (...args: unknown[]) => void)(false, true, 64, 256, 784, 1, a, b, 0, c);
      return Array.from(c);
    };
    const nodeGemm = await onWasm(() => bigGemm({ getBackend }));
    await page.goto(`${origin}/isolated/`);
    await ready();
    const iso = await page.evaluate(`(() => {
      const be = dendrite.getBackend();
      const run = ${bigGemm.toString()};
      const threaded = run(dendrite);
      be.setThreads(1);
      const single = run(dendrite);
      return { isolated: crossOriginIsolated, threads: be.maxThreads(), hw: navigator.hardwareConcurrency,
        worked: workloads.workedExample(), threaded, single };
    })()`) as { isolated: boolean; threads: number; hw: number; worked: unknown; threaded: number[]; single: number[] };
    assert.equal(iso.isolated, true);
    assert.equal(iso.threads, Math.min(iso.hw, 8));
    assert.deepEqual(iso.worked, nodeWorked);
    assert.deepEqual(iso.threaded, nodeGemm, 'threaded GEMM in the page = Node');
    assert.deepEqual(iso.single, nodeGemm, 'one-thread GEMM in the page = Node');

    assert.deepEqual(problems, [], 'no console errors or warnings');
    // (blob: URLs of this origin are the helper threads' scripts, made in the page)
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith(`blob:${origin}/`));
    assert.deepEqual(foreign, [], 'no request except to the local server');
    assert.ok(served.includes('/page.js') && served.includes('/worker.js'));
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

// keep the bundle inputs honest: the page script is the compiled test file next to this one
test('the page script bundles only the public entry and the shared workloads', () => {
  const src = readFileSync(join(HERE, 'page.js'), 'utf8');
  assert.match(src, /from '\.\.\/\.\.\/src\/index\.js'/);
});
