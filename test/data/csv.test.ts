import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, CsvTable, parseCsv, readCsv, selectColumns, columnsMatrix, DataError, ShapeError, ConfigError } from '../../src/index.js';

const PLANT = 'temp,humidity,power\n03.21,86.34,491.35\n31.41,68.50,430.37\n19.31,30.59,463.00\n20.64,99.97,447.14\n';

test('csv: header, numeric cells, exact text of cells', () => {
  const t = parseCsv(PLANT, { file: 'plant.csv' });
  assert.deepEqual(t.columns, ['temp', 'humidity', 'power']);
  assert.equal(t.rowCount, 4);
  assert.deepEqual(Array.from(t.numbers('temp')), [3.21, 31.41, 19.31, 20.64]);
  assert.equal(t.cell(0, 'temp'), '03.21'); // the text as written
  assert.equal(t.cell(1, 'humidity'), '68.50');
  assert.equal(t.cell(0, 2), '491.35');
  assert.equal(t.line(0), 2);
  assert.equal(t.line(3), 5);
  assert.ok(t.isNumeric('power'));
});

test('csv: cell() gives back exactly the text of every numeric cell', () => {
  const cells = ['0', '-0', '-0.0', '100', '1.10', '0.000001', '0.0000001', '1e-7', '123456789012345', '1234567890123456', '0.1234567890123456', '+5', '.5', '5.', '007', '-12.5', '9007199254740993', '1e21', '0.30000000000000004'];
  const rng = new Rng(3);
  for (let i = 0; i < 300; i++) cells.push(String(Math.round(rng.uniform(-1e6, 1e6)) / 10 ** rng.int(9)), rng.normal(0, 10 ** rng.int(8)).toFixed(rng.int(12)));
  const t = parseCsv('v\n' + cells.join('\n') + '\n');
  cells.forEach((c, i) => {
    assert.equal(t.cell(i, 'v'), c);
    assert.equal(t.numberAt(i, 'v'), Number(c));
  });
});

test('csv: quoted fields with delimiters, quotes and newlines; categorical cells; line numbers', () => {
  const text = '\uFEFFid,name,kind\r\n1,"Smith, J.",a\r\n2,"say ""hi""",b\r\n\r\n3,"two\nlines",  c  \r\n4, "spaced" ,d\n';
  const t = parseCsv(text, { file: 'p.csv' });
  assert.deepEqual(t.columns, ['id', 'name', 'kind']);
  assert.deepEqual(t.strings('name'), ['Smith, J.', 'say "hi"', 'two\nlines', 'spaced']);
  assert.deepEqual(t.strings('kind'), ['a', 'b', 'c', 'd']);
  assert.deepEqual([0, 1, 2, 3].map((i) => t.line(i)), [2, 3, 5, 7]); // blank line 4 skipped, row 3 spans 5–6
  assert.equal(t.isNumeric('kind'), false);
  assert.throws(() => t.numbers('kind'), (e: unknown) => e instanceof DataError && /p\.csv, line 2, column 3 \("kind"\): "a" is not a number.*categorical/.test(e.message));
});

test('csv: other delimiters, numbers in exponent form, no trailing newline', () => {
  const t = parseCsv('a\tb\n1e3\t-0.5\n+2\t.25', { delimiter: '\t' });
  assert.deepEqual(Array.from(t.numbers('a')), [1000, 2]);
  assert.deepEqual(Array.from(t.numbers('b')), [-0.5, 0.25]);
  assert.equal(t.cell(0, 'a'), '1e3');
  assert.throws(() => parseCsv('a\n1', { delimiter: '"' }), (e: unknown) => e instanceof ConfigError && /delimiter/.test(e.message));
});

test('csv: a missing cell is a DataError with file, line and column', () => {
  const t = parseCsv('temp,humidity,power\n3.21,86.34,491.35\n31.41,,430.37\n', { file: 'plant.csv' });
  assert.ok(t.isMissing(1, 'humidity'));
  assert.throws(() => t.numbers('humidity'), (e: unknown) => e instanceof DataError && /^plant\.csv, line 3, column 2 \("humidity"\): missing value$/.test(e.message));
  assert.throws(() => selectColumns(t, { targets: ['power'] }), (e: unknown) => e instanceof DataError && /plant\.csv, line 3, column 2 \("humidity"\): missing value/.test(e.message));
  const c = parseCsv('k,v\na,1\n"",2\n', { file: 'c.csv' });
  assert.throws(() => c.strings('k'), (e: unknown) => e instanceof DataError && /c\.csv, line 3, column 1 \("k"\): missing value/.test(e.message));
});

