import type { Tensor } from '../tensor/tensor.js';
import { lstm } from '../ops/rnn.js';
import type { RecurrentOpOptions, RecurrentResult } from '../ops/rnn.js';
import { ConfigError } from '../errors.js';
import { RecurrentLayer } from './rnn.js';
import type { RecurrentOptions } from './rnn.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';

/** Options of an {@link LSTM} layer. */
export interface LSTMOptions extends RecurrentOptions {
  /** Initialise the forget-gate bias `bf` to 1 (remember by default; Keras's default). Default true. */
  unitForgetBias?: boolean;
}

/**
 * A long short-term memory layer as the lecture defines it (eq 112–123): forget gate f, input
 * gate (sigmoid i† and tanh i‡), output gate o†, cell state c; every gate reads [h_{t−1}; x_t]
 * with a bias. c_t = f ⊙ c_{t−1} + i† ⊙ i‡, h_t = o† ⊙ tanh(c_t). Trained by backpropagation
 * through time (eq 124–137). Input [batch, T, inputs] (any T); output [batch, T, H] with
 * `returnSequences`, else [batch, H]. While tracing, `record.extra` holds per-step `h`, `c` and
 * `gates` ([batch, T, 4H], order f, i†, i‡, o†), `record.z` the gate pre-activations and, after
 * backward, `record.z.grad` their δ per step.
 *
 * Parameters (the weights-file layout; one matrix and bias per gate):
 * - `Wf`, `Wi`, `Wc`, `Wo` [H, H + inputs]: columns 0..H−1 act on h_{t−1}, the rest on x_t
 *   (`Wi` is the sigmoid input gate i†, `Wc` the tanh candidate i‡)
 * - `bf`, `bi`, `bc`, `bo` [H]
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new LSTM({ units: 32 }),              // last step only
 *   new Dense({ units: 1 }),
 * ], { inputShape: [50, 2] });
 * ```
 */
export class LSTM extends RecurrentLayer {
  readonly type = 'lstm';
  Wf!: Tensor; Wi!: Tensor; Wc!: Tensor; Wo!: Tensor;
  bf!: Tensor; bi!: Tensor; bc!: Tensor; bo!: Tensor;

  constructor(readonly opts: LSTMOptions) {
    super(opts, 'lstm', ['unitForgetBias']);
    if (opts.unitForgetBias !== undefined && typeof opts.unitForgetBias !== 'boolean') {
      throw new ConfigError(`${opts.name ?? 'lstm'}.unitForgetBias must be true or false, received ${JSON.stringify(opts.unitForgetBias)}`);
    }
  }

  protected createParams(inputs: number, ctx: BuildContext): void {
    this.Wf = this.addParam('Wf', this.gateMatrix(inputs, 4, ctx));
    this.Wi = this.addParam('Wi', this.gateMatrix(inputs, 4, ctx));
    this.Wc = this.addParam('Wc', this.gateMatrix(inputs, 4, ctx));
    this.Wo = this.addParam('Wo', this.gateMatrix(inputs, 4, ctx));
    this.bf = this.addParam('bf', this.biasInit(ctx));
    if (this.opts.unitForgetBias ?? true) this.bf.data.fill(1);
    this.bi = this.addParam('bi', this.biasInit(ctx));
    this.bc = this.addParam('bc', this.biasInit(ctx));
    this.bo = this.addParam('bo', this.biasInit(ctx));
  }

  protected run(x: Tensor, opts: RecurrentOpOptions): RecurrentResult {
    const { Wf, Wi, Wc, Wo, bf, bi, bc, bo } = this;
    return lstm(x, { Wf, Wi, Wc, Wo, bf, bi, bc, bo }, opts);
  }
}

registerLayer('lstm', (s: LSTMOptions) => new LSTM(s));
