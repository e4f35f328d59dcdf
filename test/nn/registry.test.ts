// A layer is one file: a layer defined and registered here, outside src/, is built from a
// hand-written spec, checked against it, saved, loaded and rebuilt from JSON like a built-in one,
// with no list of layers anywhere else to edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, Dense, LAYER_FACTORIES, Layer, Model, Tensor, add, buildModel, checkSpecMatchesModel, loadModel, parseSpec, registerLayer,
  saveModel, tensor,
} from '../../src/index.js';
import { tmp } from '../cli/helpers.js';
import { join } from 'node:path';

/** Options of the test layer: a learned offset per feature, starting at `start`. */
interface ShiftOptions {
  start?: number;
  name?: string;
}

/** y = x + offset, one learned offset per feature. */
class Shift extends Layer {
  readonly type = 'testShift';
  readonly start: number;
  offset: Tensor | null = null;

  constructor(opts: ShiftOptions = {}) {
    super(opts.name);
    for (const k of Object.keys(opts)) {
      if (!['type', 'name', 'start'].includes(k)) throw new ConfigError(`testShift.${k}: unknown key`);
    }
    if (opts.start !== undefined && typeof opts.start !== 'number') throw new ConfigError(`testShift.start must be a number, received ${JSON.stringify(opts.start)}`);
    this.start = opts.start ?? 0;
  }

  protected init(shape: readonly number[]): readonly number[] {
    this.offset = this.addParam('offset', tensor(new Float32Array(shape[0]).fill(this.start), { shape: [shape[0]] }));
    return shape;
  }

  forward(x: Tensor): Tensor {
    return this.traced(undefined, add(x, this.offset!));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, start: this.start };
  }
}

// the factory's parameter is the layer's own options type: no cast
registerLayer('testShift', (s: ShiftOptions) => new Shift(s));

const SPEC = {
  input: [3],
  layers: [{ type: 'testShift', name: 'shift', start: 0.5 }, { type: 'dense', units: 2, name: 'out' }],
  loss: 'mse',
  optimizer: { type: 'sgd', learningRate: 0.1 },
  train: { seed: 4 },
};

test('a layer registered outside src/ is built from a spec, saved with it, loaded and rebuilt from JSON', () => {
  assert.ok(Object.hasOwn(LAYER_FACTORIES, 'testShift'));
  const model = buildModel(parseSpec(JSON.parse(JSON.stringify(SPEC)), 'shift.json'));
  const layer = model.net.layers[0];
  assert.ok(layer instanceof Shift);
  assert.equal(layer.name, 'shift');
  assert.deepEqual(Array.from(layer.offset!.data), [0.5, 0.5, 0.5]);
  assert.ok(model.net.layers[1] instanceof Dense);

  const x = tensor([[1, 2, 3], [-1, 0, 1]]);
  model.fit(x, tensor([[1, 0], [0, 1]]), { epochs: 3, batchSize: 2 });
  assert.notDeepEqual(Array.from(layer.offset!.data), [0.5, 0.5, 0.5], 'the offset is trained');
  assert.deepEqual(model.toSpec().layers[0], { type: 'testShift', name: 'shift', start: 0.5 });
  checkSpecMatchesModel(parseSpec(JSON.parse(JSON.stringify(SPEC))), model);

  const dir = join(tmp(), 'shift');
  saveModel(dir, model, JSON.parse(JSON.stringify(SPEC)));
  const { model: loaded } = loadModel(dir);
  assert.ok(loaded.net.layers[0] instanceof Shift);
  assert.deepEqual(Array.from(loaded.predict(x).data), Array.from(model.predict(x).data));
  const viaJson = Model.fromJSON(JSON.parse(JSON.stringify(model.toJSON())), model.weightsBuffer());
  assert.deepEqual(Array.from(viaJson.predict(x).data), Array.from(model.predict(x).data));
});

test('a registered layer\'s own option errors are placed in the spec; a spec cannot disagree with it', () => {
  const bad = { ...SPEC, layers: [{ type: 'testShift', name: 'shift', start: 'half' }, SPEC.layers[1]] };
  assert.throws(() => buildModel(parseSpec(bad, 'shift.json')), (e: unknown) =>
    e instanceof ConfigError && e.message === 'layers[0] (testShift "shift"): testShift.start must be a number, received "half"');
  const model = buildModel(parseSpec(JSON.parse(JSON.stringify(SPEC))));
  const other = { ...SPEC, layers: [{ type: 'testShift', name: 'shift', start: 2 }, SPEC.layers[1]] };
  assert.throws(() => checkSpecMatchesModel(parseSpec(other), model, 'shift.json'), (e: unknown) =>
    e instanceof ConfigError && e.message === 'shift.json: layers[0] (testShift "shift"): start is 2 in the spec, but the model has 0.5');
  assert.throws(() => registerLayer('testShift', (s: ShiftOptions) => new Shift(s)), (e: unknown) =>
    e instanceof ConfigError && /layer type "testShift" is already registered/.test(e.message));
});
