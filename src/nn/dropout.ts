import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { checkKeepProb, dropoutWithMask } from '../ops/dropout.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkKeys, checkObject } from '../validate.js';

/**
 * Options of a {@link Dropout} layer. Give the lecture's keep probability `keepProb` (ρ) or
 * TensorFlow.js's drop `rate` (= 1 − ρ), not both.
 */
export interface DropoutOptions {
  /** ρ, the probability that a neuron is kept, in (0, 1]. Lecture: 0.8 for inputs, 0.5 for hidden layers. */
  keepProb?: number;
  /** TF.js/Keras spelling: the probability that a neuron is dropped, in [0, 1); ρ = 1 − rate. */
  rate?: number;
  /** Name (default `dropout_N`). */
  name?: string;
}

/**
 * Resolves ρ from {@link DropoutOptions}, with a `ConfigError` naming `where` for bad values.
 *
 * @example
 * ```ts
 * keepProbOf({ rate: 0.2 }, 'dropout_1');     // 0.8
 * keepProbOf({ keepProb: 0.5 }, 'dropout_1'); // 0.5
 * ```
 */
export function keepProbOf(opts: DropoutOptions, where: string): number {
  if (opts.keepProb !== undefined && opts.rate !== undefined) {
    throw new ConfigError(`${where}: give either keepProb (ρ) or rate (= 1 − ρ), not both; received keepProb ${JSON.stringify(opts.keepProb)} and rate ${JSON.stringify(opts.rate)}`);
  }
  if (opts.rate !== undefined) {
    const r = opts.rate;
    if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r >= 1) {
      throw new ConfigError(`${where}: rate (the drop probability, 1 − ρ) must be in [0, 1) so that the keep probability ρ is in (0, 1], received ${JSON.stringify(r)}`);
    }
    return 1 - r;
  }
  if (opts.keepProb === undefined) throw new ConfigError(`${where}: needs keepProb (ρ, the probability of keeping a neuron, in (0, 1]) or rate (= 1 − ρ)`);
  return checkKeepProb(opts.keepProb, `${where}.keepProb`);
}

/**
 * Inverted dropout (the lecture's Algorithm 2) on the activations that enter the next layer.
 * In training mode every forward pass draws a fresh DropMask ~ Bernoulli(ρ) per example and per
 * neuron from the model's seeded runtime generator, multiplies the activations by it and scales
 * them by 1/ρ; the backward pass multiplies δ by the same mask and 1/ρ, so dropped neurons pass
 * no gradient. In inference mode (`eval()`, which `predict()`/`evaluate()` switch on) it is the
 * identity. Works on inputs of any shape (each element has its own mask value).
 *
 * No parameters. Input shape = output shape.
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new Dropout({ keepProb: 0.8 }),                       // on the inputs
 *   new Dense({ units: 64, activation: 'relu' }),
 *   new Dropout({ keepProb: 0.5 }),                       // on a hidden layer
 *   new Dense({ units: 3, activation: 'softmax' }),
 * ], { inputShape: [4], seed: 1 });
 * ```
 */
export class Dropout extends Layer {
  readonly type = 'dropout';
  /** ρ, the keep probability. */
  readonly keepProb: number;
  private rng: Rng | null = null;
  /** The last training-mode mask; `maskSeen` once {@link Dropout.lastMask} handed it out. */
  private mask: Float32Array | null = null;
  private maskSeen = false;

  /**
   * The mask of the last training-mode forward pass (0/1 per element), for inspection; null after
   * an inference-mode pass. An array read here is never written again (the layer draws its next
   * mask into a new one); one nobody read is reused, so training allocates no mask per step.
   */
  get lastMask(): Float32Array | null {
    this.maskSeen = true;
    return this.mask;
  }

  constructor(opts: DropoutOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'dropout';
    checkKeys(checkObject(opts, where), ['type', 'name', 'keepProb', 'rate'], where);
    this.keepProb = keepProbOf(opts, where);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    this.rng = ctx.runtimeRng;
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (!this.training || this.keepProb === 1) {
      this.mask = null;
      return this.traced(undefined, x);
    }
    if (!this.rng) throw new ConfigError(`${this.name} was not built: add it to a Sequential model before running it`);
    const reuse = this.mask !== null && !this.maskSeen && this.mask.length === x.size;
    const mask = this.rng.bernoulli(reuse ? this.mask! : new Float32Array(x.size), this.keepProb);
    this.mask = mask;
    this.maskSeen = false;
    return this.traced(undefined, dropoutWithMask(x, mask, this.keepProb));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, keepProb: this.keepProb };
  }
}

registerLayer('dropout', (s: DropoutOptions) => new Dropout(s));
