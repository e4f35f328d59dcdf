import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng, Sequential, Tensor, buildModel, noGrad, saveModel } from '../../src/index.js';
import type { Layer, Model, ModelSpec } from '../../src/index.js';

/** Debian's Python with python3-onnx and python3-torch. */
export const PYTHON = '/usr/bin/python3';

/** Runs a Python script with arguments; fails the test with its stderr when it exits non-zero. */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  return r.stdout;
}

/**
 * Gives every parameter and state tensor random values (biases and batch-norm statistics too, so
 * a layout mistake in any of them shows); variances stay positive.
 */
export function randomizeWeights(net: Sequential, seed = 7): void {
  const rng = new Rng(seed);
  for (const l of net.layers as Layer[]) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) {
      for (let i = 0; i < t.size; i++) t.data[i] = k === 'movingVariance' ? 0.5 + rng.next() : rng.normal(0, 0.5);
    }
  }
}

/** A random batch [n, ...shape] (integers in [0, classes) when `classes` is given: embedding indices). */
export function randomInput(shape: readonly number[], n: number, seed = 3, classes?: number): Tensor {
  const rng = new Rng(seed);
  const size = n * shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(size);
  for (let i = 0; i < size; i++) d[i] = classes ? Math.floor(rng.next() * classes) : rng.normal(0, 1);
  return new Tensor(d, [n, ...shape]);
}

/** The network's inference output. */
export function infer(net: Sequential, x: Tensor): Tensor {
  net.eval();
  return noGrad(() => net.forward(x));
}

/** Asserts |a − b| ≤ tol·max|b| elementwise (relative to the output's scale), naming `what`. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} values, expected ${b.length}`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const bound = tol * Math.max(scale, 1e-6);
  for (let i = 0; i < b.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= bound, `${what}: element ${i} is ${a[i]}, expected ${b[i]} (|Δ| ${Math.abs(a[i] - b[i])} > ${bound})`);
  }
}

/** A model of `spec` with random weights, saved to `dir/m`; returns the model and the directory. */
export function savedRandomModel(dir: string, spec: ModelSpec, seed: number): { model: Model; path: string } {
  const model = buildModel(spec);
  randomizeWeights(model.net, seed);
  const path = join(dir, 'm');
  saveModel(path, model, spec);
  return { model, path };
}