test('csv: a non-numeric cell in a numeric column is a DataError with file, line and column', () => {
  const t = parseCsv('temp,humidity,power\n3.21,86.34,491.35\n31.41,68.50,n/a\n', { file: 'plant.csv' });
  assert.throws(
    () => selectColumns(t, { targets: ['power'] }),
    (e: unknown) => e instanceof DataError && /^plant\.csv, line 3, column 3 \("power"\): "n\/a" is not a number/.test(e.message),
  );
  assert.throws(() => t.numberAt(1, 'power'), DataError);
  for (const bad of ['NaN', 'Infinity', '0x10', '1,5', '3.2.1']) {
    const q = parseCsv(`a\n"${bad}"\n`, { file: 'q.csv' });
    assert.throws(() => q.numbers('a'), (e: unknown) => e instanceof DataError && /q\.csv, line 2, column 1 \("a"\): ".*" is not a number/.test(e.message), bad);
  }
});

test('csv: ragged rows are DataErrors with file, line and column', () => {
  assert.throws(
    () => parseCsv('a,b,c\n1,2,3\n4,5\n', { file: 'r.csv' }),
    (e: unknown) => e instanceof DataError && /^r\.csv, line 3, column 3 \("c"\): missing cell — the row has 2 cells, the header has 3 columns$/.test(e.message),
  );
  assert.throws(
    () => parseCsv('a,b,c\n1,2,3\n4,5,6,7\n', { file: 'r.csv' }),
    (e: unknown) => e instanceof DataError && /^r\.csv, line 3, column 4: extra cell — the row has 4 cells, the header has 3 columns$/.test(e.message),
  );
  assert.throws(() => CsvTable.fromRows(['a', 'b'], [[1, 2], [3]], 'mem'), (e: unknown) => e instanceof DataError && /mem, line 3, column 2 \("b"\): missing cell/.test(e.message));
});

test('csv: malformed quoting, bad headers and empty files are DataErrors', () => {
  assert.throws(() => parseCsv('a,b\n1,"oops\n2,3\n', { file: 'u.csv' }), (e: unknown) => e instanceof DataError && /u\.csv, line 2, column 2: unterminated quoted cell/.test(e.message));
  assert.throws(() => parseCsv('a,b\n1,"x"y\n', { file: 'u.csv' }), (e: unknown) => e instanceof DataError && /u\.csv, line 2, column 2: unexpected "y" after a closing quote/.test(e.message));
  assert.throws(() => parseCsv('a,b,a\n1,2,3\n', { file: 'h.csv' }), (e: unknown) => e instanceof DataError && /h\.csv, line 1: column name "a" appears twice \(columns 1 and 3\)/.test(e.message));
  assert.throws(() => parseCsv('a,,c\n1,2,3\n', { file: 'h.csv' }), (e: unknown) => e instanceof DataError && /h\.csv, line 1, column 2: empty column name/.test(e.message));
  assert.throws(() => parseCsv('\n\n', { file: 'e.csv' }), (e: unknown) => e instanceof DataError && /e\.csv: the file is empty/.test(e.message));
  const onlyHeader = parseCsv('a,b\n');
  assert.equal(onlyHeader.rowCount, 0);
});

test('csv: an unknown target column is a DataError listing the columns', () => {
  const t = parseCsv(PLANT, { file: 'plant.csv' });
  assert.throws(
    () => selectColumns(t, { targets: ['output'] }),
    (e: unknown) => e instanceof DataError && e.message === 'plant.csv: unknown target column "output"; the columns are: temp, humidity, power',
  );
  assert.throws(() => selectColumns(t, { targets: ['power'], inputs: ['tmp'] }), (e: unknown) => e instanceof DataError && /unknown input column "tmp"; the columns are: temp, humidity, power/.test(e.message));
  assert.throws(() => selectColumns(t, { targets: [] }), (e: unknown) => e instanceof ConfigError && /"targets" must name at least one column/.test(e.message));
});

