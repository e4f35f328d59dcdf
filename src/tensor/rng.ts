import { ConfigError } from '../errors.js';

/** Serializable state of an {@link Rng}: four unsigned 32-bit words (xoshiro128**). */
export type RngState = [number, number, number, number];

/**
 * Seeded pseudo-random generator (xoshiro128**, seeded by splitmix32). All randomness in dendrite
 * (initialisation, shuffling, dropout masks) comes from one of these, so the same seed gives
 * bit-identical results. Its state can be saved and restored (checkpoints).
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.uniform(-0.5, 0.5); rng.normal(0, 1); rng.int(10);
 * ```
 */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 1) {
    if (!Number.isFinite(seed)) throw new ConfigError(`Rng seed must be a finite number, received ${seed}`);
    let x = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Fills `out` with Bernoulli(p) draws, 1 with probability p and 0 otherwise (one {@link Rng.next}
   * per element, in order: element i is 1 when the i-th draw is below p). Returns `out`.
   *
   * @example
   * ```ts
   * new Rng(1).bernoulli(new Float32Array(6), 0.5); // e.g. Float32Array [1, 0, 0, 1, 1, 0]
   * ```
   */
  bernoulli(out: Float32Array, p: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.next() < p ? 1 : 0;
    return out;
  }

  /**
   * A random orthogonal n × n matrix, row-major (Gram–Schmidt, applied twice for accuracy, on a
   * matrix of standard normal draws): the usual initialisation of recurrent weights, which neither
   * shrinks nor grows a vector multiplied through it many times.
   *
   * @example
   * ```ts
   * const q = new Rng(1).orthogonal(3); // q·qᵀ = I up to float32 rounding
   * ```
   */
  orthogonal(n: number): Float32Array {
    const q = new Float64Array(n * n);
    for (let i = 0; i < q.length; i++) q[i] = this.normal(0, 1);
    for (let i = 0; i < n; i++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let j = 0; j < i; j++) {
          let d = 0;
          for (let k = 0; k < n; k++) d += q[i * n + k] * q[j * n + k];
          for (let k = 0; k < n; k++) q[i * n + k] -= d * q[j * n + k];
        }
      }
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * q[i * n + k];
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < n; k++) q[i * n + k] *= inv;
    }
    return Float32Array.from(q);
  }

  /** Uniform float in [a, b). */
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.next();
  }

  /** Normal sample with mean `mean` and standard deviation `std` (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Copy of the generator's state (for checkpoints). */
  getState(): { s: RngState; spare: number | null } {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  /** Restores a state from {@link Rng.getState}. */
  setState(state: { s: RngState; spare: number | null }): void {
    this.s.set(state.s);
    this.spare = state.spare;
  }

  /** An independent generator derived from this one (consumes one draw). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
