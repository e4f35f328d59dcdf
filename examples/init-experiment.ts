// The lecture's weight-initialisation experiment ("Weight Initialization and Unstable Gradients",
// Figures 23–27, eq 64–70): a deep network of 2 inputs → 5 hidden layers of 100 neurons → 1 output,
// 100 standardised examples, one training iteration. For each initialisation it prints the
// variance of z that eq 64 predicts next to the measured one, and the δs by layer.
//
//   node dist/examples/init-experiment.js [--html OUT.html]
import { pathToFileURL } from 'node:url';
import { Dense, Model, Rng, SGD, Sequential, tensor, inspectModel, formatDynamics, writeReport, diagnose } from '../src/index.js';
import type { ActivationName, DynamicsReport, Initializer, Tensor } from '../src/index.js';

/** One run of the experiment: hidden activation and weight initialiser. */
export interface InitExperiment {
  name: string;
  title: string;
  activation: ActivationName;
  init: Initializer;
}

/** The four runs of Figures 24–27. */
export const INIT_EXPERIMENTS: InitExperiment[] = [
  { name: 'normal-0.01', title: 'Figure 24: linear neurons, weights from N(0, 0.01²)', activation: 'linear', init: { type: 'randomNormal', mean: 0, stddev: 0.01 } },
  { name: 'normal-0.2', title: 'Figure 25: linear neurons, weights from N(0, 0.2²)', activation: 'linear', init: { type: 'randomNormal', mean: 0, stddev: 0.2 } },
  { name: 'xavier', title: 'Figure 26: linear neurons, Xavier initialisation (var 2/(n_in + n_out))', activation: 'linear', init: 'glorotNormal' },
  { name: 'relu-he', title: 'Figure 27: ReLUs, He initialisation (var 2/n_in)', activation: 'relu', init: 'heNormal' },
];

/** Standardises each column of a [rows, cols] array to mean 0 and variance 1 (in place). */
function standardise(rows: number[][]): number[][] {
  for (let j = 0; j < rows[0].length; j++) {
    const m = rows.reduce((s, r) => s + r[j], 0) / rows.length;
    const sd = Math.sqrt(rows.reduce((s, r) => s + (r[j] - m) ** 2, 0) / rows.length);
    for (const r of rows) r[j] = (r[j] - m) / sd;
  }
  return rows;
}

/** 100 examples with two standardised features and a standardised target. */
export function experimentData(seed = 7, n = 100): { x: Tensor; y: Tensor } {
  const rng = new Rng(seed);
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i < n; i++) {
    const temp = rng.normal(0, 1);
    const humidity = -0.5 * temp + rng.normal(0, 1);
    xs.push([temp, humidity]);
    ys.push([-0.9 * temp + 0.2 * humidity + rng.normal(0, 0.2)]);
  }
  return { x: tensor(standardise(xs)), y: tensor(standardise(ys)) };
}

/** The network of Figure 23 with the given activation and initialiser (biases 0). */
export function experimentModel(e: InitExperiment, seed = 1, hidden = 5, units = 100): Model {
  const layers = [];
  for (let i = 1; i <= hidden; i++) layers.push(new Dense({ units, activation: e.activation, kernelInitializer: e.init, name: `hl${i}` }));
  layers.push(new Dense({ units: 1, activation: 'linear', kernelInitializer: e.init, name: 'out' }));
  return new Model(new Sequential(layers, { inputShape: [2], seed }), { loss: 'sse', optimizer: new SGD({ learningRate: 0.01 }) });
}

/** Runs one experiment: the layer dynamics of the first training iteration. */
export function runInitExperiment(e: InitExperiment, seed = 1): { model: Model; report: DynamicsReport } {
  const { x, y } = experimentData();
  const model = experimentModel(e, seed);
  return { model, report: inspectModel(model, x, y) };
}

function main(): void {
  const htmlAt = process.argv.indexOf('--html');
  for (const e of INIT_EXPERIMENTS) {
    const { model, report } = runInitExperiment(e);
    console.log(`\n${e.title}\n${formatDynamics(report)}`);
    const { x, y } = experimentData();
    const diagnostics = diagnose(model, x, y);
    for (const w of diagnostics.warnings) console.log(`warning: ${w.message}`);
    if (htmlAt > 0) {
      const path = process.argv[htmlAt + 1].replace(/\.html$/, '') + `-${e.name}.html`;
      writeReport(path, { model, dynamics: report, diagnostics, title: e.title });
      console.log(`report: ${path}`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
