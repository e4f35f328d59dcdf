import assert from 'node:assert/strict';
import { Tensor, Rng, tensor, noGrad } from '../../src/index.js';
import { mul, sum } from '../../src/ops/index.js';

/**
 * Checks the analytic gradients of `f` at `inputs` against central finite differences.
 * The scalar checked is Σ f(inputs) ⊙ r for a fixed random r, so every output element counts.
 * Tolerances suit float32: |analytic − numeric| ≤ atol + rtol·|numeric|.
 */
export function gradCheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number; skip?: number[] } = {},
): void {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  const rng = new Rng(opts.seed ?? 7);
  for (const x of inputs) {
    x.requiresGrad = true;
    x.grad = null;
  }
  const out0 = f(...inputs);
  const r = tensor(Array.from({ length: out0.size }, () => rng.uniform(-1, 1)), { shape: out0.shape });
  const loss = out0.size === 1 && out0.rank === 0 ? out0 : sum(mul(out0, r));
  loss.backward();
  const scalar = (): number =>
    noGrad(() => {
      const o = f(...inputs);
      let s = 0;
      for (let i = 0; i < o.size; i++) s += o.data[i] * (out0.size === 1 && out0.rank === 0 ? 1 : r.data[i]);
      return s;
    });
  inputs.forEach((x, xi) => {
    if (opts.skip?.includes(xi)) return;
    assert.ok(x.grad, `input ${xi} received no gradient`);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      x.data[i] = old + eps;
      const fp = scalar();
      x.data[i] = old - eps;
      const fm = scalar();
      x.data[i] = old;
      const num = (fp - fm) / (2 * eps);
      const ana = x.grad!.data[i];
      assert.ok(
        Math.abs(ana - num) <= atol + rtol * Math.abs(num),
        `input ${xi}[${i}]: analytic ${ana} vs numeric ${num}`,
      );
    }
  });
}

/** Asserts two arrays are elementwise within tol. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

/** Random tensor with values in [-1, 1). */
export function randT(shape: number[], seed = 1, lo = -1, hi = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => rng.uniform(lo, hi)), { shape });
}
