import { readFileSync } from 'node:fs';
import { LAYER_FACTORIES, OPTIMIZER_FACTORIES } from '../io/spec.js';
import { ACTIVATION_NAMES } from '../ops/activations.js';
import type { Command } from './common.js';

/** What every option of the CLI means (one table: commands list the ones they accept). */
const OPTIONS: Record<string, string> = {
  data: 'the data: a CSV file, an IDX directory (MNIST/Fashion-MNIST files) or "digits"',
  target: 'CSV target column(s), comma-separated (text columns become classes under crossEntropy/binaryCrossEntropy)',
  weights: 'a JSON weights file {layer: {param: nested array}} to start from',
  out: 'output directory (train: the saved model, default models/<spec name>; report: the HTML file)',
  epochs: 'number of epochs (overrides the spec\'s train.epochs)',
  checkpoint: 'write a resumable checkpoint to this directory after every epoch',
  resume: 'continue training from a checkpoint directory',
  report: 'also write a self-contained HTML report to this file',
  html: 'also write the dynamics as an HTML page to this file',
  spec: 'a model spec to train instead of the built-in one',
  limit: 'print at most N predictions',
  backend: 'js or native (default: the fastest that loads)',
  json: 'print one JSON object on stdout instead of text',
  quiet: 'no progress, warnings or notices',
};

/** One example per command. */
const EXAMPLES: Record<string, string> = {
  digits: 'dendrite digits --epochs 3',
  train: 'dendrite train examples/worked/spec.json --data examples/worked/data.csv --target electrical_output --out models/plant',
  predict: 'dendrite predict models/plant --data new.csv --json',
  evaluate: 'dendrite evaluate models/plant --data test.csv --target electrical_output',
  trace: 'dendrite trace examples/worked/spec.json --weights examples/worked/weights.json --data examples/worked/data.csv --target electrical_output',
  inspect: 'dendrite inspect models/plant --data examples/worked/data.csv --target electrical_output',
  report: 'dendrite report models/plant --out report.html',
  summary: 'dendrite summary examples/fashion/w-cnn.json',
};

/** Options a command accepts, read from its usage line. */
function optionsOf(c: Command): string[] {
  return [...new Set([...c.usage.matchAll(/--([a-z]+)/g)].map((m) => m[1])), 'backend'].filter((o) => o in OPTIONS);
}

/**
 * `dendrite COMMAND --help`: usage, what it does, its options, an example and where the spec
 * format is documented.
 */
export function commandHelp(name: string, c: Command): string {
  const opts = optionsOf(c).map((o) => `  --${o.padEnd(11)} ${OPTIONS[o]}`);
  return [
    `Usage: ${c.usage}`, '', c.summary, '', 'Options:', ...opts, `  --${'help'.padEnd(11)} this help`,
    '', 'Example:', `  ${EXAMPLES[name] ?? `dendrite ${name}`}`,
    '', 'The spec format (SPEC.json): dendrite help spec, or the README section "The model spec".', '',
  ].join('\n');
}

/** The spec reference printed by `dendrite help spec`. */
export function specHelp(): string {
  return `The model spec (JSON), as \`dendrite train\` reads it and saved models store it:

{
  "input": [2],                       shape of one example (optional for train: inferred from the data)
  "layers": [                         in order; each {"type", "name"?, …options}
    {"type": "dense", "units": 3, "activation": "logistic", "name": "h1"},
    {"type": "dense", "units": 1, "activation": "logistic"}
  ],
  "loss": "sse",                      sse | mse | crossEntropy | binaryCrossEntropy
  "reduction": "sum",                 optional: sum | mean (default sum for sse, else mean)
  "optimizer": {"type": "sgd", "learningRate": 0.2},   optional "schedule": {"type": "warmupCosine" | "stepDecay", …}
  "train": {"epochs": 100, "batchSize": 4, "shuffle": true, "seed": 1,
            "validationSplit": 0.2, "earlyStopping": {"patience": 5}, "reduceLROnPlateau": {"patience": 3},
            "stopWhen": {"loss": 0.0001}, "clipNorm": 1, "clipValue": 1, "truncation": 20},
  "columns": {"city": {"type": "categorical"}, "*": {"normalize": "range"}},
  "target": {"columns": ["price"], "type": "regression"}
}
Graph form (skip connections, several inputs/outputs): "inputs": [{"name": "x", "shape": [8]}] instead
of "input", every layer has a "name" and "inbound": ["x"] (the tensors it reads; [["a"], ["b"]] for a
shared layer called twice, "name#1" for its second output), optional "trainable": false, and
"outputs": ["out"].

Layer types: ${Object.keys(LAYER_FACTORIES).join(', ')}
  dense: units, activation, alpha, theta, preluInit, kernelInitializer, biasInitializer, useBias
  activation: activation, alpha, theta, preluInit
  conv2d / conv1d: filters, kernelSize, strides, padding, activation, kernelInitializer, biasInitializer, useBias
  maxPool2d / avgPool2d / maxPool1d / avgPool1d: poolSize, strides
  simpleRNN / lstm / gru: units, returnSequences, stateful, dropout, recurrentDropout, initializers
    (simpleRNN: activation, alpha; lstm: unitForgetBias)
  embedding: inputDim, outputDim, maskZero; masking: maskValue; dropout: keepProb or rate
  batchNorm: momentum, epsilon, center, scale; flatten: (none)
  conv2dTranspose: conv2d's and outputPadding; upSampling2d: size, interpolation
  globalAveragePooling1d / globalAveragePooling2d: (none); add / multiply: (none); concatenate: axis
  layerNormalization: epsilon, center, scale; reshape: targetShape; permute: dims
  multiHeadAttention: numHeads, keyDim, valueDim, outputDim, useBias, causal, dropout, kernelInitializer
  positionEmbedding: maxLength, initializer; sinusoidalEncoding: maxLength, base
  transformerEncoderBlock / transformerDecoderBlock: numHeads, ffDim, keyDim, activation, normFirst, dropout, epsilon (encoder: causal)
  bidirectional: layer (a simpleRNN, lstm or gru spec), mergeMode (concat | sum)
Activations: ${ACTIVATION_NAMES.join(', ')}; a name with its options beside it
  ("activation": "leakyRelu", "alpha": 0.2) or an object {"type": "leakyRelu", "alpha": 0.2}
Initializers: a name ("heNormal") or {"type": "randomNormal", "stddev": 0.01}; randomUniform,
  randomNormal, glorotNormal, glorotUniform, lecunNormal, lecunUniform, heNormal, heUniform,
  constant, zeros, ones
Optimizers: ${Object.keys(OPTIMIZER_FACTORIES).join(', ')}
  sgd: learningRate, momentum, nesterov, weightDecay
  adam: learningRate, beta1, beta2, epsilon, weightDecay
  adamw: adam's, weightDecay decoupled (default 0.01)
  rmsprop: learningRate, rho, momentum, epsilon, centered, weightDecay

Every key is checked: a misspelt one is an error that names it and the closest valid key.
The README's "The model spec" section has the details and examples.
`;
}

/** The package version (from package.json beside dist/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
