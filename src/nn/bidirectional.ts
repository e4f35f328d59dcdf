import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { concat, reverse } from '../ops/shape.js';
import { attachMask, maskOf } from '../ops/rnn.js';
import type { BuildContext } from './module.js';
import { CompositeLayer } from './composite.js';
import { RecurrentLayer } from './rnn.js';
import type { RecurrentOptions } from './rnn.js';
import { checkKeys, show } from '../validate.js';
import { LAYER_FACTORIES, registerLayer } from './registry.js';
import type { LayerSpec } from './registry.js';

/** Options of a {@link Bidirectional} wrapper. */
export interface BidirectionalOptions {
  /** The recurrent layer run forwards in time (a `SimpleRNN`, `LSTM` or `GRU`, not yet built); a twin with the same options runs backwards. */
  layer: RecurrentLayer;
  /** How the two directions combine: `'concat'` (default: [forward, backward] features) or `'sum'`. */
  mergeMode?: 'concat' | 'sum';
  /** Name (default `bidirectional_N`). */
  name?: string;
}

type RecurrentCtor = new (opts: RecurrentOptions) => RecurrentLayer;

/**
 * Runs a recurrent layer over the sequence forwards and a twin (same options, its own weights)
 * over the reversed sequence, and merges the two: with `returnSequences`, step t of the output
 * combines the forward state after x₁…x_t with the backward state after x_T…x_t; without it, the
 * two final states. Padding at the end of a sequence (a mask from `Embedding({maskZero})`) comes
 * first for the backward twin, which holds its zero state through it. Stateful layers are not
 * supported.
 *
 * Input [batch, T, F] → [batch, (T,) 2·units] with `'concat'`, [batch, (T,) units] with `'sum'`.
 * Parameters: the wrapped layer's, prefixed `forward.` and `backward.` (e.g. `forward.weight`).
 *
 * @example
 * ```ts
 * new Sequential([
 *   new Embedding({ inputDim: 64, outputDim: 16 }),
 *   new Bidirectional({ layer: new LSTM({ units: 32, returnSequences: true }) }),
 *   new Dense({ units: 5, activation: 'softmax' }),
 * ], { inputShape: [20] });
 * ```
 */
export class Bidirectional extends CompositeLayer {
  readonly type = 'bidirectional';
  readonly mergeMode: 'concat' | 'sum';
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;

  constructor(opts: BidirectionalOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'bidirectional';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with a recurrent layer`);
    checkKeys(opts, ['type', 'name', 'layer', 'mergeMode'], where);
    if (!(opts.layer instanceof RecurrentLayer)) {
      throw new ConfigError(`${where}.layer must be a SimpleRNN, LSTM or GRU layer, received ${opts.layer === null || typeof opts.layer !== 'object' ? JSON.stringify(opts.layer) : (opts.layer as { type?: string }).type ?? 'an object'}`);
    }
    if (opts.layer.stateful) throw new ConfigError(`${where}: a stateful recurrent layer cannot run backwards; set stateful: false`);
    if (opts.mergeMode !== undefined && opts.mergeMode !== 'concat' && opts.mergeMode !== 'sum') {
      throw new ConfigError(`${where}.mergeMode must be "concat" or "sum", received ${JSON.stringify(opts.mergeMode)}`);
    }
    this.mergeMode = opts.mergeMode ?? 'concat';
    this.forwardLayer = opts.layer;
    const { type: _t, name: _n, ...layerOpts } = opts.layer.config();
    this.backwardLayer = new (opts.layer.constructor as RecurrentCtor)(layerOpts as unknown as RecurrentOptions);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    const out = this.adopt('forward', this.forwardLayer, inputShape, ctx);
    this.adopt('backward', this.backwardLayer, inputShape, ctx);
    const shape = [...out.outputShape];
    if (this.mergeMode === 'concat') shape[shape.length - 1] *= 2;
    return shape;
  }

  forward(x: Tensor): Tensor {
    const mask = maskOf(x);
    const f = this.forwardLayer.forward(x);
    const xr = attachMask(reverse(x, 1), mask ? reverse(mask, 1) : undefined);
    let b = this.backwardLayer.forward(xr);
    if (this.forwardLayer.returnSequences) b = reverse(b, 1);
    const merged = this.mergeMode === 'concat' ? concat([f, b], -1) : add(f, b);
    return this.traced(undefined, merged);
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, layer: this.forwardLayer.config(), mergeMode: this.mergeMode };
  }
}

// the wrapped layer is a nested spec, built by its own factory
registerLayer('bidirectional', (s, where) => {
  const inner = s.layer as LayerSpec | undefined;
  const make = inner && typeof inner === 'object' && typeof inner.type === 'string' ? LAYER_FACTORIES[inner.type] : undefined;
  if (!make || !['simpleRNN', 'lstm', 'gru'].includes(inner!.type)) {
    throw new ConfigError(`${where}.layer must be a simpleRNN, lstm or gru layer spec, received ${show(inner)}`);
  }
  return new Bidirectional({ ...(s as object), layer: make(inner!, `${where}.layer`) } as unknown as BidirectionalOptions);
});
