import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { add } from '../ops/elementwise.js';
import { maskOf } from '../ops/rnn.js';
import { dropoutWithMask, sampleDropMask } from '../ops/dropout.js';
import { checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { CompositeLayer } from './composite.js';
import { MultiHeadAttention, checkDropRate } from './attention.js';
import { LayerNormalization } from './layernorm.js';
import { Dense } from './dense.js';
import { flatSpecActivation } from './activation.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/** Options of a {@link TransformerEncoderBlock} (and {@link TransformerDecoderBlock}). */
export interface TransformerBlockOptions {
  /** Attention heads H (the features F must split into H heads unless keyDim is given). */
  numHeads: number;
  /** Width of the feed-forward hidden layer (PyTorch's dim_feedforward; often 4·F). */
  ffDim: number;
  /** Size of each head's queries and keys (default F / numHeads). */
  keyDim?: number;
  /** Activation of the feed-forward hidden layer: `'relu'` (default, PyTorch's) or `'gelu'`. */
  activation?: 'relu' | 'gelu' | { type: 'relu' | 'gelu' };
  /** Layer norm before each sub-block (pre-norm, GPT-2) instead of after the residual sum (default false, post-norm as in the original paper and PyTorch). */
  normFirst?: boolean;
  /** Dropout rate on the attention weights, after attention, inside and after the feed-forward net (default 0). */
  dropout?: number;
  /** ε of both layer norms (default 1e-5). */
  epsilon?: number;
  /** Mask the future (a decoder-only block); {@link TransformerDecoderBlock} sets it. */
  causal?: boolean;
  /** Name (default `transformerEncoderBlock_N`). */
  name?: string;
}

const BLOCK_KEYS = ['type', 'name', 'numHeads', 'ffDim', 'keyDim', 'activation', 'normFirst', 'dropout', 'epsilon', 'causal'];

/**
 * A Transformer encoder block (PyTorch's `TransformerEncoderLayer` with `batch_first`):
 * self-attention and a position-wise feed-forward network FF(x) = W₂·φ(W₁·x + b₁) + b₂, each with
 * a residual connection and layer normalisation —
 * post-norm: x ← LN₁(x + MHA(x)); x ← LN₂(x + FF(x)); pre-norm: x ← x + MHA(LN₁(x)); x ← x + FF(LN₂(x)).
 * Input [batch, T, F] → [batch, T, F]; an attached padding mask masks keys and passes on.
 *
 * Parameters (prefixed by the part; layouts as in those layers):
 * - `attention.queryWeight` [F, F] … `attention.outputBias` [F] (see {@link MultiHeadAttention})
 * - `norm1.gamma`, `norm1.beta`, `norm2.gamma`, `norm2.beta` [F]
 * - `ff1.weight` [ffDim, F], `ff1.bias` [ffDim], `ff2.weight` [F, ffDim], `ff2.bias` [F]
 * PyTorch's names: self_attn.in_proj_* (query, key, value stacked), self_attn.out_proj.*, norm1,
 * norm2, linear1, linear2.
 *
 * @example
 * ```ts
 * new Sequential([
 *   new Embedding({ inputDim: 64, outputDim: 128 }),
 *   new SinusoidalEncoding(),
 *   new TransformerEncoderBlock({ numHeads: 4, ffDim: 512, activation: 'gelu', normFirst: true }),
 * ], { inputShape: [128] });
 * ```
 */
export class TransformerEncoderBlock extends CompositeLayer {
  readonly type: string = 'transformerEncoderBlock';
  readonly normFirst: boolean;
  readonly dropout: number;
  readonly causal: boolean;
  attention!: MultiHeadAttention;
  norm1!: LayerNormalization;
  norm2!: LayerNormalization;
  ff1!: Dense;
  ff2!: Dense;
  private rng: Rng | null = null;

  constructor(readonly opts: TransformerBlockOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'transformerBlock';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with numHeads and ffDim`);
    checkKeys(opts, BLOCK_KEYS, where);
    this.opts = opts = flatSpecActivation(opts, where);
    checkInt(opts.numHeads, `${where}.numHeads`);
    checkInt(opts.ffDim, `${where}.ffDim`);
    if (opts.activation !== undefined && opts.activation !== 'relu' && opts.activation !== 'gelu') {
      throw new ConfigError(`${where}.activation must be "relu" or "gelu", received ${JSON.stringify(opts.activation)}`);
    }
    for (const k of ['normFirst', 'causal'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ConfigError(`${where}.${k} must be true or false, received ${JSON.stringify(opts[k])}`);
    }
    this.normFirst = opts.normFirst ?? false;
    this.dropout = checkDropRate(opts.dropout, `${where}.dropout`);
    this.causal = opts.causal ?? false;
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(`${this.name} expects sequences [T, features], received input shape ${fmtShape(inputShape)}`);
    }
    const o = this.opts;
    this.rng = ctx.runtimeRng;
    this.attention = this.adopt('attention', new MultiHeadAttention({
      numHeads: o.numHeads, keyDim: o.keyDim, causal: this.causal, dropout: this.dropout,
    }), inputShape, ctx);
    const eps = { epsilon: o.epsilon ?? 1e-5 };
    this.norm1 = this.adopt('norm1', new LayerNormalization(eps), inputShape, ctx);
    this.norm2 = this.adopt('norm2', new LayerNormalization(eps), inputShape, ctx);
    this.ff1 = this.adopt('ff1', new Dense({ units: o.ffDim, activation: o.activation ?? 'relu' }), inputShape, ctx);
    this.ff2 = this.adopt('ff2', new Dense({ units: inputShape[1] }), this.ff1.outputShape, ctx);
    return inputShape;
  }

  private drop(x: Tensor): Tensor {
    if (!this.training || this.dropout === 0 || !this.rng) return x;
    return dropoutWithMask(x, sampleDropMask(x.size, 1 - this.dropout, this.rng), 1 - this.dropout);
  }

  /** The attention weights [batch, H, T, T] of the last forward pass, when `attention.keepWeights` is on. */
  get lastWeights(): Tensor | null {
    return this.attention.lastWeights;
  }

  forward(x: Tensor): Tensor {
    this.checkInput2(x);
    const keyMask = maskOf(x);
    const sa = (h: Tensor): { out: Tensor; w: Tensor | null } => {
      const r = this.attention.attend(h, h, h, { keyMask, returnWeights: this.tracing });
      return { out: this.drop(r.output), w: r.weights };
    };
    const ff = (h: Tensor): Tensor => this.drop(this.ff2.forward(this.drop(this.ff1.forward(h))));
    let h: Tensor;
    let w: Tensor | null;
    if (this.normFirst) {
      const a = sa(this.norm1.forward(x));
      w = a.w;
      h = add(x, a.out);
      h = add(h, ff(this.norm2.forward(h)));
    } else {
      const a = sa(x);
      w = a.w;
      h = this.norm1.forward(add(x, a.out));
      h = this.norm2.forward(add(h, ff(h)));
    }
    return this.traced(undefined, h, w ? { attention: w } : undefined);
  }

  private checkInput2(x: Tensor): void {
    const F = this.inputShape[1];
    if (x.rank !== 3 || x.shape[2] !== F) throw new ShapeError(`${this.name} expects input [*, T, ${F}], received ${fmtShape(x.shape)}`);
  }

  config(): Record<string, unknown> {
    const { name: _n, ...rest } = this.opts;
    return { type: this.type, name: this.name, ...rest };
  }
}

/**
 * A decoder-only (GPT-style) Transformer block: a {@link TransformerEncoderBlock} whose
 * self-attention is causal, so position t sees only positions ≤ t. Same options (without
 * `causal`), parameters and pre-/post-norm choice; stack it for a character or token language model.
 *
 * @example
 * ```ts
 * new Sequential([
 *   new Embedding({ inputDim: 64, outputDim: 64 }),
 *   new PositionEmbedding(),
 *   new TransformerDecoderBlock({ numHeads: 4, ffDim: 256, normFirst: true, activation: 'gelu' }),
 *   new LayerNormalization(),
 *   new Dense({ units: 64, activation: 'softmax' }),
 * ], { inputShape: [64] });
 * ```
 */
export class TransformerDecoderBlock extends TransformerEncoderBlock {
  override readonly type: string = 'transformerDecoderBlock';

  constructor(opts: Omit<TransformerBlockOptions, 'causal'>) {
    if (opts && typeof opts === 'object' && 'causal' in opts) {
      throw new ConfigError(`${opts.name ?? 'transformerDecoderBlock'}: a decoder block is always causal; "causal" is not an option`);
    }
    super({ ...opts, causal: true });
  }

  override config(): Record<string, unknown> {
    const { causal: _c, ...rest } = super.config();
    return rest;
  }
}

registerLayer('transformerEncoderBlock', (s: TransformerBlockOptions) => new TransformerEncoderBlock(s));
registerLayer('transformerDecoderBlock', (s: TransformerBlockOptions) => new TransformerDecoderBlock(s));
