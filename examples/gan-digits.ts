/**
 * A generative adversarial network (Goodfellow et al. 2014; the lecture's further reading) on the
 * bundled handwritten digits, trained with the custom-training-loop API: two networks, two
 * optimisers, losses computed by hand, `backward`, `optimizer.step`, `optimizer.zeroGrad`.
 *
 * - Generator (a PyTorch-style custom module): noise z [32] → dense 64·7·7, ReLU → reshape
 *   [64, 7, 7] → Conv2DTranspose 32 4×4 stride 2 ('same', → 14×14), batch norm, ReLU →
 *   UpSampling2D ×2 (→ 28×28) → conv 1 3×3 'same', sigmoid → an image [1, 28, 28] in [0, 1].
 * - Discriminator (Sequential): conv 32 4×4 stride 2, leaky ReLU → conv 64 4×4 stride 2, leaky ReLU
 *   → flatten → dense 1 (a logit: "real").
 * - The standard non-saturating loss: D minimises BCE(D(x), 1) + BCE(D(G(z)), 0); G minimises
 *   BCE(D(G(z)), 1) (rather than −BCE(D(G(z)), 0), which saturates early). BCE from logits
 *   (`sigmoidCrossEntropy`). Adam, α = 2·10⁻⁴, β1 = 0.5 (the DCGAN setting). While G trains, D is
 *   frozen (`trainable = false`), so its weights get no gradients.
 *
 * Writes an HTML report with grids of 32 generated digits (the same noise each time) at several
 * points of training, and the two losses per epoch.
 *
 *   npx tsc -p . && node dist/examples/gan-digits.js [--epochs 30] [--report gan-digits.html]
 *
 * 30 epochs are 3,750 updates of each network: about 6 CPU-minutes (23 minutes of wall time on a
 * 2-core machine shared with other jobs). Then about a third of the samples are readable digits
 * (7s, 9s, 8s, 0s, a 3), the rest digit-like tangles of strokes; after 15 epochs most are still
 * broken strokes (examples/figures/gan-digits-epoch{1,30}.png).
 */
import { pathToFileURL } from 'node:url';
import {
  Activation, Adam, BatchNorm, Conv2D, Conv2DTranspose, Dense, Flatten, Model, Module, Rng, Sequential, UpSampling2D,
  gatherRows, loadDigits, noGrad, plotFeatureMaps, plotLearningCurves, reshape, sigmoidCrossEntropy, tensor, writeReport,
} from '../src/index.js';
import type { EpochLog, Tensor } from '../src/index.js';

const LATENT = 32;

/** The generator: a custom module whose forward mixes sub-networks and a reshape op. */
export class Generator extends Module {
  readonly head: Sequential;
  readonly body: Sequential;
  constructor(seed: number) {
    super('generator');
    this.head = new Sequential([new Dense({ units: 64 * 7 * 7, activation: 'relu', kernelInitializer: 'heNormal', name: 'g_dense' })], { inputShape: [LATENT], seed, name: 'g_head' });
    this.body = new Sequential([
      new Conv2DTranspose({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: 'heNormal', name: 'g_deconv' }),
      new BatchNorm({ name: 'g_bn' }),
      new Activation({ activation: 'relu', name: 'g_relu' }),
      new UpSampling2D({ size: 2, name: 'g_up' }),
      new Conv2D({ filters: 1, kernelSize: 3, padding: 'same', activation: 'logistic', name: 'g_out' }),
    ], { inputShape: [64, 7, 7], seed: seed + 1, name: 'g_body' });
    this.children.push(this.head, this.body);
  }
  forward(z: Tensor): Tensor {
    return this.body.forward(reshape(this.head.forward(z), [z.shape[0], 64, 7, 7]));
  }
}

/** The discriminator: images → one logit each. */
export function discriminator(seed: number): Sequential {
  return new Sequential([
    new Conv2D({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.2, name: 'd_conv1' }),
    new Conv2D({ filters: 64, kernelSize: 4, strides: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.2, name: 'd_conv2' }),
    new Flatten({ name: 'd_flat' }),
    new Dense({ units: 1, name: 'd_logit' }),
  ], { inputShape: [1, 28, 28], seed, name: 'discriminator' });
}

