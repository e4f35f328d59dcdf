import type { Tensor } from '../tensor/tensor.js';
import { gru } from '../ops/rnn.js';
import type { RecurrentOpOptions, RecurrentResult } from '../ops/rnn.js';
import { RecurrentLayer } from './rnn.js';
import type { RecurrentOptions } from './rnn.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';

/** Options of a {@link GRU} layer. */
export type GRUOptions = RecurrentOptions;

/**
 * A gated recurrent unit layer (Cho et al. 2014; not in the lecture, expected by every
 * Keras/TF.js/PyTorch user): z = σ(W_z·[h;x] + b_z) (update gate), r = σ(W_r·[h;x] + b_r) (reset
 * gate), n = tanh(W_h·[r ⊙ h_{t−1}; x_t] + b_h) (candidate), h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n.
 * The reset gate multiplies h_{t−1} before the candidate's matrix (Cho's original form, Keras's
 * `resetAfter: false`). Input [batch, T, inputs]; output [batch, T, H] with `returnSequences`,
 * else [batch, H]. While tracing, `record.extra.gates` holds z, r, n per step ([batch, T, 3H]).
 *
 * Parameters (the weights-file layout, the same convention as the LSTM's):
 * - `Wz`, `Wr`, `Wh` [H, H + inputs]: columns 0..H−1 act on h_{t−1} (for `Wh`: on r ⊙ h_{t−1}),
 *   the rest on x_t
 * - `bz`, `br`, `bh` [H]
 *
 * @example
 * ```ts
 * new Sequential([new GRU({ units: 16 }), new Dense({ units: 1 })], { inputShape: [30, 4] });
 * ```
 */
export class GRU extends RecurrentLayer {
  readonly type = 'gru';
  Wz!: Tensor; Wr!: Tensor; Wh!: Tensor;
  bz!: Tensor; br!: Tensor; bh!: Tensor;

  constructor(readonly opts: GRUOptions) {
    super(opts, 'gru');
  }

  protected createParams(inputs: number, ctx: BuildContext): void {
    this.Wz = this.addParam('Wz', this.gateMatrix(inputs, 3, ctx));
    this.Wr = this.addParam('Wr', this.gateMatrix(inputs, 3, ctx));
    this.Wh = this.addParam('Wh', this.gateMatrix(inputs, 3, ctx));
    this.bz = this.addParam('bz', this.biasInit(ctx));
    this.br = this.addParam('br', this.biasInit(ctx));
    this.bh = this.addParam('bh', this.biasInit(ctx));
  }

  protected run(x: Tensor, opts: RecurrentOpOptions): RecurrentResult {
    const { Wz, Wr, Wh, bz, br, bh } = this;
    return gru(x, { Wz, Wr, Wh, bz, br, bh }, opts);
  }
}

registerLayer('gru', (s: GRUOptions) => new GRU(s));
