#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner, once per
// backend: js always, wasm and native too when they load (DENDRITE_BACKEND set by the caller
// restricts the run to that backend). The WebAssembly module is (re)built into dist first
// (scripts/build-wasm.mjs: quick when it is up to date), since tsc emits only its placeholder. Node 20's runner takes no globs, so the files are listed
// here. Extra arguments filter test files by path.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((s) => relative(root, f).includes(s))) : files;
if (chosen.length === 0) {
  console.error(`no test files matched ${filters.join(' ')}`);
  process.exit(1);
}

const built = spawnSync(process.execPath, [new URL('./build-wasm.mjs', import.meta.url).pathname], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const { availableBackends } = await import('../dist/src/backend/index.js');
const backends = process.env.DENDRITE_BACKEND ? [process.env.DENDRITE_BACKEND] : availableBackends();
if (!process.env.DENDRITE_BACKEND && !backends.includes('native')) {
  console.log('# the native backend is not available here: running the suite on the js backend only');
}
// The Chromium tests run after the others, one at a time: they measure the page's frame
// intervals while it trains, which a second test process competing for the two cores would distort.
const inChromium = (f) => /^(web|browser)[\\/]|report-browser/.test(relative(root, f));
const groups = [[chosen.filter((f) => !inChromium(f)), 2], [chosen.filter(inChromium), 1]].filter(([fs]) => fs.length);
let failed = false;
for (const backend of backends) {
  console.log(`# test suite on the ${backend} backend`);
  for (const [group, concurrency] of groups) {
    const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...group], {
      stdio: 'inherit',
      env: { ...process.env, DENDRITE_BACKEND: backend },
    });
    if (r.status !== 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
