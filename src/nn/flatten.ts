import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { ConfigError } from '../errors.js';
import { reshape } from '../ops/shape.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkKeys } from '../validate.js';

/** Options of a {@link Flatten} layer. @example `const o: FlattenOptions = { name: 'to_dense' };` */
export interface FlattenOptions {
  /** Name (default `flatten_N`). */
  name?: string;
}

/**
 * Flattens each example to a vector in row-major order: [batch, C, H, W] → [batch, C·H·W]
 * (element (c, h, w) goes to c·H·W + h·W + w), so dense layers can follow convolutions. No
 * parameters; the gradient is reshaped back. A trace records its output a (no weighted sums).
 *
 * @example
 * ```ts
 * new Sequential([new Conv2D({ filters: 2, kernelSize: 3 }), new Flatten(), new Dense({ units: 10, activation: 'softmax' })],
 *   { inputShape: [1, 6, 6] });
 * ```
 */
export class Flatten extends Layer {
  readonly type = 'flatten';

  constructor(opts: FlattenOptions = {}) {
    super(opts?.name);
    if (!opts || typeof opts !== 'object') throw new ConfigError(`flatten needs an options object, received ${JSON.stringify(opts)}`);
    checkKeys(opts, ['type', 'name'], opts.name ?? 'flatten');
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    return [shapeSize(inputShape)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(undefined, reshape(x, [x.shape[0], this.outputShape[0]]));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name };
  }
}

registerLayer('flatten', (s: FlattenOptions) => new Flatten(s));
