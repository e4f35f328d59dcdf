import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { ConfigError, ModelFileError, applyNumeric, exportOnnx, normalizationFromPreprocessing, writeFilesAtomically, readOnnx, onnxSupportedLayers, ONNX_OPSET } from '../../src/index.js';
import type { ModelSpec, NumericTransform } from '../../src/index.js';
import { CASES, net } from './cases.js';
import { run, tmp } from '../cli/helpers.js';
import { assertClose, infer, python, randomInput, randomizeWeights, savedRandomModel } from './helpers.js';

test('ONNX export of every layer type and two whole models: checker passes, onnxruntime agrees within 1e-5', async () => {
  const dir = tmp();
  const cases = Object.entries(CASES).map(([name, make], i) => {
    const n = make();
    randomizeWeights(n, 11 + i);
    const emb = n.layers[0].type === 'embedding' ? (n.layers[0] as unknown as { inputDim: number }).inputDim : undefined;
    const x = randomInput(n.inputShape, 3, 5 + i, emb);
    const bytes = exportOnnx(n);
    const file = join(dir, `case${i}.onnx`);
    writeFileSync(file, bytes);
    return { name, n, x, bytes, file, want: infer(n, x) };
  });
  // every layer type of the table is covered by some case
  const covered = new Set(cases.flatMap((c) => c.n.layers.map((l) => l.type)));
  assert.deepEqual(onnxSupportedLayers().filter((t) => !covered.has(t)), []);
  // one Python process checks every file with the ONNX checker (full check, with shape inference)
  const out = python(`
import sys, onnx
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    print(m.opset_import[0].version)
`, cases.map((c) => c.file));
  assert.deepEqual(out.trim().split('\n').map(Number), cases.map(() => ONNX_OPSET));
  for (const c of cases) {
    const s = await ort.InferenceSession.create(c.bytes);
    const r = await s.run({ input: new ort.Tensor('float32', c.x.data, c.x.shape) });
    const y = r.output;
    assert.deepEqual([...y.dims], c.want.shape, c.name);
    assertClose(y.data as Float32Array, c.want.data, c.name);
  }
});

test('ONNX export: normalisation as graph nodes', async () => {
  const n = net([3], [{ type: 'dense', units: 2, activation: 'tanh' }]);
  randomizeWeights(n, 2);
  const raw = randomInput([3], 4, 9);
  const center = [1, 2, 3];
  const scale = [0.5, 2, 0.25];
  const bytes = exportOnnx(n, { normalize: { center, scale, offset: 0.1 } });
  assert.deepEqual(readOnnx(bytes).ops.slice(0, 3), ['Sub', 'Mul', 'Add']);
  const normed = raw.clone();
  for (let i = 0; i < normed.size; i++) normed.data[i] = (normed.data[i] - center[i % 3]) * scale[i % 3] + 0.1;
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ input: new ort.Tensor('float32', raw.data, raw.shape) });
  assertClose(r.output.data as Float32Array, infer(n, normed).data, 'normalised');
  assert.throws(() => exportOnnx(n, { normalize: { center: [1, 2], scale: 1 } }), (e: Error) => e instanceof ConfigError && /normalize.center has 2 values; expected 1 or 3/.test(e.message));
});

test('ONNX export: readOnnx summarises a file; unsupported layers are ConfigErrors naming them; corrupt bytes are ModelFileErrors with the offset', () => {
  const n = net([4], [{ type: 'dense', units: 3, activation: 'relu', name: 'h' }, { type: 'dense', units: 2, activation: 'softmax' }]);
  const bytes = exportOnnx(n);
  const info = readOnnx(bytes);
  assert.deepEqual(info.ops, ['Gemm', 'Relu', 'Gemm', 'Softmax', 'Identity']);
  assert.equal(info.opset, ONNX_OPSET);
  assert.deepEqual(info.inputs, [{ name: 'input', shape: ['N', 4] }]);
  assert.deepEqual(info.outputs, [{ name: 'output', shape: ['N', 2] }]);
  const masked = net([5, 2], [{ type: 'masking' }, { type: 'lstm', units: 2 }]);
  assert.throws(() => exportOnnx(masked), (e: Error) => e instanceof ConfigError && /layer masking_1 has type "masking", which has no ONNX form; supported layer types: dense, activation, conv2d/.test(e.message));
  const stateful = net([5, 2], [{ type: 'gru', units: 2, stateful: true, name: 'g' }]);
  assert.throws(() => exportOnnx(stateful), (e: Error) => e instanceof ConfigError && /layer g \(gru\) cannot be exported: a stateful/.test(e.message));
  assert.throws(() => readOnnx(bytes.subarray(0, bytes.length - 30), 'cut.onnx'), (e: Error) => e instanceof ModelFileError && /^cut\.onnx: corrupt or truncated ONNX protobuf at byte offset \d+ of \d+/.test(e.message));
  const junk = bytes.slice();
  junk[0] = 0xff;
  assert.throws(() => readOnnx(junk, 'junk.onnx'), (e: Error) => e instanceof ModelFileError && /junk\.onnx/.test(e.message));
});

