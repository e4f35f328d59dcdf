import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ModelFileError, ShapeError, buildModel, decodeSafetensors, encodeSafetensors, exportPytorchDir, importPytorchDir, loadModel, loadPytorchDir, saveModel, torchSupportedLayers } from '../../src/index.js';
import type { ModelSpec, SafeTensor, Tensor } from '../../src/index.js';
import { run, tmp } from '../cli/helpers.js';
import { CASES, twoInOut } from './cases.js';
import { assertClose, infer, python, randomInput, randomizeWeights, savedRandomModel } from './helpers.js';

/**
 * Python side of the checks, one process for all cases: load each directory's model.py and
 * safetensors, run it on its input, write the output; for the directories marked "perturb", also
 * change every trainable weight (recurrent biases of both kinds included), save through model.py and
 * write the new output.
 */
const RUN = `
import importlib.util, sys, torch
for spec in sys.argv[1:]:
    d, perturb = spec.split('|')
    s = importlib.util.spec_from_file_location('m_' + str(abs(hash(d))), d + '/model.py')
    m = importlib.util.module_from_spec(s)
    s.loader.exec_module(m)
    net = m.load(d)
    net.eval()
    x = m.read_safetensors(d + '/input.safetensors')[0]['x']
    with torch.no_grad():
        out = {'y': net(x)}
        if perturb == '1':
            g = torch.Generator().manual_seed(1)
            for p in net.parameters():
                if p.requires_grad:
                    p.add_(0.1 * torch.randn(p.shape, generator=g))
            out['y2'] = net(x)
            m.save(net, d)
    m.write_safetensors(d + '/output.safetensors', out)
`;

const f32 = (t: Tensor): SafeTensor => ({ dtype: 'F32', shape: [...t.shape], data: t.data });

test('PyTorch bridge: model.py + safetensors give dendrite\'s outputs for every layer type and two whole models; weights changed in PyTorch come back', () => {
  const root = tmp();
  const perturbed = new Set(['lstm sequences + last', 'gru sequences + last', 'simpleRNN tanh/relu/logistic/leakyRelu/linear', 'dropout + batch norm (features and maps)', 'conv2d same, strides 2, prelu + avg/max pool 2-D', 'LSTM sequence model',
    'bidirectional lstm/gru/simpleRNN, concat and sum, sequences and last', 'bidirectional lstm last, concat; permute',
    'layer norm, attention (causal, other head sizes, no bias), positions', 'conv2dTranspose same/valid/padding + output padding, up-sampling', 'graph: residual add of three, multiply, concatenate (last axis and axis 0), a shared layer', 'transformer blocks post-/pre-norm, relu/gelu, encoder/decoder']);
  const cases = Object.entries(CASES).map(([name, make], i) => {
    const n = make();
    randomizeWeights(n, 21 + i);
    const emb = n.layers[0].type === 'embedding' ? (n.layers[0] as unknown as { inputDim: number }).inputDim : undefined;
    const x = randomInput(n.inputShape, 3, 40 + i, emb);
    const dir = join(root, `case${i}`);
    exportPytorchDir(dir, n);
    writeFileSync(join(dir, 'input.safetensors'), encodeSafetensors(new Map([['x', f32(x)]])));
    return { name, n, x, dir, want: infer(n, x), perturb: perturbed.has(name) };
  });
  // every layer type of the table is covered by some case
  const covered = new Set(cases.flatMap((c) => c.n.layers.map((l) => l.type)));
  assert.deepEqual(torchSupportedLayers().filter((t) => !covered.has(t)), []);
  python(RUN, cases.map((c) => `${c.dir}|${c.perturb ? 1 : 0}`));
  for (const c of cases) {
    const out = decodeSafetensors(readFileSync(join(c.dir, 'output.safetensors')), c.name).tensors;
    assert.deepEqual(out.get('y')!.shape, c.want.shape, c.name);
    assertClose(out.get('y')!.data, c.want.data, `${c.name} (PyTorch vs dendrite)`);
    if (!c.perturb) continue;
    // the weights PyTorch changed and saved come back into dendrite and give PyTorch's new output
    importPytorchDir(c.dir, c.n);
    const again = infer(c.n, c.x);
    const y2 = out.get('y2')!.data;
    assertClose(again.data, y2, `${c.name} (after import)`);
    let moved = 0;
    for (let i = 0; i < y2.length; i++) moved = Math.max(moved, Math.abs(again.data[i] - c.want.data[i]));
    assert.ok(moved > 1e-3, `${c.name}: the imported weights did not change the output`);
  }
});

