import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCsv,
  CsvTable,
  prepareTable,
  Preprocessor,
  Normalizer,
  OneHotEncoder,
  binValues,
  splitIndices,
  fitNumeric,
  applyNumeric,
  invertNumeric,
  sortLevels,
  tensor,
  DataError,
  ConfigError,
  ShapeError,
} from '../../src/index.js';
import type { ColumnsSpec } from '../../src/index.js';

// Table 1: raw hourly samples of the power plant.
const TABLE1 = `ID,AMBIENT TEMPERATURE,RELATIVE HUMIDITY,ELECTRICAL OUTPUT
1,03.21,86.34,491.35
2,31.41,68.50,430.37
3,19.31,30.59,463.00
4,20.64,99.97,447.14
`;
// Table 2: min and max over the whole dataset.
const TABLE2: ColumnsSpec = {
  ID: { type: 'ignore' },
  'AMBIENT TEMPERATURE': { normalize: 'range', min: 1.81, max: 37.11 },
  'RELATIVE HUMIDITY': { normalize: 'range', min: 25.56, max: 100.16 },
  'ELECTRICAL OUTPUT': { normalize: 'range', min: 420.26, max: 495.76 },
};
// Table 3: range-normalised, rounded to two decimals.
const TABLE3 = [
  [0.04, 0.81, 0.94],
  [0.84, 0.58, 0.13],
  [0.5, 0.07, 0.57],
  [0.53, 1.0, 0.36],
];