test('dendrite export MODEL --onnx FILE writes a model onnxruntime runs; an unsupported layer writes nothing and keeps an existing file', async () => {
  const dir = tmp();
  const spec = { input: [3, 2], layers: [{ type: 'lstm', units: 3 }, { type: 'dense', units: 2, activation: 'softmax' }], loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.1 } } as ModelSpec;
  const { model, path } = savedRandomModel(dir, spec, 4);
  const out = join(dir, 'm.onnx');
  const r = run(['export', path, '--onnx', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*m\.onnx: ONNX opset 17, \d+ nodes, input \[N, 3, 2\], output \[N, 2\]/);
  const x = randomInput([3, 2], 2, 1);
  const s = await ort.InferenceSession.create(out);
  const y = await s.run({ input: new ort.Tensor('float32', x.data, x.shape) });
  assertClose(y.output.data as Float32Array, infer(model.net, x).data, 'CLI export');
  // masking has no ONNX form: ConfigError, exit 1, the existing file untouched, no temporary left
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...spec, layers: [{ type: 'masking' }, ...spec.layers] }));
  const before = readFileSync(out);
  const e = run(['export', bad, '--onnx', out]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /^ConfigError: onnx export: layer masking_1 has type "masking", which has no ONNX form; supported layer types: /);
  assert.deepEqual(readFileSync(out), before);
  assert.deepEqual(readdirSync(dir).sort(), ['bad.json', 'm', 'm.onnx']);
  const nz = run(['export', join(dir, 'm'), '--onnx', join(dir, 'n.onnx'), '--normalize']);
  assert.equal(nz.status, 1);
  assert.match(nz.stderr, /ConfigError: onnx export: the model has no saved data preparation/);
});

test('ONNX export: a saved CSV preparation (standard and range normalisation) becomes graph nodes; categorical columns are refused', async () => {
  const n = net([2], [{ type: 'dense', units: 2, activation: 'tanh' }]);
  randomizeWeights(n, 6);
  const cols: NumericTransform[] = [{ normalize: 'standard', mean: 2, std: 4 }, { normalize: 'range', min: 0, max: 10, range: [-1, 1] }];
  const pre = { format: 'dendrite-preprocessor', version: 1, inputs: cols.map((t, i) => ({ column: `c${i}`, type: 'numeric', ...t })) };
  const raw = randomInput([2], 5, 2);
  const normed = raw.clone();
  for (let i = 0; i < normed.size; i++) normed.data[i] = applyNumeric(cols[i % 2], raw.data[i]);
  const s = await ort.InferenceSession.create(exportOnnx(n, { normalize: normalizationFromPreprocessing(pre) }));
  const r = await s.run({ input: new ort.Tensor('float32', raw.data, raw.shape) });
  assertClose(r.output.data as Float32Array, infer(n, normed).data, 'saved preparation');
  const cat = { ...pre, inputs: [...pre.inputs, { column: 'colour', type: 'categorical', levels: ['red', 'blue'], declared: false }] };
  assert.throws(() => normalizationFromPreprocessing(cat), (e: Error) => e instanceof ConfigError && /input column "colour" is categorical; only numeric normalisation/.test(e.message));
});

test('writeFilesAtomically: a failure while writing leaves every existing file as it was and no temporary files', () => {
  const dir = tmp();
  writeFilesAtomically(dir, { 'a.bin': Uint8Array.of(1, 2), 'b.txt': 'old' });
  // the second file cannot be created (its directory does not exist): the first is not replaced
  assert.throws(() => writeFilesAtomically(dir, { 'a.bin': Uint8Array.of(9), 'missing/b.txt': 'new' }), /ENOENT/);
  assert.deepEqual([...readFileSync(join(dir, 'a.bin'))], [1, 2]);
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.txt']);
});