test('csv: selectColumns gives float32 tensors; inputs reshape row-major to an example shape', () => {
  const t = parseCsv(PLANT);
  const { x, y, inputColumns, targetColumns } = selectColumns(t, { targets: ['power'] });
  assert.deepEqual(x.shape, [4, 2]);
  assert.deepEqual(y.shape, [4, 1]);
  assert.deepEqual(inputColumns, ['temp', 'humidity']);
  assert.deepEqual(targetColumns, ['power']);
  assert.ok(x.data instanceof Float32Array);
  assert.equal(x.data[2], Math.fround(31.41));
  assert.equal(y.data[3], Math.fround(447.14));

  // 8 pixel columns + label → [N, 2, 2, 2] (row-major); [T, features] for sequences
  const header = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'label'];
  const img = CsvTable.fromRows(header, [[0, 1, 2, 3, 4, 5, 6, 7, 1], [10, 11, 12, 13, 14, 15, 16, 17, 0]]);
  const s = selectColumns(img, { targets: ['label'], inputShape: [2, 2, 2] });
  assert.deepEqual(s.x.shape, [2, 2, 2, 2]);
  assert.deepEqual(s.x.toArray(), [[[[0, 1], [2, 3]], [[4, 5], [6, 7]]], [[[10, 11], [12, 13]], [[14, 15], [16, 17]]]]);
  const seq = selectColumns(img, { targets: ['label'], inputShape: [4, 2] });
  assert.deepEqual((seq.x.toArray() as number[][][])[0][1], [2, 3]);
  const ty = selectColumns(img, { targets: ['p6', 'p7'], inputs: ['p0'], targetShape: [2, 1] });
  assert.deepEqual(ty.y.shape, [2, 2, 1]);
  assert.throws(
    () => selectColumns(img, { targets: ['label'], inputShape: [1, 3, 3] }),
    (e: unknown) => e instanceof ShapeError && /input shape \[1, 3, 3\] holds 9 values per example, but there are 8 input columns/.test(e.message),
  );
  assert.throws(() => selectColumns(img, { targets: ['label'], inputShape: [0, 8] }), (e: unknown) => e instanceof ConfigError && /input shape must be a list of positive integers/.test(e.message));
  assert.deepEqual(Array.from(columnsMatrix(img, ['p1', 'label'])), [1, 1, 11, 0]);
});

test('csv: take keeps line numbers for errors', () => {
  const t = parseCsv('a,b\n1,x\n2,\n3,z\n', { file: 't.csv' });
  const sub = t.take([2, 1]);
  assert.deepEqual(Array.from(sub.numbers('a')), [3, 2]);
  assert.equal(sub.cell(0, 'b'), 'z');
  assert.throws(() => sub.strings('b'), (e: unknown) => e instanceof DataError && /t\.csv, line 3, column 2 \("b"\): missing value/.test(e.message));
  assert.throws(() => t.take([3]), (e: unknown) => e instanceof DataError && /row index 3 is out of range \[0, 3\)/.test(e.message));
});

test('csv: readCsv names the path in errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dendrite-csv-'));
  try {
    const f = join(dir, 'plant.csv');
    writeFileSync(f, PLANT);
    const t = await readCsv(f);
    assert.equal(t.file, f);
    assert.equal(t.rowCount, 4);
    writeFileSync(f, 'a,b\n1,2\n3\n');
    await assert.rejects(readCsv(f), (e: unknown) => e instanceof DataError && e.message.startsWith(`${f}, line 3, column 2 ("b"): missing cell`));
    await assert.rejects(readCsv(join(dir, 'nope.csv')), (e: unknown) => e instanceof DataError && /nope\.csv: cannot read the file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('csv: numbers beyond the finite float32 range are a DataError with file, line and column', () => {
  for (const v of ['1e309', '4e38', '-3.5e38', '4e+38', '-1e400']) {
    const t = parseCsv(`a,b\n1,2\n3,${v}\n`, { file: 'big.csv' });
    assert.throws(() => t.numbers('b'), (e: unknown) => e instanceof DataError && e.message === `big.csv, line 3, column 2 ("b"): ${v} is outside the finite range of float32 (±3.4028235e38)`);
    assert.throws(() => t.numberAt(1, 'b'), DataError);
    assert.throws(() => selectColumns(t, { targets: ['a'] }), DataError);
  }
  // the largest float32 and values that round to it are fine
  const ok = parseCsv('a\n3.4028234663852886e38\n-3.4028235e38\n1e-50\n');
  assert.deepEqual(Array.from(columnsMatrix(ok, ['a'])), [3.4028234663852886e38, -3.4028234663852886e38, 0]);
});

test('readCsv: FIFOs and directories are refused without blocking', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dendrite-csv-'));
  try {
    const fifo = join(dir, 'data.csv');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(readCsv(fifo), (e: unknown) => e instanceof DataError && /data\.csv: the CSV file is a FIFO \(named pipe\), not a regular file/.test(e.message));
    await assert.rejects(readCsv(dir), (e: unknown) => e instanceof DataError && /the CSV file is a directory/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
