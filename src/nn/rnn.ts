import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, keepTensor, noGrad } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { getBackend } from '../backend/index.js';
import { mul } from '../ops/elementwise.js';
import { concat, reshape, slice } from '../ops/shape.js';
import { sampleDropMask } from '../ops/dropout.js';
import { maskOf, simpleRnn } from '../ops/rnn.js';
import type { RecurrentOpOptions, RecurrentResult, RnnActivation } from '../ops/rnn.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer, checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { LayerActivation, flatSpecActivation } from './activation.js';
import { checkKeys, checkObject, checkUnitInterval } from '../validate.js';

/** An initialiser for recurrent weight matrices: any {@link Initializer}, or `'orthogonal'`. */
export type RecurrentInitializer = Initializer | 'orthogonal';

/** Options every recurrent layer (simpleRNN, lstm, gru) shares; names as in TensorFlow.js. */
export interface RecurrentOptions {
  /** Number of hidden units H. */
  units: number;
  /** Name (default `<type>_N`). */
  name?: string;
  /** Return the hidden state of every step [batch, T, H] (true) or only the last [batch, H] (false, default). */
  returnSequences?: boolean;
  /**
   * Keep the final state of each batch as the initial state of the next call (gradients stop
   * there), until {@link RecurrentLayer.resetStates}. The batch size must then stay the same.
   */
  stateful?: boolean;
  /**
   * Variational dropout on the inputs: one mask per sequence, the same at every step. Given as
   * the drop rate 1 − ρ (TensorFlow.js's name; default 0); the layer works with ρ, the lecture's
   * keep probability.
   */
  dropout?: number;
  /** Variational dropout on the recurrent connections h_{t−1}, as the drop rate 1 − ρ (default 0). */
  recurrentDropout?: number;
  /** Initialiser of the input weights (default `glorotUniform`). */
  kernelInitializer?: Initializer;
  /** Initialiser of the recurrent weights (default `'orthogonal'`). */
  recurrentInitializer?: RecurrentInitializer;
  /** Initialiser of the biases (default `zeros`). */
  biasInitializer?: Initializer;
}

/** The carried state of a stateful layer. */
interface CarriedState {
  batch: number;
  h: Float32Array;
  c: Float32Array | null;
}

/**
 * The variational dropout mask of n values for keep probability ρ: a DropMask ~ Bernoulli(ρ)
 * (Algorithm 2) scaled once by 1/ρ, so it multiplies the values it keeps (inverted dropout).
 */
function scaledDropMask(n: number, keepProb: number, rng: Rng): Float32Array {
  const m = sampleDropMask(n, keepProb, rng);
  getBackend().scale(m, 1 / keepProb, m);
  return m;
}