test('PyTorch bridge: a graph model with two inputs and two outputs is forward(self, v0, v1) returning both', () => {
  const n = twoInOut();
  randomizeWeights(n, 6);
  const xs = [randomInput([3], 3, 1), randomInput([2, 2], 3, 2)];
  const want = n.forwardMany(xs);
  const dir = join(tmp(), 'two');
  exportPytorchDir(dir, n);
  writeFileSync(join(dir, 'input.safetensors'), encodeSafetensors(new Map([['a', f32(xs[0])], ['b', f32(xs[1])]])));
  python(`
import sys, torch
sys.path.insert(0, sys.argv[1])
import model
net = model.load()
x = model.read_safetensors(sys.argv[1] + '/input.safetensors')[0]
with torch.no_grad():
    y0, y1 = net(x['a'], x['b'])
model.write_safetensors(sys.argv[1] + '/output.safetensors', {'y0': y0, 'y1': y1})
`, [dir]);
  const out = decodeSafetensors(readFileSync(join(dir, 'output.safetensors'))).tensors;
  assertClose(out.get('y0')!.data, want[0].data, 'output 0');
  assertClose(out.get('y1')!.data, want[1].data, 'output 1');
});

const SPEC = {
  input: [5, 3], layers: [{ type: 'gru', units: 4, returnSequences: true, name: 'enc' }, { type: 'lstm', units: 3 }, { type: 'dense', units: 2, activation: 'softmax', name: 'out' }],
  loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.01 },
} as ModelSpec;

