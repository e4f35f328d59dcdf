import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { keepTensor } from '../tensor/tensor.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { affine } from '../ops/matmul.js';
import { add } from '../ops/elementwise.js';
import { permute, reshape } from '../ops/shape.js';
import { maskOf } from '../ops/rnn.js';
import { causalMask, paddingMask, scaledDotProductAttention } from '../ops/attention.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer, checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/** Options of a {@link MultiHeadAttention} layer (Keras names). */
export interface MultiHeadAttentionOptions {
  /** Number of heads H. */
  numHeads: number;
  /** Size d_k of each head's queries and keys (default: input features / numHeads). */
  keyDim?: number;
  /** Size d_v of each head's values (default keyDim). */
  valueDim?: number;
  /** Output features (default: the query's features). */
  outputDim?: number;
  /** Biases on the four projections (default true). */
  useBias?: boolean;
  /** Mask future positions: query t attends to keys ≤ t (default false). */
  causal?: boolean;
  /** Dropout rate on the attention weights in training (default 0). */
  dropout?: number;
  /** Initialiser of the projection weights (default `glorotUniform`). */
  kernelInitializer?: Initializer;
  /** Name (default `multiHeadAttention_N`). */
  name?: string;
}

/** Options of one {@link MultiHeadAttention.attend} call. */
export interface AttendOptions {
  /** 0/1 key mask [batch, S] (1 = real token, 0 = padding): padded keys get no attention. */
  keyMask?: Tensor | null;
  /** Mask the future for this call (default: the layer's `causal` option). */
  causal?: boolean;
  /** Also return the attention weights [batch, H, T, S] (default false). */
  returnWeights?: boolean;
}

/** What {@link MultiHeadAttention.attend} returns. */
export interface AttendResult {
  /** [batch, T, outputDim]. */
  output: Tensor;
  /** The attention weights [batch, H, T, S] of every head (rows sum to 1), or null unless asked for. */
  weights: Tensor | null;
}

