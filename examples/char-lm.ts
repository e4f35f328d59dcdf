/**
 * A character-level language model: an embedding, an LSTM and a softmax over the characters at
 * every step, trained by backpropagation through time to predict the next character of
 * Shakespeare's Sonnets, then sampling new text one character at a time (the LSTM made stateful,
 * so its hidden and cell state carry from one character to the next).
 *
 * The text, data/sonnets.txt, is a selection of twenty of Shakespeare's Sonnets (first published
 * 1609; public domain), transcribed for this repository; spelling and punctuation follow common
 * modern editions and may differ in detail from any particular printing.
 *
 * Run: `npx tsc -p . && node dist/examples/char-lm.js [epochs = 5] [units = 96]` (about a minute per
 * epoch on the JavaScript backend).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Adam, CharVocabulary, Dense, Embedding, LSTM, Model, Rng, Sequential, forwardSequence, noGrad,
  Tensor, recurrentLayers, resetStates, textWindows,
} from '../src/index.js';

const STEPS = 40;

/**
 * Samples `length` characters after `prime`: feeds the prime through the network, then one
 * character at a time drawn from the softmax sharpened by `temperature` (< 1: safer choices).
 */
function sample(net: Sequential, vocab: CharVocabulary, prime: string, length: number, temperature: number, rng: Rng): string {
  const rnn = recurrentLayers(net);
  const was = rnn.map((l) => l.stateful);
  rnn.forEach((l) => { l.stateful = true; });
  resetStates(net);
  net.eval();
  let out = '';
  try {
    noGrad(() => {
      const p = vocab.encode(prime);
      let probs = forwardSequence(net, new Tensor(Float32Array.from(p), [1, p.length]));
      let last = probs.data.subarray((p.length - 1) * vocab.size);
      for (let i = 0; i < length; i++) {
        const k = draw(last, temperature, rng);
        out += vocab.chars[k];
        probs = forwardSequence(net, new Tensor(Float32Array.of(k), [1, 1]));
        last = probs.data;
      }
    });
  } finally {
    rnn.forEach((l, i) => { l.stateful = was[i]; });
    resetStates(net);
  }
  return out;
}

/** An index drawn from probabilities p^(1/temperature), renormalised. */
function draw(p: Float32Array, temperature: number, rng: Rng): number {
  const w = Array.from(p, (v) => Math.pow(Math.max(v, 1e-12), 1 / temperature));
  let r = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let k = 0; k < w.length; k++) {
    r -= w[k];
    if (r <= 0) return k;
  }
  return w.length - 1;
}

function main(): void {
  const epochs = Number(process.argv[2] ?? 5);
  const units = Number(process.argv[3] ?? 96);
  const text = readFileSync(fileURLToPath(new URL('../../data/sonnets.txt', import.meta.url)), 'utf8');
  const vocab = CharVocabulary.fromText(text);
  const { x, y } = textWindows(vocab.encode(text), STEPS, 4);
  const yOneHot = vocab.oneHot(y);
  console.log(`${text.length} characters, vocabulary of ${vocab.size}; ${x.shape[0]} windows of ${STEPS}`);
  const net = new Sequential([
    new Embedding({ inputDim: vocab.size, outputDim: 32 }),
    new LSTM({ units, returnSequences: true }),
    new Dense({ units: vocab.size, activation: 'softmax' }),
  ], { inputShape: [STEPS], seed: 1 });
  console.log(net.summary());
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.005 }), seed: 1 });
  const rng = new Rng(7);
  model.fit(x, yOneHot, {
    epochs,
    batchSize: 32,
    clipNorm: 5,
    callbacks: [{
      onEpochEnd: (log) => {
        console.log(`epoch ${log.epoch}: cross-entropy per character ${log.loss.toFixed(3)} (${log.seconds.toFixed(1)} s, gradient norm ${log.gradNorm?.toFixed(2)})`);
        console.log(`  sample: ${JSON.stringify(sample(net, vocab, 'Shall I ', 160, 0.7, rng))}`);
      },
    }],
  });
}

main();
