#!/usr/bin/env node
// Builds the package's JavaScript and type declarations (dist/src) with TypeScript.
//
// `npm pack` / `npm publish` run it as `prepack`, so the tarball ships dist/src and a consumer's
// install never compiles anything. `npm install <this folder>` links the folder and runs only its
// `prepare` script, which calls this with --if-missing: a clone that was never built gets built,
// a built one is left alone.
//
// A fresh clone has no TypeScript (a dev dependency) until `npm install` runs in it; then its
// dev dependencies are installed here first (as npm does for a git dependency), from npm's cache
// when it can.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv.includes('--if-missing') && existsSync(join(root, 'dist/src/index.js'))) process.exit(0);

function findTsc() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: cleanEnv() });
  if (r.status !== 0) {
    process.stderr.write(`dendrite: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

// An outer npm's settings (e.g. a consumer's `--global`, `--save`) must not leak into the nested
// install; the cache, registry and offline settings should.
function cleanEnv() {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_offline', 'npm_config_prefer_offline', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())));
}

let tsc = findTsc();
if (!tsc) {
  process.stderr.write('dendrite: TypeScript is not installed in this folder; installing the dev dependencies to build dist/\n');
  const npm = process.env.npm_execpath;
  if (npm && existsSync(npm)) run(process.execPath, [npm, 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--include=dev']);
  else run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--include=dev']);
  tsc = findTsc();
  if (!tsc) {
    process.stderr.write('dendrite: TypeScript is still not installed; run `npm install` in this folder first\n');
    process.exit(1);
  }
}
run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')]);
// the WebAssembly backend, as a module inside dist/ (without clang + lld it records why, and the
// library falls back to another backend at run time)
run(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')]);