const round2 = (v: number): number => Math.round(v * 100) / 100;
const approx = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, msg?: string): void => {
  assert.equal(a.length, b.length, msg);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${msg ?? ''} [${i}]: ${a[i]} vs ${b[i]}`);
};

test('Tables 1–3: the raw power-plant rows normalise to Table 3 with the min/max of Table 2', () => {
  const table = parseCsv(TABLE1, { file: 'table1.csv' });
  const { x, y, preprocessor } = prepareTable(table, TABLE2, { columns: 'ELECTRICAL OUTPUT' });
  assert.deepEqual(x.shape, [4, 2]);
  assert.deepEqual(y.shape, [4, 1]);
  assert.deepEqual(preprocessor.inputNames, ['AMBIENT TEMPERATURE', 'RELATIVE HUMIDITY']);
  for (let i = 0; i < 4; i++) {
    assert.deepEqual([round2(x.data[2 * i]), round2(x.data[2 * i + 1]), round2(y.data[i])], TABLE3[i], `row ${i + 1}`);
  }
  assert.deepEqual(preprocessor.warnings, []);
});

test('continuous target: inverse mapping brings predictions back to MW; round trip through JSON', () => {
  const table = parseCsv(TABLE1, { file: 'table1.csv' });
  const { x, y, preprocessor } = prepareTable(table, TABLE2, { columns: ['ELECTRICAL OUTPUT'], type: 'regression' });
  const back = preprocessor.inverseTargets(y);
  approx(back.data, [491.35, 430.37, 463.0, 447.14], 1e-3, 'MW');
  // a prediction of 0.94 (Table 3's d1 target) is 420.26 + 0.94 × 75.5 MW
  approx(preprocessor.inverseTargets(tensor([[0.94]])).data, [420.26 + 0.94 * 75.5], 1e-3);
  assert.equal(invertNumeric({ normalize: 'range', min: 420.26, max: 495.76, range: [0, 1] }, applyNumeric({ normalize: 'range', min: 420.26, max: 495.76, range: [0, 1] }, 447.14)), 447.14);

  const saved = JSON.parse(JSON.stringify(preprocessor));
  assert.equal(saved.format, 'dendrite-preprocessor');
  const again = Preprocessor.fromJSON(saved);
  const t2 = again.transform(table);
  assert.deepEqual(Array.from(t2.x.data), Array.from(x.data));
  assert.deepEqual(Array.from(t2.y!.data), Array.from(y.data));
  // new data without the target column: inputs only
  const fresh = parseCsv('ID,AMBIENT TEMPERATURE,RELATIVE HUMIDITY\n9,37.11,25.56\n');
  const p = again.transform(fresh);
  assert.equal(p.y, null);
  assert.deepEqual(Array.from(p.x.data), [1, 0]);
});

test('range normalisation to [a, b] and standardisation fitted on training data, applied to new data', () => {
  const train = parseCsv('a,b,t\n0,1,0\n10,3,1\n5,5,0\n');
  const { x, preprocessor } = prepareTable(train, { a: { normalize: 'range', range: [-1, 1] }, b: { normalise: 'standard' } }, { columns: 't' });
  approx(Array.from({ length: 3 }, (_, i) => x.data[2 * i]), [-1, 1, 0], 1e-6, 'range [-1, 1]');
  const b = Array.from({ length: 3 }, (_, i) => x.data[2 * i + 1]);
  const mean = b.reduce((s, v) => s + v, 0) / 3;
  const std = Math.sqrt(b.reduce((s, v) => s + (v - mean) ** 2, 0) / 3);
  approx([mean, std], [0, 1], 1e-6, 'standardised');
  // new data uses the training statistics (20 is beyond the training range)
  const test2 = parseCsv('a,b,t\n20,3,1\n');
  approx(preprocessor.transform(test2).x.data, [3, 0], 1e-6);
  // declared statistics win over the data's
  const r = fitNumeric([5, 6], 'standard', { mean: 0, std: 2 });
  assert.deepEqual(r.transform, { normalize: 'standard', mean: 0, std: 2 });
});

test('Normalizer: per-feature statistics on tensors, inverse and JSON round trip', () => {
  const x = tensor([[1, 100], [3, 300], [5, 500]]);
  const n = Normalizer.fit(x, { method: 'range' });
  assert.deepEqual(n.transform(x).toArray(), [[0, 0], [0.5, 0.5], [1, 1]]);
  approx(n.inverse(n.transform(x)).data, x.data, 1e-4);
  const s = Normalizer.fromJSON(JSON.parse(JSON.stringify(Normalizer.fit(x, { method: 'standard' }))));
  approx(s.transform(tensor([[3, 300]])).data, [0, 0], 1e-6);
  assert.throws(() => n.transform(tensor([[1, 2, 3]])), (e: unknown) => e instanceof ShapeError && /2 values per example, received \[1, 3\]/.test(e.message));
});

test('Table 14: binning the normalised target (low ≤ 0.33, medium ≤ 0.66, high > 0.66) and one-hot encoding', () => {
  const table = parseCsv(TABLE1, { file: 'table1.csv' });
  const levels = ['low', 'medium', 'high'];
  const { x, y, preprocessor } = prepareTable(table, TABLE2, { columns: 'ELECTRICAL OUTPUT', type: 'classification', levels, bins: [0.33, 0.66] });
  assert.deepEqual(x.shape, [4, 2]);
  assert.deepEqual(y.toArray(), [
    [0, 0, 1],
    [1, 0, 0],
    [0, 1, 0],
    [0, 1, 0],
  ]);
  assert.deepEqual(preprocessor.levels, levels);
  assert.deepEqual(preprocessor.outputNames, levels);
  assert.deepEqual(preprocessor.decode(tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])), ['high', 'low']);
  assert.deepEqual(Preprocessor.fromJSON(JSON.parse(JSON.stringify(preprocessor))).transformTargets(table).toArray(), y.toArray());
  // the edges themselves belong to the lower bin
  assert.deepEqual(binValues([0.94, 0.13, 0.57, 0.36, 0.33, 0.66, 0.6601, -5], [0.33, 0.66], levels), ['high', 'low', 'medium', 'medium', 'low', 'medium', 'high', 'low']);
  assert.throws(() => preprocessor.inverseTargets(y), (e: unknown) => e instanceof ConfigError && /classification \(use decode\(\)\)/.test(e.message));
});

test('Table 14 from one-hot indicator columns; categorical target with named levels, decode back', () => {
  const t14 = parseCsv('temp,humidity,low,medium,high\n0.04,0.81,0,0,1\n0.84,0.58,1,0,0\n0.50,0.07,0,1,0\n0.53,1.00,0,1,0\n');
  const { y, preprocessor } = prepareTable(t14, {}, { columns: ['low', 'medium', 'high'], type: 'classification' });
  assert.deepEqual(preprocessor.levels, ['low', 'medium', 'high']);
  assert.deepEqual(y.toArray(), [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]]);
  const bad = parseCsv('a,l1,l2\n1,1,1\n', { file: 'ind.csv' });
  assert.throws(() => prepareTable(bad, {}, { columns: ['l1', 'l2'], type: 'classification' }), (e: unknown) => e instanceof DataError && /ind\.csv, line 2: two target columns are 1/.test(e.message));

  const t = parseCsv('temp,class\n0.04,high\n0.84,low\n0.50,medium\n', { file: 'c.csv' });
  const declared = prepareTable(t, {}, { columns: 'class', type: 'classification', levels: ['low', 'medium', 'high'] });
  assert.deepEqual(declared.y.toArray(), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
  assert.deepEqual(declared.preprocessor.decode(declared.y), ['high', 'low', 'medium']);
  // discovered levels are sorted; a categorical "columns" entry makes the target a classification
  const discovered = prepareTable(t, { class: { type: 'categorical' } }, { columns: 'class' });
  assert.deepEqual(discovered.preprocessor.levels, ['high', 'low', 'medium']);
  assert.deepEqual(sortLevels(['10', 'b', '2', 'a', '-1']), ['-1', '2', '10', 'a', 'b']);
  assert.throws(
    () => discovered.preprocessor.transform(parseCsv('temp,class\n0.1,huge\n', { file: 'new.csv' })),
    (e: unknown) => e instanceof DataError && /target level "huge" of column "class" \(new\.csv, line 2\) is not among the levels seen in the training data: high, low, medium/.test(e.message),
  );
});

test('one-hot encoding of categorical input columns', () => {
  const t = parseCsv('temp,kind,power\n0.1,gas,1\n0.2,steam,2\n0.3,gas,3\n');
  const { x, preprocessor } = prepareTable(t, { kind: { type: 'categorical' } }, { columns: 'power' });
  assert.deepEqual(preprocessor.inputNames, ['temp', 'kind=gas', 'kind=steam']);
  assert.deepEqual(x.shape, [3, 3]);
  approx(x.data, [0.1, 1, 0, 0.2, 0, 1, 0.3, 1, 0], 1e-7);
  const enc = new OneHotEncoder(['a', 'b', 'c'], { name: 'k' });
  assert.deepEqual(enc.encode(['c', 'a']).toArray(), [[0, 0, 1], [1, 0, 0]]);
  assert.deepEqual(enc.decode(tensor([[0.2, 0.5, 0.3]])), ['b']);
  assert.deepEqual(OneHotEncoder.fromJSON(JSON.parse(JSON.stringify(enc))).levels, ['a', 'b', 'c']);
  // declared input levels; an unseen level in new data is a DataError
  const d = prepareTable(t, { kind: { type: 'categorical', levels: ['steam', 'gas', 'coal'] } }, { columns: 'power' });
  assert.deepEqual(d.preprocessor.inputNames, ['temp', 'kind=steam', 'kind=gas', 'kind=coal']);
  assert.throws(
    () => d.preprocessor.transformInputs(parseCsv('temp,kind\n1,wind\n', { file: 'n.csv' })),
    (e: unknown) => e instanceof DataError && /input level "wind" of column "kind" \(n\.csv, line 2\) is not among the declared levels: steam, gas, coal/.test(e.message),
  );
  // "*" is the default for unlisted columns; inputShape lays inputs out row-major
  const img = CsvTable.fromRows(['p0', 'p1', 'p2', 'p3', 'y'], [[0, 255, 51, 102, 1], [255, 0, 0, 0, 0]]);
  const r = prepareTable(img, { '*': { normalize: 'range', min: 0, max: 255 } }, { columns: 'y', type: 'classification' }, { inputShape: [1, 2, 2] });
  assert.deepEqual(r.y.toArray(), [[0, 1], [1, 0]]); // "*" is for inputs: the label is not normalised
  assert.deepEqual(r.x.shape, [2, 1, 2, 2]);
  approx(r.x.data, [0, 1, 0.2, 0.4, 1, 0, 0, 0], 1e-6);
  assert.deepEqual(r.preprocessor.transform(img).x.shape, [2, 1, 2, 2]);
});

test('error: a target level not among the declared levels names it, the column and the line', () => {
  const t = parseCsv('temp,class\n0.04,high\n0.84,huge\n', { file: 'plant.csv' });
  assert.throws(
    () => prepareTable(t, {}, { columns: 'class', type: 'classification', levels: ['low', 'medium', 'high'] }),
    (e: unknown) =>
      e instanceof DataError && e.message === 'target level "huge" of column "class" (plant.csv, line 3) is not among the declared levels: low, medium, high',
  );
  assert.throws(() => new OneHotEncoder(['a', 'b']).encode(['c']), (e: unknown) => e instanceof DataError && /target level "c" of column "value" is not among the declared levels: a, b/.test(e.message));
});

test('error: normalising a constant column keeps values finite and reports a warning', () => {
  const t = parseCsv('a,b,t\n5,1,0\n5,2,1\n5,3,0\n', { file: 'k.csv' });
  const { x, preprocessor } = prepareTable(t, { a: { normalize: 'range' }, b: { normalize: 'range' } }, { columns: 't' });
  assert.ok(Array.from(x.data).every(Number.isFinite));
  approx([x.data[0], x.data[2], x.data[4]], [0, 0, 0], 0);
  assert.equal(preprocessor.warnings.length, 1);
  assert.match(preprocessor.warnings[0], /column "a" is constant \(every value is 5\): range normalisation would divide by zero, so it is only shifted \(5 → 0\)/);
  const s = prepareTable(t, { a: { normalize: 'standard' } }, { columns: 't' });
  assert.ok(Array.from(s.x.data).every(Number.isFinite));
  assert.match(s.preprocessor.warnings[0], /column "a" has standard deviation 0 \(every value is 5\): standardisation would divide by zero, so it is only centred/);
  // new data with another value stays finite too
  assert.ok(Array.from(s.preprocessor.transformInputs(parseCsv('a,b\n7,1\n')).data).every(Number.isFinite));
  const n = Normalizer.fit(tensor([[2, 1], [2, 3]]), { method: 'range' });
  assert.match(n.warnings[0], /feature 0 is constant/);
  assert.ok(Array.from(n.transform(tensor([[2, 2]])).data).every(Number.isFinite));
});

test('error: a classification target with a single level is a ConfigError', () => {
  const t = parseCsv('a,class\n1,yes\n2,yes\n', { file: 's.csv' });
  assert.throws(
    () => prepareTable(t, {}, { columns: 'class', type: 'classification' }),
    (e: unknown) => e instanceof ConfigError && /classification target "class" has a single level \("yes"\); a classifier needs at least 2 levels/.test(e.message),
  );
  assert.throws(() => prepareTable(t, {}, { columns: 'class', type: 'classification', levels: ['yes'] }), (e: unknown) => e instanceof ConfigError && /single level/.test(e.message));
});

test('seeded splits; error: a split outside (0, 1) or leaving an empty set is a ConfigError', () => {
  const a = splitIndices(100, { validation: 0.2, test: 0.1, seed: 7 });
  assert.deepEqual([a.train.length, a.validation.length, a.test.length], [70, 20, 10]);
  const all = [...a.train, ...a.validation, ...a.test].sort((p, q) => p - q);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(splitIndices(100, { validation: 0.2, test: 0.1, seed: 7 }), a);
  assert.notDeepEqual(Array.from(splitIndices(100, { validation: 0.2, seed: 8 }).validation), Array.from(a.validation));
  assert.deepEqual(Array.from(splitIndices(5, { validation: 0.4, shuffle: false }).validation), [3, 4]);
  const table = parseCsv(TABLE1);
  const s = splitIndices(table.rowCount, { validation: 0.25, seed: 3 });
  assert.equal(table.take(s.train).rowCount, 3);

  for (const v of [0, 1, -0.1, 1.5, Number.NaN]) {
    assert.throws(() => splitIndices(10, { validation: v }), (e: unknown) => e instanceof ConfigError && /validation split must be a fraction in \(0, 1\)/.test(e.message), String(v));
  }
  assert.throws(() => splitIndices(10, { test: 1 }), (e: unknown) => e instanceof ConfigError && /test split must be a fraction in \(0, 1\), received 1/.test(e.message));
  assert.throws(() => splitIndices(4, { validation: 0.1 }), (e: unknown) => e instanceof ConfigError && /validation split 0\.1 of 4 rows leaves an empty validation set/.test(e.message));
  assert.throws(() => splitIndices(1, { validation: 0.6 }), (e: unknown) => e instanceof ConfigError && /leaves an empty training set/.test(e.message));
  assert.throws(() => splitIndices(10, { validation: 0.5, test: 0.5 }), (e: unknown) => e instanceof ConfigError && /no rows would be left for training/.test(e.message));
});

test('errors in the columns and target specs name the key', () => {
  const t = parseCsv(TABLE1, { file: 't1.csv' });
  const target = { columns: 'ELECTRICAL OUTPUT' };
  assert.throws(() => prepareTable(t, { ID: { normalize: 'minmax' as never } }, target), (e: unknown) => e instanceof ConfigError && /columns\.ID\.normalize must be "none", "range" or "standard", received "minmax"/.test(e.message));
  assert.throws(() => prepareTable(t, { ID: { normalized: 'range' } as never }, target), (e: unknown) => e instanceof ConfigError && /columns\.ID\.normalized: unknown key; did you mean "normalize"\?/.test(e.message));
  assert.throws(() => prepareTable(t, { temp: {} }, target), (e: unknown) => e instanceof DataError && /t1\.csv: unknown column in "columns" "temp"; the columns are: ID, AMBIENT TEMPERATURE/.test(e.message));
  assert.throws(() => prepareTable(t, {}, { columns: 'power' }), (e: unknown) => e instanceof DataError && /unknown target column "power"; the columns are: ID, AMBIENT TEMPERATURE, RELATIVE HUMIDITY, ELECTRICAL OUTPUT/.test(e.message));
  assert.throws(() => prepareTable(t, { ID: { type: 'categorical', normalize: 'range' } }, target), (e: unknown) => e instanceof ConfigError && /columns\.ID: a categorical column cannot be normalised/.test(e.message));
  assert.throws(() => prepareTable(t, { ID: { normalize: 'range', range: [1, 0] } }, target), (e: unknown) => e instanceof ConfigError && /columns\.ID\.range must be \[lo, hi\] with lo < hi/.test(e.message));
  assert.throws(() => prepareTable(t, {}, { ...target, type: 'classification', bins: [0.5] }), (e: unknown) => e instanceof ConfigError && /target\.bins needs "levels"/.test(e.message));
  assert.throws(() => prepareTable(t, {}, { ...target, type: 'classification', bins: [0.5], levels: ['a', 'b', 'c'] }), (e: unknown) => e instanceof ConfigError && /1 bin edges make 2 levels, but 3 levels are named/.test(e.message));
  assert.throws(() => prepareTable(t, {}, { ...target, kind: 'x' } as never), (e: unknown) => e instanceof ConfigError && /target\.kind: unknown key \(valid keys: columns, column, type, levels, bins\)/.test(e.message));
  assert.throws(() => prepareTable(t, {}, { ...target, levels: ['a', 'a'] }), (e: unknown) => e instanceof ConfigError && /level "a" appears twice/.test(e.message));
  const withText = parseCsv('a,kind,t\n1,gas,0\n', { file: 'w.csv' });
  assert.throws(() => prepareTable(withText, {}, { columns: 't' }), (e: unknown) => e instanceof DataError && /w\.csv, line 2, column 2 \("kind"\): "gas" is not a number .*"type": "categorical"/.test(e.message));
  // a text target: the hint says where a class label is declared
  assert.throws(() => prepareTable(parseCsv('a,kind\n1,gas\n', { file: 'w.csv' }), {}, { columns: 'kind' }),
    (e: unknown) => e instanceof DataError && /"gas" is not a number .*a text target is a class label: train with "loss": "crossEntropy" .*"target": \{"type": "classification"\}/.test(e.message));
  assert.throws(() => Preprocessor.fromJSON({ format: 'dendrite-preprocessor', version: 2 }), (e: unknown) => e instanceof ConfigError && /version 2 is not supported/.test(e.message));
  assert.throws(
    () => Preprocessor.fromJSON({ format: 'dendrite-preprocessor', version: 1, inputs: [{ column: 'a', type: 'numeric', normalize: 'range', range: [0, 1], min: 0 }], target: {} }),
    (e: unknown) => e instanceof ConfigError && /preprocessor\.inputs\[0\]\.max must be a finite number/.test(e.message),
  );
});