const RECURRENT_KEYS = ['type', 'name', 'units', 'returnSequences', 'stateful', 'dropout', 'recurrentDropout', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer'];

/**
 * What the recurrent layers share: input checks ([batch, T, features], any T), the padding mask,
 * stateful carrying of the state, variational dropout masks, returning every step or the last,
 * and tracing (z, a and per-step `h`/`c`/`gates` in `record.extra`; δ per step in `record.z.grad`).
 * Subclasses create their parameters and run their op.
 *
 * @example
 * ```ts
 * for (const l of net.layers) if (l instanceof RecurrentLayer) l.resetStates();
 * ```
 */
export abstract class RecurrentLayer extends Layer {
  readonly units: number;
  readonly returnSequences: boolean;
  /** Whether the final state of one call initialises the next (see {@link RecurrentLayer.resetStates}). */
  stateful: boolean;
  /** The input dropout rate as configured (1 − ρ; the API name). */
  readonly dropout: number;
  /** The recurrent dropout rate as configured (1 − ρ). */
  readonly recurrentDropout: number;
  /** Keep probabilities ρ of the inputs and of h_{t−1} (1 = no dropout): what the layer computes with. */
  readonly keepProb: { input: number; recurrent: number };
  /** Dropout masks in use ([batch, features] on the inputs, [batch, H] on h_{t−1}), for inspection. */
  lastMasks: { input: Float32Array | null; recurrent: Float32Array | null } = { input: null, recurrent: null };
  /** A recurrent layer reads the padding mask (masked steps carry the state) and, returning only the last state, uses it up. */
  override readonly consumesMask = true;
  protected runtimeRng: Rng | null = null;
  private carried: CarriedState | null = null;

  constructor(protected readonly ropts: RecurrentOptions, defaultName: string, extraKeys: readonly string[] = []) {
    super(ropts.name);
    const where = ropts.name ?? defaultName;
    checkKeys(checkObject(ropts, where), [...RECURRENT_KEYS, ...extraKeys], where);
    this.units = checkInt(ropts.units, `${where}.units`);
    if (ropts.returnSequences !== undefined && typeof ropts.returnSequences !== 'boolean') {
      throw new ConfigError(`${where}.returnSequences must be true or false, received ${JSON.stringify(ropts.returnSequences)}`);
    }
    if (ropts.stateful !== undefined && typeof ropts.stateful !== 'boolean') {
      throw new ConfigError(`${where}.stateful must be true or false, received ${JSON.stringify(ropts.stateful)}`);
    }
    this.returnSequences = ropts.returnSequences ?? false;
    this.stateful = ropts.stateful ?? false;
    this.dropout = checkUnitInterval(ropts.dropout ?? 0, `${where}.dropout`);
    this.recurrentDropout = checkUnitInterval(ropts.recurrentDropout ?? 0, `${where}.recurrentDropout`);
    // the rates are accepted at the API edge only: from here on, keep probabilities
    this.keepProb = { input: 1 - this.dropout, recurrent: 1 - this.recurrentDropout };
    checkInitializer(ropts.kernelInitializer ?? 'glorotUniform', `${where}.kernelInitializer`);
    if (ropts.recurrentInitializer !== 'orthogonal') checkInitializer(ropts.recurrentInitializer ?? 'zeros', `${where}.recurrentInitializer`);
    checkInitializer(ropts.biasInitializer ?? 'zeros', `${where}.biasInitializer`);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(`${this.name} expects sequences [T, features], received input shape ${fmtShape(inputShape)}`);
    }
    this.runtimeRng = ctx.runtimeRng;
    this.createParams(inputShape[1], ctx);
    return this.returnSequences ? [inputShape[0], this.units] : [this.units];
  }

  /** Creates the parameters for `inputs` features per step. */
  protected abstract createParams(inputs: number, ctx: BuildContext): void;

  /** Runs the layer's op over a (dropout-masked) sequence. */
  protected abstract run(x: Tensor, opts: RecurrentOpOptions): RecurrentResult;

  /**
   * Forgets the carried state (and the per-sequence dropout masks) of a stateful layer: the next
   * call starts from zeros, with any batch size.
   *
   * @example
   * ```ts
   * lstm.resetStates(); // before the first chunk of new sequences
   * ```
   */
  resetStates(): void {
    this.carried = null;
    this.lastMasks = { input: null, recurrent: null };
  }

  /**
   * The carried state of a stateful layer ({h, c} as [batch, H]; c only for an LSTM), or null.
   * @example `lstm.getStates()?.h.shape // [batch, units]`
   */
  getStates(): { h: Tensor; c: Tensor | null } | null {
    const s = this.carried;
    if (!s) return null;
    return { h: new Tensor(Float32Array.from(s.h), [s.batch, this.units]), c: s.c ? new Tensor(Float32Array.from(s.c), [s.batch, this.units]) : null };
  }

  /** Input weights of a [H, inputs] block with fans for G gates. */
  protected kernel(shape: readonly number[], fanIn: number, fanOut: number, ctx: BuildContext): Tensor {
    return initialize(this.ropts.kernelInitializer ?? 'glorotUniform', shape, fanIn, fanOut, ctx.rng);
  }

  /** A recurrent [H, H] block. */
  protected recurrentKernel(ctx: BuildContext): Float32Array {
    const init = this.ropts.recurrentInitializer ?? 'orthogonal';
    if (init === 'orthogonal') return ctx.rng.orthogonal(this.units);
    return initialize(init, [this.units, this.units], this.units, this.units, ctx.rng).data;
  }

  /** A bias of H values. */
  protected biasInit(ctx: BuildContext): Tensor {
    return initialize(this.ropts.biasInitializer ?? 'zeros', [this.units], this.units, this.units, ctx.rng);
  }

  /**
   * A gate matrix [H, H + inputs] acting on [h; x]: recurrent init in the h-columns, kernel init
   * (fans inputs → gates·H) in the x-columns.
   */
  protected gateMatrix(inputs: number, gates: number, ctx: BuildContext): Tensor {
    const H = this.units;
    const wh = this.recurrentKernel(ctx);
    const wx = this.kernel([H, inputs], inputs, gates * H, ctx).data;
    return noGrad(() => concat([new Tensor(wh, [H, H]), new Tensor(wx, [H, inputs])], 1));
  }

  private checkSequence(x: Tensor): void {
    const F = this.inputShape[1];
    if (x.rank !== 3 || x.shape[2] !== F || x.shape[1] < 1) {
      throw new ShapeError(`${this.name} expects input [*, T, ${F}] (sequences of ${F} features per step), received ${fmtShape(x.shape)}`);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkSequence(x);
    const [batch, steps, features] = x.shape;
    const H = this.units;
    const s = this.stateful ? this.carried : null;
    if (s && s.batch !== batch) {
      throw new ShapeError(`${this.name} is stateful and carries the state of a batch of ${s.batch} sequences, but received a batch of ${batch}; keep the batch size fixed between calls (e.g. drop the last partial batch) or call resetStates() first`);
    }
    const mask = maskOf(x);
    let xin = x;
    let recurrentMask: Float32Array | null = null;
    const { input: inputKeep, recurrent: recurrentKeep } = this.keepProb;
    if (this.training && (inputKeep < 1 || recurrentKeep < 1)) {
      const reuse = this.stateful && s !== null;
      const rng = this.runtimeRng!;
      const inputMask = inputKeep < 1 ? (reuse && this.lastMasks.input ? this.lastMasks.input : scaledDropMask(batch * features, inputKeep, rng)) : null;
      const recurrentDrop = recurrentKeep < 1 ? (reuse && this.lastMasks.recurrent ? this.lastMasks.recurrent : scaledDropMask(batch * H, recurrentKeep, rng)) : null;
      this.lastMasks = { input: inputMask, recurrent: recurrentDrop };
      if (inputMask) xin = mul(x, new Tensor(inputMask, [batch, 1, features]));
      recurrentMask = recurrentDrop;
    }
    const r = this.run(xin, {
      h0: s ? new Tensor(s.h, [batch, H]) : null,
      c0: s && s.c ? new Tensor(s.c, [batch, H]) : null,
      mask,
      recurrentMask,
      keepTrace: this.tracing,
    });
    if (this.stateful) {
      this.carried = { batch: batch, h: keepTensor(r.hT).data, c: r.cT ? Float32Array.from(r.cT.data) : null };
    }
    // a sequence output keeps the steps: the network hands the input's mask on with it
    const out = this.returnSequences ? r.output : reshape(slice(r.output, 1, steps - 1, steps), [batch, H]);
    if (!this.tracing || !r.trace) return out;
    const extra: Record<string, Tensor> = { h: r.trace.h };
    if (r.trace.c) extra.c = r.trace.c;
    if (r.trace.gates) extra.gates = r.trace.gates;
    return this.traced(r.trace.z, out, extra);
  }

  config(): Record<string, unknown> {
    const { name: _n, ...rest } = this.ropts;
    return { type: this.type, name: this.name, ...rest, returnSequences: this.returnSequences, stateful: this.stateful };
  }
}

/** The activations a {@link SimpleRNN} accepts. @example `const a: SimpleRNNActivation = 'relu';` */
export type SimpleRNNActivation = 'tanh' | 'logistic' | 'sigmoid' | 'relu' | 'leakyRelu' | 'linear';

/** Options of a {@link SimpleRNN} layer. */
export interface SimpleRNNOptions extends RecurrentOptions {
  /** φ of eq 110: `tanh` (default), `logistic`/`sigmoid`, `relu`, `leakyRelu` or `linear`, or a spec object `{ type: 'leakyRelu', alpha: 0.2 }`. */
  activation?: SimpleRNNActivation | { type: SimpleRNNActivation; alpha?: number };
  /** Leaky ReLU slope (default 0.01). */
  alpha?: number;
}

const RNN_ACTIVATIONS: Record<string, RnnActivation> = {
  tanh: 'tanh', logistic: 'logistic', sigmoid: 'logistic', relu: 'relu', leakyRelu: 'leakyRelu', linear: 'linear',
};

/**
 * The simple (Elman) recurrent layer of eq 110: h_t = φ(W_hh·h_{t−1} + W_hx·x_t + w_0), trained
 * by backpropagation through time. Input [batch, T, inputs] (any T); output [batch, T, H] with
 * `returnSequences`, else the last step [batch, H]. A padding mask on the input (from a `masking`
 * or `embedding` layer) carries h through masked steps.
 *
 * Parameters (the weights-file layout):
 * - `Whx` [H, inputs]: input → hidden (row j: neuron j's input weights)
 * - `Whh` [H, H]: memory buffer h_{t−1} → hidden
 * - `bias` [H]: w_0
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new SimpleRNN({ units: 8, returnSequences: true }),
 *   new Dense({ units: 1 }),                     // applied at every step
 * ], { inputShape: [20, 3] });
 * ```
 */
export class SimpleRNN extends RecurrentLayer {
  readonly type = 'simpleRNN';
  readonly activation: RnnActivation;
  Whx!: Tensor;
  Whh!: Tensor;
  bias!: Tensor;

  constructor(readonly opts: SimpleRNNOptions) {
    super((opts = flatSpecActivation(opts, opts?.name ?? 'simpleRNN')), 'simpleRNN', ['activation', 'alpha']);
    const act = (opts.activation ?? 'tanh') as string;
    if (!Object.hasOwn(RNN_ACTIVATIONS, act)) {
      throw new ConfigError(`${opts.name ?? 'simpleRNN'}.activation must be one of ${Object.keys(RNN_ACTIVATIONS).join(', ')}, received ${JSON.stringify(act)}`);
    }
    this.activation = RNN_ACTIVATIONS[act];
  }

  protected createParams(inputs: number, ctx: BuildContext): void {
    this.Whx = this.addParam('Whx', this.kernel([this.units, inputs], inputs, this.units, ctx));
    this.Whh = this.addParam('Whh', new Tensor(this.recurrentKernel(ctx), [this.units, this.units]));
    this.bias = this.addParam('bias', this.biasInit(ctx));
  }

  protected run(x: Tensor, opts: RecurrentOpOptions): RecurrentResult {
    return simpleRnn(x, this.Whx, this.Whh, this.bias, this.activation, { ...opts, alpha: this.opts.alpha });
  }

  override config(): Record<string, unknown> {
    return { ...super.config(), activation: this.opts.activation ?? 'tanh' };
  }

  /** φ of eq 110, for inspection (∂a/∂z of the traced steps). */
  override activationOf(): LayerActivation {
    return new LayerActivation({ activation: this.activation, alpha: this.opts.alpha }, -1, () => undefined);
  }
}

registerLayer('simpleRNN', (s: SimpleRNNOptions) => new SimpleRNN(s));