test('dendrite export --pytorch DIR, training step in PyTorch, dendrite import --pytorch DIR OUT', () => {
  const root = tmp();
  const { model, path } = savedRandomModel(root, SPEC, 5);
  const dir = join(root, 'torch');
  const r = run(['export', path, '--pytorch', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*model\.py and .*model\.safetensors/);
  const x = randomInput([5, 3], 4, 8);
  writeFileSync(join(dir, 'input.safetensors'), encodeSafetensors(new Map([['x', f32(x)]])));
  // one SGD step on a cross-entropy loss in PyTorch, saved through model.py
  python(`
import sys, torch
sys.path.insert(0, sys.argv[1])
import model
# a fresh module (as a training script would build it) with the exported weights
net = model.DendriteModel()
net.load_state_dict(model.read_safetensors(sys.argv[1] + '/model.safetensors')[0])
x = model.read_safetensors(sys.argv[1] + '/input.safetensors')[0]['x']
opt = torch.optim.SGD(net.parameters(), lr=0.5)
loss = -torch.log(net(x)[:, 0]).sum()
loss.backward()
opt.step()
with torch.no_grad():
    model.write_safetensors(sys.argv[1] + '/output.safetensors', {'y': net(x)})
model.save(net)
`, [dir]);
  const i = run(['import', '--pytorch', dir, join(root, 'back')]);
  assert.equal(i.status, 0, i.stderr);
  const back = loadModel(join(root, 'back'));
  assert.deepEqual(back.spec, model.toSpec()); // the model describes itself: every option, defaults included
  const y = decodeSafetensors(readFileSync(join(dir, 'output.safetensors'))).tensors.get('y')!.data;
  assertClose(back.model.predict(x).data, y, 'after a PyTorch step');
  // the step moved the output towards class 0
  const before = model.predict(x).data;
  assert.ok(y[0] > before[0] + 1e-3, `class-0 probability ${y[0]} did not grow from ${before[0]}`);
});

test('PyTorch bridge bad input: unsupported layer writes nothing; truncated/corrupt safetensors are ModelFileErrors with file and offset; shape mismatches are ShapeErrors naming the tensor', () => {
  const root = tmp();
  const masked = buildModel({ ...SPEC, layers: [{ type: 'masking' }, ...SPEC.layers] });
  const dir = join(root, 'out');
  assert.throws(() => exportPytorchDir(dir, masked.net), (e: Error) => e instanceof ConfigError && /layer masking_1 has type "masking", which has no PyTorch form; supported layer types: dense, conv2d, conv1d, activation/.test(e.message));
  assert.equal(existsSync(dir), false);
  const padded = buildModel({ ...SPEC, input: [5], layers: [{ type: 'embedding', inputDim: 4, outputDim: 4, maskZero: true, name: 'e' }, { type: 'transformerEncoderBlock', numHeads: 2, ffDim: 4 }] });
  assert.throws(() => exportPytorchDir(dir, padded.net), (e: Error) => e instanceof ConfigError && /layer e \(embedding\) cannot be exported: maskZero \(padding masks\)/.test(e.message));
  // nn.TransformerEncoderLayer has no other head size
  const heads = buildModel({ ...SPEC, input: [5, 6], layers: [{ type: 'transformerEncoderBlock', numHeads: 2, ffDim: 4, keyDim: 2, name: 'tb' }] });
  assert.throws(() => exportPytorchDir(dir, heads.net), (e: Error) => e instanceof ConfigError && /layer tb \(transformerEncoderBlock\) cannot be exported: nn\.TransformerEncoderLayer needs heads of size features \/ numHeads \(keyDim 2, 6 features, 2 heads\)/.test(e.message));
  assert.equal(existsSync(dir), false);
  const model = buildModel(SPEC);
  exportPytorchDir(dir, model, SPEC);
  const file = join(dir, 'model.safetensors');
  const good = readFileSync(file);
  const py = readFileSync(join(dir, 'model.py'), 'utf8');
  // a failing export (stateful layer) leaves both existing files as they were
  const stateful = buildModel({ ...SPEC, layers: [{ ...SPEC.layers[0], stateful: true }, ...SPEC.layers.slice(1)] });
  assert.throws(() => exportPytorchDir(dir, stateful, SPEC), (e: Error) => e instanceof ConfigError && /layer enc \(gru\) cannot be exported: a stateful layer/.test(e.message));
  assert.deepEqual(readFileSync(file), good);
  assert.equal(readFileSync(join(dir, 'model.py'), 'utf8'), py);
  assert.deepEqual(readdirSync(dir).sort(), ['model.py', 'model.safetensors']);
  const fails = (bytes: Uint8Array, cls: typeof ModelFileError | typeof ShapeError, re: RegExp, into = buildModel(SPEC)) => {
    writeFileSync(file, bytes);
    assert.throws(() => importPytorchDir(dir, into.net), (e: Error) => e instanceof cls && re.test(e.message), re.source);
  };
  fails(good.subarray(0, 5), ModelFileError, /model\.safetensors: truncated: shorter than the 8-byte header length \(byte offset 5 of 5\)/);
  fails(good.subarray(0, 100), ModelFileError, /model\.safetensors: truncated or corrupt: the header claims \d+ bytes but only 92 follow \(byte offset 8 of 100\)/);
  fails(good.subarray(0, good.length - 8), ModelFileError, /model\.safetensors: truncated: tensor out\.bias ends at byte \d+, past the end of the file \(byte offset \d+ of \d+\)/);
  const junk = Uint8Array.from(good);
  junk[8] = 0x5b; // "[" where the header object opens
  fails(junk, ModelFileError, /model\.safetensors: corrupt header JSON: .* \(byte offset 8 of/);
  // a model with other sizes: the first tensor that differs is named
  const wider = buildModel({ ...SPEC, layers: [SPEC.layers[0], { type: 'lstm', units: 5 }, SPEC.layers[2]] });
  fails(good, ShapeError, /model\.safetensors: tensor lstm_1\.weight_ih_l0 has shape \[12, 4\], the dendrite model needs \[20, 4\]/, wider);
  const renamed = buildModel({ ...SPEC, layers: [SPEC.layers[0], SPEC.layers[1], { ...SPEC.layers[2], name: 'head' }] });
  const before = renamed.net.getWeights();
  fails(good, ModelFileError, /model\.safetensors: tensor head\.weight \[2, 3\] is missing/, renamed);
  // nothing changed in the model that failed to import
  assert.deepEqual(renamed.net.getWeights().enc.Wz.data, before.enc.Wz.data);
  assert.throws(() => loadPytorchDir(join(root, 'nowhere')), (e: Error) => e instanceof ModelFileError && /nowhere\/model\.safetensors: cannot read the PyTorch weights \(ENOENT\)/.test(e.message));
});
