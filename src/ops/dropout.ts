import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { be, record } from './graph.js';

/**
 * Throws a `ConfigError` naming `where` unless ρ (the keep probability) is in (0, 1]; returns ρ.
 *
 * @example
 * ```ts
 * checkKeepProb(0.8, 'dropout_1'); // 0.8
 * checkKeepProb(0, 'dropout_1');   // ConfigError: dropout_1: the keep probability ρ must be in (0, 1], received 0
 * ```
 */
export function checkKeepProb(rho: unknown, where: string): number {
  if (typeof rho !== 'number' || !Number.isFinite(rho) || !(rho > 0) || rho > 1) {
    throw new ConfigError(`${where}: the keep probability ρ must be in (0, 1], received ${JSON.stringify(rho)}`);
  }
  return rho;
}

/**
 * Samples a DropMask of n values, each 1 with probability ρ and 0 otherwise (Bernoulli(ρ),
 * Algorithm 2 line 2), from the seeded generator `rng`.
 *
 * @example
 * ```ts
 * const mask = sampleDropMask(6, 0.5, new Rng(1)); // e.g. Float32Array [1, 0, 0, 1, 1, 0]
 * ```
 */
export function sampleDropMask(n: number, rho: number, rng: Rng): Float32Array {
  checkKeepProb(rho, 'sampleDropMask');
  return rng.bernoulli(be().allocUninit(n), rho);
}

/**
 * Inverted dropout with a given mask (Algorithm 2 with the backward pass as LECTURE-NOTES.md
 * corrects it): forward a'' = a ⊙ DropMask / ρ; backward δ' = δ ⊙ DropMask / ρ, so no gradient
 * flows through a dropped neuron. `mask` holds 0/1 values, one per element of `x`.
 *
 * @example
 * ```ts
 * dropoutWithMask(tensor([[1, 2, 3, 4]]), Float32Array.from([1, 0, 1, 0]), 0.5).toArray(); // [[2, 0, 6, 0]]
 * ```
 */
export function dropoutWithMask(x: Tensor, mask: Float32Array, rho: number): Tensor {
  checkKeepProb(rho, 'dropout');
  if (mask.length !== x.size) {
    throw new ShapeError(`dropout: the mask has ${mask.length} elements but the input ${fmtShape(x.shape)} has ${x.size}`);
  }
  const B = be();
  // the mask scaled once by 1/ρ serves forward and backward alike
  const scaled = B.allocUninit(mask.length);
  B.scale(mask, 1 / rho, scaled);
  const flat = [x.size];
  const out = B.allocUninit(x.size);
  B.binary('mul', x.data, [1], scaled, [1], out, flat);
  return record('dropout', out, x.shape, [x], (g) => {
    const dx = B.allocUninit(g.length);
    B.binary('mul', g, [1], scaled, [1], dx, flat);
    return [dx];
  }, [scaled]);
}