/** Validates a drop rate in [0, 1) (shared with the Transformer blocks). @example `checkDropRate(0.1, "mha.dropout") // 0.1` */
export function checkDropRate(v: unknown, where: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) {
    throw new ConfigError(`${where} must be a drop rate in [0, 1), received ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Multi-head scaled dot-product attention ("Attention is all you need"): for H heads,
 * Q_h = query·W_qhᵀ + b_qh, K_h = key·W_khᵀ + b_kh, V_h = value·W_vhᵀ + b_vh,
 * head_h = softmax(Q_h·K_hᵀ/√d_k + mask)·V_h, output = [head_1 … head_H]·W_oᵀ + b_o.
 *
 * In a {@link Sequential} model it is self-attention over [batch, T, F] (query = key = value =
 * its input; a padding mask attached by `Embedding({maskZero})` masks padded keys and passes on);
 * {@link MultiHeadAttention.attend} takes separate query, key and value and returns the weights.
 * A query that may attend to no key at all (every key padded, or left padding under a causal
 * mask) gets NaN weights: pad at the end of sequences.
 * Set `keepWeights` to keep the weights of each forward pass in `lastWeights` (for a heatmap).
 *
 * Parameters (rows are output units, PyTorch's layout; head h owns rows h·d … (h+1)·d − 1):
 * - `queryWeight` [H·d_k, F_q], `queryBias` [H·d_k]
 * - `keyWeight` [H·d_k, F_k], `keyBias` [H·d_k]
 * - `valueWeight` [H·d_v, F_v], `valueBias` [H·d_v]
 * - `outputWeight` [outputDim, H·d_v], `outputBias` [outputDim]
 * PyTorch's `in_proj_weight` [3E, E] is queryWeight, keyWeight and valueWeight stacked in that
 * order (likewise `in_proj_bias`); `out_proj` is outputWeight/outputBias. Biases are absent with
 * `useBias: false`.
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new Embedding({ inputDim: 64, outputDim: 32 }),
 *   new MultiHeadAttention({ numHeads: 4, causal: true }),
 *   new Dense({ units: 64, activation: 'softmax' }),
 * ], { inputShape: [16] });
 * ```
 */
export class MultiHeadAttention extends Layer {
  readonly type = 'multiHeadAttention';
  readonly numHeads: number;
  readonly causal: boolean;
  readonly dropout: number;
  keyDim = 0;
  valueDim = 0;
  outputDim = 0;
  queryWeight!: Tensor;
  keyWeight!: Tensor;
  valueWeight!: Tensor;
  outputWeight!: Tensor;
  queryBias: Tensor | null = null;
  keyBias: Tensor | null = null;
  valueBias: Tensor | null = null;
  outputBias: Tensor | null = null;
  /** Keep the attention weights of each forward pass in {@link MultiHeadAttention.lastWeights}. */
  keepWeights = false;
  /** The attention weights [batch, H, T, S] of the last forward pass when `keepWeights` is on. */
  lastWeights: Tensor | null = null;
  private rng: Rng | null = null;

  constructor(readonly opts: MultiHeadAttentionOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'multiHeadAttention';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with numHeads`);
    checkKeys(opts, ['type', 'name', 'numHeads', 'keyDim', 'valueDim', 'outputDim', 'useBias', 'causal', 'dropout', 'kernelInitializer'], where);
    this.numHeads = checkInt(opts.numHeads, `${where}.numHeads`);
    for (const k of ['keyDim', 'valueDim', 'outputDim'] as const) if (opts[k] !== undefined) checkInt(opts[k], `${where}.${k}`);
    for (const k of ['useBias', 'causal'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ConfigError(`${where}.${k} must be true or false, received ${JSON.stringify(opts[k])}`);
    }
    this.causal = opts.causal ?? false;
    this.dropout = checkDropRate(opts.dropout, `${where}.dropout`);
    checkInitializer(opts.kernelInitializer ?? 'glorotUniform', `${where}.kernelInitializer`);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(`${this.name} expects sequences [T, features], received input shape ${fmtShape(inputShape)}`);
    }
    const F = inputShape[1];
    const H = this.numHeads;
    if (this.opts.keyDim === undefined && F % H !== 0) {
      throw new ConfigError(`${this.name}: ${F} input features do not split into ${H} heads; give keyDim`);
    }
    this.keyDim = this.opts.keyDim ?? F / H;
    this.valueDim = this.opts.valueDim ?? this.keyDim;
    this.outputDim = this.opts.outputDim ?? F;
    this.rng = ctx.runtimeRng;
    const init = this.opts.kernelInitializer ?? 'glorotUniform';
    const bias = this.opts.useBias ?? true;
    const proj = (key: string, rows: number, cols: number): [Tensor, Tensor | null] => [
      this.addParam(`${key}Weight`, initialize(init, [rows, cols], cols, rows, ctx.rng)),
      bias ? this.addParam(`${key}Bias`, initialize('zeros', [rows], cols, rows, ctx.rng)) : null,
    ];
    [this.queryWeight, this.queryBias] = proj('query', H * this.keyDim, F);
    [this.keyWeight, this.keyBias] = proj('key', H * this.keyDim, F);
    [this.valueWeight, this.valueBias] = proj('value', H * this.valueDim, F);
    [this.outputWeight, this.outputBias] = proj('output', this.outputDim, H * this.valueDim);
    return [inputShape[0], this.outputDim];
  }

  /** [batch, T, F] → per-head [batch, H, T, d] through one projection. */
  private heads(x: Tensor, w: Tensor, b: Tensor | null, d: number): Tensor {
    const [n, T, F] = x.shape;
    const y = affine(reshape(x, [n * T, F]), w, b);
    return permute(reshape(y, [n, T, this.numHeads, d]), [0, 2, 1, 3]);
  }

  private checkSeq(x: Tensor, what: string): void {
    const F = this.inputShape[1];
    if (x.rank !== 3 || x.shape[2] !== F) {
      throw new ShapeError(`${this.name} expects ${what} [*, T, ${F}], received ${fmtShape(x.shape)}`);
    }
  }

  /**
   * Attention of `query` [batch, T, F] over `key` [batch, S, F] and `value` [batch, S, F]
   * (the same feature count as the layer was built for).
   *
   * @example
   * ```ts
   * const { output, weights } = mha.attend(x, x, x, { causal: true, returnWeights: true });
   * ```
   */
  attend(query: Tensor, key: Tensor, value: Tensor, opts: AttendOptions = {}): AttendResult {
    this.checkSeq(query, 'query');
    this.checkSeq(key, 'key');
    this.checkSeq(value, 'value');
    const [n, T] = query.shape;
    const S = key.shape[1];
    if (key.shape[0] !== n || value.shape[0] !== n || value.shape[1] !== S) {
      throw new ShapeError(`${this.name}: query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must share the batch, and key and value the length`);
    }
    let mask: Tensor | undefined;
    if (opts.causal ?? this.causal) mask = causalMask(T, S);
    if (opts.keyMask) {
      if (opts.keyMask.rank !== 2 || opts.keyMask.shape[0] !== n || opts.keyMask.shape[1] !== S) {
        throw new ShapeError(`${this.name}: the key mask must be [batch, S] = [${n}, ${S}], received ${fmtShape(opts.keyMask.shape)}`);
      }
      const pad = paddingMask(opts.keyMask);
      mask = mask ? add(pad, mask) : pad;
    }
    const q = this.heads(query, this.queryWeight, this.queryBias, this.keyDim);
    const k = this.heads(key, this.keyWeight, this.keyBias, this.keyDim);
    const v = this.heads(value, this.valueWeight, this.valueBias, this.valueDim);
    const training = this.training && this.dropout > 0;
    const r = scaledDotProductAttention(q, k, v, {
      mask,
      keepProb: training ? 1 - this.dropout : 1,
      rng: this.rng ?? undefined,
    });
    const hv = this.numHeads * this.valueDim;
    const merged = reshape(permute(r.output, [0, 2, 1, 3]), [n * T, hv]);
    const output = reshape(affine(merged, this.outputWeight, this.outputBias), [n, T, this.outputDim]);
    if (this.keepWeights) this.lastWeights = keepTensor(r.weights);
    return { output, weights: opts.returnWeights ? r.weights : null };
  }

  /** Self-attention over x [batch, T, F]; an attached padding mask masks the keys and passes on. */
  forward(x: Tensor): Tensor {
    const keyMask = maskOf(x);
    const r = this.attend(x, x, x, { keyMask, returnWeights: this.tracing });
    return this.traced(undefined, r.output, r.weights ? { attention: r.weights } : undefined);
  }

  config(): Record<string, unknown> {
    const { name: _n, ...rest } = this.opts;
    return { type: this.type, name: this.name, ...rest };
  }
}

registerLayer('multiHeadAttention', (s: MultiHeadAttentionOptions) => new MultiHeadAttention(s));
