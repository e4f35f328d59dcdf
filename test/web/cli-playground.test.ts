// `dendrite playground` serves the built page on 127.0.0.1 and prints its URL; `dendrite predict`
// reads a single model file (the playground's download).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Dense, Model, SGD, Sequential, modelToBytes, parseSpec, tensor } from '../../src/index.js';
import { CLI, ROOT, WORKED, files, run, tmp } from '../cli/helpers.js';

test('dendrite playground --port 0 prints a 127.0.0.1 URL that serves the page, its scripts and the digits subset', { timeout: 60_000 }, async () => {
  const { buildPlayground } = await import(pathToFileURL(join(ROOT, 'scripts/build-web.mjs')).href) as { buildPlayground(): Promise<string> };
  await buildPlayground();
  const child = spawn(process.execPath, [CLI, 'playground', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
        if (m) ok(m[0]);
      });
      child.on('exit', (code) => fail(new Error(`exited with ${code}`)));
    });
    const page = await (await fetch(url)).text();
    assert.match(page, /<title>dendrite playground/);
    for (const f of ['playground.js', 'worker.js', 'playground.css']) assert.equal((await fetch(url + f)).status, 200, f);
    const digits = new Uint8Array(await (await fetch(`${url}digits.bin`)).arrayBuffer());
    assert.equal(digits.length, 8 + 600 * 785 + 200 * 785);
    assert.equal((await fetch(`${url}../../etc/passwd`)).status, 404);
  } finally {
    child.kill();
  }
});

test('dendrite playground: a bad --port is a ConfigError', () => {
  const r = run(['playground', '--port', '70000']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /playground: --port must be an integer in \[0, 65535\] \(0 = any free port\), received "70000"/);
});

test('dendrite predict reads a single model file (the playground download)', async () => {
  const dir = tmp();
  const spec = parseSpec(JSON.parse((await import('node:fs')).readFileSync(WORKED.spec, 'utf8')));
  const net = new Sequential([new Dense({ units: 3, activation: 'logistic', name: 'h1' }), new Dense({ units: 2, activation: 'logistic', name: 'h2' }),
    new Dense({ units: 1, activation: 'logistic', name: 'out' })], { inputShape: [2] });
  const model = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.2 }) });
  const file = join(dir, 'm.dendrite');
  writeFileSync(file, await modelToBytes(model, spec));
  const { d } = files(dir, { d: 'a,b\n0.84,0.58\n' });
  const r = run(['predict', file, '--data', d, '--json']);
  assert.equal(r.status, 0, r.stderr);
  // --json prints float32 values at their shortest round-trip precision
  const want = model.predict(tensor([[0.84, 0.58]])).data[0];
  const got = (JSON.parse(r.stdout) as { predictions: { prediction: number[] }[] }).predictions[0].prediction[0];
  assert.equal(Math.fround(got), want, r.stdout);
});