function normalNoise(rng: Rng, n: number): Tensor {
  return tensor(Float32Array.from({ length: n * LATENT }, () => rng.normal(0, 1)), { shape: [n, LATENT] });
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Trains the GAN; returns the per-epoch losses and the sample grids (SVG) at the snapshot epochs. */
export async function trainGan(opts: { epochs?: number; snapshots?: number[]; batchSize?: number; seed?: number; quiet?: boolean; limit?: number } = {}) {
  const epochs = opts.epochs ?? 30;
  const bs = opts.batchSize ?? 64;
  const seed = opts.seed ?? 1;
  const snapshots = new Set(opts.snapshots ?? [1, 3, Math.round(epochs / 2), epochs]);
  const { train } = await loadDigits();
  const n = Math.min(opts.limit ?? train.labels.length, train.labels.length);
  const G = new Generator(seed);
  const D = discriminator(seed + 7);
  const optG = new Adam({ learningRate: 2e-4, beta1: 0.5 });
  const optD = new Adam({ learningRate: 2e-4, beta1: 0.5 });
  const rng = new Rng(seed + 99);
  const fixed = normalNoise(new Rng(12345), 32);
  const ones = tensor(new Float32Array(bs).fill(1), { shape: [bs, 1] });
  const zeros = tensor(new Float32Array(bs), { shape: [bs, 1] });
  const logs: { epoch: number; d: number; g: number; dReal: number; dFake: number; seconds: number }[] = [];
  const grids: { epoch: number; svg: string }[] = [];
  const grid = (epoch: number) => {
    G.eval();
    const imgs = noGrad(() => G.forward(fixed));
    G.train();
    grids.push({ epoch, svg: plotFeatureMaps(reshape(imgs, [32, 28, 28]), { range: [0, 1], cell: 2, labels: new Array<string>(32).fill(''), title: `after epoch ${epoch}` }) });
  };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    const order = rng.permutation(n);
    let dSum = 0;
    let gSum = 0;
    let real = 0;
    let fake = 0;
    const steps = Math.floor(n / bs);
    for (let s = 0; s < steps; s++) {
      const xr = gatherRows(train.x, order, s * bs, (s + 1) * bs);
      // discriminator step: real → 1, generated (detached: G is not updated here) → 0
      const xf = G.forward(normalNoise(rng, bs)).detach();
      const outReal = D.forward(xr);
      const outFake = D.forward(xf);
      const dLoss = sigmoidCrossEntropy(outReal, ones);
      const dLossFake = sigmoidCrossEntropy(outFake, zeros);
      dLoss.backward();
      dLossFake.backward();
      optD.step(D);
      optD.zeroGrad(D);
      // generator step, non-saturating: make D call the generated images real; D frozen
      D.trainable = false;
      const gLoss = sigmoidCrossEntropy(D.forward(G.forward(normalNoise(rng, bs))), ones);
      gLoss.backward();
      optG.step(G);
      optG.zeroGrad(G);
      D.trainable = true;
      dSum += dLoss.item() + dLossFake.item();
      gSum += gLoss.item();
      for (let i = 0; i < bs; i++) {
        if (outReal.data[i] > 0) real++;
        if (outFake.data[i] < 0) fake++;
      }
    }
    const log = { epoch, d: dSum / steps, g: gSum / steps, dReal: real / (steps * bs), dFake: fake / (steps * bs), seconds: (performance.now() - t0) / 1000 };
    logs.push(log);
    if (!opts.quiet) console.log(`epoch ${epoch}: D loss ${log.d.toFixed(3)}, G loss ${log.g.toFixed(3)}, D right on ${(100 * log.dReal).toFixed(0)}% of real and ${(100 * log.dFake).toFixed(0)}% of generated digits (${log.seconds.toFixed(1)} s)`);
    if (snapshots.has(epoch)) grid(epoch);
  }
  return { G, D, logs, grids };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const epochs = Number(arg('epochs', '30'));
  const out = arg('report', 'gan-digits.html');
  const { D, logs, grids } = await trainGan({ epochs });
  const dLogs: EpochLog[] = logs.map((l) => ({ epoch: l.epoch, loss: l.d, seconds: l.seconds, accuracy: (l.dReal + l.dFake) / 2 }));
  const gLogs: EpochLog[] = logs.map((l) => ({ epoch: l.epoch, loss: l.g, seconds: l.seconds }));
  const model = new Model(D, { loss: 'binaryCrossEntropy', optimizer: new Adam({ learningRate: 2e-4, beta1: 0.5 }) });
  writeReport(out, {
    model,
    title: 'GAN on the bundled digits (the report\'s model is the discriminator)',
    history: { epochs: dLogs, stopped: 'maxEpochs', updates: logs.length * Math.floor(8000 / 64) },
    figures: [
      ...grids.map((g) => ({ title: `Generated digits after epoch ${g.epoch}`, note: 'The same 32 noise vectors each time; black = 0, white = 1.', svg: g.svg })),
      { title: 'Generator loss per epoch', note: 'Non-saturating loss BCE(D(G(z)), 1); the history above is the discriminator\'s loss and accuracy.', svg: plotLearningCurves(gLogs, { title: 'Generator loss' }) },
    ],
  });
  console.log(`report: ${out}`);
}
