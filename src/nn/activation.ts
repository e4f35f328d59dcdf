import type { Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/create.js';
import type { ActivationName } from '../ops/activations.js';
import { checkActivation, gelu, identity, leakyRelu, logistic, prelu, relu, softmax, tanh, threshold } from '../ops/activations.js';
import { ConfigError } from '../errors.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';

/** Activation options shared by layers that end in an activation. */
export interface ActivationOptions {
  /** Activation name; default `'linear'`. */
  activation?: ActivationName;
  /** Leaky ReLU slope (default 0.01). */
  alpha?: number;
  /** Threshold θ of the McCulloch–Pitts unit (default 0). */
  theta?: number;
  /** Initial PReLU slope λ for every neuron (default 0.25). */
  preluInit?: number;
}

/**
 * Applies a named activation to z. A PReLU needs its slope tensor λ (one per neuron).
 * Shared by dense, convolutional and recurrent layers so every layer supports every activation.
 */
export function applyActivation(name: ActivationName, z: Tensor, opts: ActivationOptions, lambda?: Tensor): Tensor {
  switch (name) {
    case 'linear': return identity(z);
    case 'logistic': case 'sigmoid': return logistic(z);
    case 'tanh': return tanh(z);
    case 'relu': return relu(z);
    case 'gelu': return gelu(z);
    case 'leakyRelu': return leakyRelu(z, opts.alpha ?? 0.01);
    case 'threshold': return threshold(z, opts.theta ?? 0);
    case 'softmax': return softmax(z);
    case 'prelu':
      if (!lambda) throw new ConfigError('prelu activation needs a slope parameter');
      return prelu(z, lambda);
  }
}

/** Validates activation options for a layer; returns the activation name. */
export function checkActivationOptions(opts: ActivationOptions, where: string): ActivationName {
  const name = checkActivation(opts.activation ?? 'linear', `${where}.activation`);
  if (opts.alpha !== undefined && (typeof opts.alpha !== 'number' || !Number.isFinite(opts.alpha))) {
    throw new ConfigError(`${where}.alpha must be a finite number, received ${JSON.stringify(opts.alpha)}`);
  }
  if (opts.theta !== undefined && (typeof opts.theta !== 'number' || !Number.isFinite(opts.theta))) {
    throw new ConfigError(`${where}.theta must be a finite number, received ${JSON.stringify(opts.theta)}`);
  }
  return name;
}

/** Creates the PReLU slope parameter λ (one per neuron) when the activation is `prelu`. */
export function makePreluSlope(name: ActivationName, units: number, opts: ActivationOptions): Tensor | undefined {
  return name === 'prelu' ? full([units], opts.preluInit ?? 0.25, { requiresGrad: true }) : undefined;
}

/**
 * A standalone activation layer (e.g. `conv2d → activation('relu') → maxPool2d`).
 * Parameters: `lambda` [channels or units] only for `prelu`.
 *
 * @example
 * ```ts
 * new Activation({ activation: 'relu' });
 * ```
 */
export class Activation extends Layer {
  readonly type = 'activation';
  readonly activation: ActivationName;
  private lambda?: Tensor;

  constructor(readonly opts: ActivationOptions & { name?: string }) {
    super(opts.name);
    this.activation = checkActivationOptions(opts, opts.name ?? 'activation');
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    const units = inputShape[inputShape.length - 1];
    const l = makePreluSlope(this.activation, units, this.opts);
    if (l) this.lambda = this.addParam('lambda', l);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(x, applyActivation(this.activation, x, this.opts, this.lambda));
  }

  override forwardLogits(x: Tensor): Tensor | null {
    return this.activation === 'softmax' ? x : null;
  }

  override endsInSoftmax(): boolean {
    return this.activation === 'softmax';
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, activation: this.activation };
  }
}
