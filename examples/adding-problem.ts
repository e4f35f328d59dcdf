/**
 * The adding problem (Hochreiter & Schmidhuber 1997): each example is a sequence of T steps with
 * two features, a random value in [0, 1) and a marker that is 1 at exactly two steps (one in the
 * first half, one in the second) and 0 elsewhere. The target is the sum of the two marked values.
 * Always answering 1 gives MSE 1/6 ≈ 0.167 (the variance of a sum of two uniforms). The first
 * marked value must be remembered across at least T/2 steps: an LSTM learns it, a simple RNN —
 * whose gradient is multiplied by W_hh once per step on the way back — does not.
 *
 * Run: `npx tsc -p . && node dist/examples/adding-problem.js [T] [epochs]`
 */
import { pathToFileURL } from 'node:url';
import { Adam, Dense, LSTM, Model, Rng, Sequential, SimpleRNN, Tensor } from '../src/index.js';

/**
 * `n` adding-problem sequences of length `steps`: x [n, steps, 2] (value, marker), y [n, 1].
 *
 * @example
 * ```ts
 * const { x, y } = addingProblem(1000, 50, 1);
 * ```
 */
export function addingProblem(n: number, steps: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * steps * 2);
  const y = new Float32Array(n);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < steps; t++) x[(i * steps + t) * 2] = rng.next();
    const a = rng.int(half);
    const b = half + rng.int(steps - half);
    x[(i * steps + a) * 2 + 1] = 1;
    x[(i * steps + b) * 2 + 1] = 1;
    y[i] = x[(i * steps + a) * 2] + x[(i * steps + b) * 2];
  }
  return { x: new Tensor(x, [n, steps, 2]), y: new Tensor(y, [n, 1]) };
}

/** Sizes and training settings of {@link trainAdding}. */
export interface AddingConfig {
  steps: number;
  units: number;
  train: number;
  test: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/** A setting that runs in well under a minute on the JavaScript backend. */
export const SMALL: AddingConfig = { steps: 50, units: 16, train: 1600, test: 400, epochs: 12, batchSize: 32, learningRate: 0.01, seed: 1 };

/**
 * Trains an LSTM or a simple RNN (`units` hidden units, last step only, then a linear output)
 * with Adam and MSE; returns the test MSE and the per-epoch training loss.
 *
 * @example
 * ```ts
 * trainAdding('lstm', SMALL).testMse; // ≈ 0.01
 * ```
 */
export function trainAdding(kind: 'lstm' | 'simpleRNN', cfg: AddingConfig): { testMse: number; losses: number[] } {
  const train = addingProblem(cfg.train, cfg.steps, cfg.seed);
  const test = addingProblem(cfg.test, cfg.steps, cfg.seed + 1000);
  const rnn = kind === 'lstm' ? new LSTM({ units: cfg.units }) : new SimpleRNN({ units: cfg.units });
  const net = new Sequential([rnn, new Dense({ units: 1 })], { inputShape: [cfg.steps, 2], seed: cfg.seed });
  const model = new Model(net, { loss: 'mse', optimizer: new Adam({ learningRate: cfg.learningRate }), seed: cfg.seed });
  const history = model.fit(train.x, train.y, { epochs: cfg.epochs, batchSize: cfg.batchSize, clipNorm: 1 });
  return { testMse: model.evaluate(test.x, test.y).loss, losses: history.epochs.map((e) => e.loss) };
}

function main(): void {
  const steps = Number(process.argv[2] ?? SMALL.steps);
  const epochs = Number(process.argv[3] ?? SMALL.epochs);
  const cfg = { ...SMALL, steps, epochs };
  console.log(`adding problem, T = ${steps}: always predicting 1 gives MSE ≈ 0.167`);
  for (const kind of ['lstm', 'simpleRNN'] as const) {
    const t0 = performance.now();
    const r = trainAdding(kind, cfg);
    const curve = r.losses.map((l) => l.toFixed(3)).join(' ');
    console.log(`${kind.padEnd(9)} test MSE ${r.testMse.toFixed(4)}  (training loss per epoch: ${curve}; ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
