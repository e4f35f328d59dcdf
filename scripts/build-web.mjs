// Builds the playground (web/) into dist/playground: the page, its stylesheet, the esbuild
// bundles of the compiled page and worker scripts (dist/web/*.js, from `tsc -p .`), and a small
// subset of the bundled digits (the mnist package) as a binary file:
// uint32 nTrain · uint32 nTest · nTrain×784 pixels · nTrain labels · nTest×784 pixels · nTest labels.
// Usage: node scripts/build-web.mjs [outDir]
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIGITS_TRAIN_SUBSET = 600;
export const DIGITS_TEST_SUBSET = 200;

/** Writes the playground into `out` (default dist/playground); returns the directory. */
export async function buildPlayground(out = join(ROOT, 'dist/playground')) {
  const { build } = await import('esbuild');
  const entry = (f) => join(ROOT, 'dist/web', f);
  if (!existsSync(entry('main.js'))) throw new Error('dist/web/main.js is missing: run `npx tsc -p .` first');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { playground: entry('main.js'), worker: entry('worker.js') }, bundle: true, platform: 'browser',
    format: 'esm', minify: true, keepNames: true, outdir: out, logLevel: 'warning',
  });
  copyFileSync(join(ROOT, 'web/index.html'), join(out, 'index.html'));
  copyFileSync(join(ROOT, 'web/playground.css'), join(out, 'playground.css'));
  const { loadDigits } = await import(join(ROOT, 'dist/src/index.js'));
  const { train, test } = await loadDigits();
  const bytes = (t, n) => Uint8Array.from(t.x.data.subarray(0, n * 784), (v) => Math.round(v * 255));
  const labels = (t, n) => Uint8Array.from({ length: n }, (_, i) => t.labels ? t.labels[i] : t.y.data.subarray(i * 10, i * 10 + 10).indexOf(1));
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, DIGITS_TRAIN_SUBSET, true);
  new DataView(head.buffer).setUint32(4, DIGITS_TEST_SUBSET, true);
  writeFileSync(join(out, 'digits.bin'), Buffer.concat([head, bytes(train, DIGITS_TRAIN_SUBSET), labels(train, DIGITS_TRAIN_SUBSET),
    bytes(test, DIGITS_TEST_SUBSET), labels(test, DIGITS_TEST_SUBSET)]));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildPlayground(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`playground built in ${out}`);
}
