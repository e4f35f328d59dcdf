/**
 * The W-MLP training step in Chromium (Debian's, through playwright-core), on the wasm backend of
 * the esbuild bundle, in a cross-origin isolated page (helper threads) and a plain one (one
 * thread), next to the same step in Node on the wasm backend:
 *
 *   npm run build && node dist/bench/browser.js [--warmup 20] [--batches 200]
 *
 * Prints a markdown table of examples per second. The machine is shared: run it when it is quiet.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { setBackend } from '../src/index.js';
import { mlpSteps } from './browser-page.js';

const { values } = parseArgs({ options: { warmup: { type: 'string', default: '20' }, batches: { type: 'string', default: '200' } } });
const warmup = Number(values.warmup);
const batches = Number(values.batches);
const HERE = dirname(fileURLToPath(import.meta.url));

const js = (await build({ entryPoints: [join(HERE, 'browser-page.js')], bundle: true, platform: 'browser', format: 'esm', write: false, minify: true }))
  .outputFiles[0].contents;
const server = createServer((req, res) => {
  if (req.url!.startsWith('/isolated/')) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  const file = req.url!.replace(/^\/isolated/, '');
  res.setHeader('Content-Type', file.endsWith('.js') ? 'text/javascript' : 'text/html');
  res.end(file === '/page.js' ? js : '<!doctype html><link rel="icon" href="data:,"><script type="module" src="page.js"></script>');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const profile = mkdtempSync(join(tmpdir(), 'dd-bench-browser-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const rows: string[] = [];
try {
  const page = context.pages()[0] ?? await context.newPage();
  for (const [label, path] of [['Chromium, cross-origin isolated', '/isolated/'], ['Chromium, not isolated', '/']]) {
    await page.goto(origin + path);
    await page.waitForFunction(() => 'mlpSteps' in globalThis);
    const r = await page.evaluate(([w, b]) => (globalThis as unknown as { mlpSteps: typeof mlpSteps }).mlpSteps(w, b), [warmup, batches]);
    rows.push(`| ${label} | ${r.backend}, ${r.threads} thread${r.threads > 1 ? 's' : ''} | ${Math.round(r.examplesPerSecond).toLocaleString('en-US')} |`);
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
setBackend('wasm');
const n = mlpSteps(warmup, batches);
rows.push(`| Node ${process.versions.node} | ${n.backend}, ${n.threads} thread${n.threads > 1 ? 's' : ''} | ${Math.round(n.examplesPerSecond).toLocaleString('en-US')} |`);
console.log(`W-MLP training step (batch 64), ${batches} batches after ${warmup}: examples/s`);
console.log('| where | backend | examples/s |\n|---|---|---:|');
for (const r of rows) console.log(r);
