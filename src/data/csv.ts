import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { nodeBuiltin } from '../node-edge.js';
import { openRegularFile } from './node-files.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';

/** Options of {@link parseCsv} and {@link readCsv}. */
export interface CsvOptions {
  /** Name of the file in error messages (default `'<csv>'`; {@link readCsv} uses the path). */
  file?: string;
  /** Cell separator, one character (default `','`). */
  delimiter?: string;
}

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a cell as a decimal number, or NaN when it is not one (empty, text, `NaN`, hex …). */
function parseNumber(s: string): number {
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

/**
 * One column's cells. Numbers are kept in a Float64Array (NaN where the cell is missing or not a
 * number); the exact text is kept only for cells whose text differs from `String(number)` (e.g.
 * `03.21`, `1e3`) or that are not numbers, so large numeric files cost 8 bytes per cell.
 */
interface Column {
  num: Float64Array;
  raw: Map<number, string>;
}

function growColumn(c: Column, cap: number): void {
  const n = new Float64Array(cap);
  n.set(c.num);
  c.num = n;
}

/** Which column to use: a header name or a 0-based index. */
export type ColumnRef = string | number;

/**
 * A parsed CSV file: a header row of column names and rows of numeric or categorical (text) cells.
 * Every accessor that needs a number or a value throws a {@link DataError} naming the file, the
 * line and the column (`data.csv, line 4, column 2 ("humidity"): missing value`).
 * Build one with {@link parseCsv}, {@link readCsv} or {@link CsvTable.fromRows}.
 *
 * @example
 * ```ts
 * const t = parseCsv('temp,kind\n3.21,a\n31.41,b\n', { file: 'plant.csv' });
 * t.columns;          // ['temp', 'kind']
 * t.numbers('temp');  // Float64Array [3.21, 31.41]
 * t.strings('kind');  // ['a', 'b']
 * t.line(1);          // 3 (the file line of row 1)
 * ```
 */
export class CsvTable {
  /** File name used in error messages. */
  readonly file: string;
  /** Column names from the header row, in file order. */
  readonly columns: readonly string[];
  private readonly cols: Column[];
  private readonly lines: Int32Array;
  private readonly n: number;

  /** @internal Use {@link parseCsv}, {@link readCsv} or {@link CsvTable.fromRows}. */
  constructor(file: string, columns: readonly string[], cols: Column[], lines: Int32Array, rowCount: number) {
    this.file = file;
    this.columns = Object.freeze([...columns]);
    this.cols = cols;
    this.lines = lines;
    this.n = rowCount;
  }

  /**
   * A table from in-memory rows (numbers or strings; `''`, `null` and `undefined` are missing).
   * Line numbers are reported as if the header were line 1 and row i were line i + 2.
   *
   * @example
   * ```ts
   * const t = CsvTable.fromRows(['x', 'y'], [[1, 'a'], [2, 'b']]);
   * ```
   */
  static fromRows(columns: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[], file = '<rows>'): CsvTable {
    checkHeader(columns, file);
    const cols: Column[] = columns.map(() => ({ num: new Float64Array(rows.length), raw: new Map() }));
    const lines = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      lines[i] = i + 2;
      if (r.length !== columns.length) raggedError(file, i + 2, r.length, columns);
      r.forEach((v, j) => setCell(cols[j], i, v === null || v === undefined ? '' : typeof v === 'number' ? String(v) : v));
    });
    return new CsvTable(file, columns, cols, lines, rows.length);
  }

  /** Number of data rows (the header is not a row). */
  get rowCount(): number {
    return this.n;
  }

  /** The 1-based line of the file where data row `row` (0-based) starts. */
  line(row: number): number {
    return this.lines[row];
  }

  /**
   * The 0-based index of a column given by name or index; `role` words the error
   * (`'target column'`), which lists the columns there are.
   */
  columnIndex(ref: ColumnRef, role = 'column'): number {
    if (typeof ref === 'number') {
      if (Number.isInteger(ref) && ref >= 0 && ref < this.columns.length) return ref;
      throw new DataError(`${this.file}: ${role} index ${ref} is out of range; the file has ${this.columns.length} columns: ${this.columns.join(', ')}`);
    }
    const i = this.columns.indexOf(ref);
    if (i < 0) throw new DataError(`${this.file}: unknown ${role} "${ref}"; the columns are: ${this.columns.join(', ')}`);
    return i;
  }

  /** Where a cell is, for messages: `plant.csv, line 3, column 2 ("humidity")`. */
  where(row: number, col: number): string {
    return `${this.file}, line ${this.lines[row]}, column ${col + 1} ("${this.columns[col]}")`;
  }

  /** The text of a cell (`''` when missing). */
  cell(row: number, ref: ColumnRef): string {
    const c = this.cols[this.columnIndex(ref)];
    const raw = c.raw.get(row);
    return raw !== undefined ? raw : String(c.num[row]);
  }

  /** Whether a cell is empty. */
  isMissing(row: number, ref: ColumnRef): boolean {
    const c = this.cols[this.columnIndex(ref)];
    return Number.isNaN(c.num[row]) && c.raw.get(row) === '';
  }

  /** Whether every cell of the column is a number (none missing). */
  isNumeric(ref: ColumnRef): boolean {
    const c = this.cols[this.columnIndex(ref)];
    for (let i = 0; i < this.n; i++) if (Number.isNaN(c.num[i])) return false;
    return true;
  }

  /** The number in a cell; DataError for a missing or non-numeric cell. */
  numberAt(row: number, ref: ColumnRef): number {
    const j = this.columnIndex(ref);
    const v = this.cols[j].num[row];
    if (!Number.isFinite(Math.fround(v))) this.badNumber(row, j);
    return v;
  }

  /**
   * A numeric column as float64 values; DataError (file, line, column) at the first missing or
   * non-numeric cell, or a number beyond float32's finite range (e.g. `1e309`, `4e38`).
   */
  numbers(ref: ColumnRef, role = 'column'): Float64Array {
    const j = this.columnIndex(ref, role);
    const num = this.cols[j].num;
    for (let i = 0; i < this.n; i++) if (!Number.isFinite(Math.fround(num[i]))) this.badNumber(i, j, role);
    return num.slice(0, this.n);
  }

  /** A categorical column as text values; DataError (file, line, column) at the first missing cell. */
  strings(ref: ColumnRef, role = 'column'): string[] {
    const j = this.columnIndex(ref, role);
    const out: string[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const s = this.cell(i, j);
      if (s === '') throw new DataError(`${this.where(i, j)}: missing value`);
      out[i] = s;
    }
    return out;
  }

  /**
   * A new table with the given rows (in that order), keeping their line numbers for errors —
   * e.g. the training part of a split.
   *
   * @example
   * ```ts
   * const { train, validation } = splitIndices(table.rowCount, { validation: 0.2, seed: 1 });
   * const trainTable = table.take(train);
   * ```
   */
  take(rows: ArrayLike<number>): CsvTable {
    const m = rows.length;
    const lines = new Int32Array(m);
    const cols: Column[] = this.cols.map(() => ({ num: new Float64Array(m), raw: new Map() }));
    for (let k = 0; k < m; k++) {
      const r = rows[k];
      if (!Number.isInteger(r) || r < 0 || r >= this.n) throw new DataError(`${this.file}: row index ${r} is out of range [0, ${this.n})`);
      lines[k] = this.lines[r];
      for (let j = 0; j < cols.length; j++) {
        cols[j].num[k] = this.cols[j].num[r];
        const raw = this.cols[j].raw.get(r);
        if (raw !== undefined) cols[j].raw.set(k, raw);
      }
    }
    return new CsvTable(this.file, this.columns, cols, lines, m);
  }

  private badNumber(row: number, col: number, role = 'column'): never {
    const v = this.cols[col].num[row];
    if (!Number.isNaN(v)) {
      throw new DataError(`${this.where(row, col)}: ${this.cell(row, col)} is outside the finite range of float32 (±3.4028235e38)`);
    }
    const raw = this.cols[col].raw.get(row) ?? '';
    if (raw === '') throw new DataError(`${this.where(row, col)}: missing value`);
    const name = this.columns[col];
    const fix = role.startsWith('target')
      ? `a text target is a class label: train with "loss": "crossEntropy" (softmax output), or give the spec "target": {"type": "classification"}`
      : `declare a text column categorical in the spec's "columns": {"${name}": {"type": "categorical"}}`;
    throw new DataError(`${this.where(row, col)}: "${raw}" is not a number (the column is used as numeric; ${fix})`);
  }
}

function checkHeader(columns: readonly string[], file: string): void {
  if (columns.length === 0) throw new DataError(`${file}, line 1: the header row is empty`);
  const seen = new Map<string, number>();
  columns.forEach((name, j) => {
    if (name === '') throw new DataError(`${file}, line 1, column ${j + 1}: empty column name in the header`);
    const prev = seen.get(name);
    if (prev !== undefined) throw new DataError(`${file}, line 1: column name "${name}" appears twice (columns ${prev + 1} and ${j + 1})`);
    seen.set(name, j);
  });
}

function raggedError(file: string, line: number, cells: number, columns: readonly string[]): never {
  if (cells < columns.length) {
    throw new DataError(
      `${file}, line ${line}, column ${cells + 1} ("${columns[cells]}"): missing cell — the row has ${cells} cells, the header has ${columns.length} columns`,
    );
  }
  throw new DataError(`${file}, line ${line}, column ${columns.length + 1}: extra cell — the row has ${cells} cells, the header has ${columns.length} columns`);
}

/**
 * Numbers written the way JavaScript prints them (no sign, leading or trailing zeros to spare,
 * no exponent). With at most 15 characters (so ≤ 15 significant digits, which a double keeps
 * exactly) and |v| ≥ 1e-6 (printed without an exponent), `String(Number(s)) === s`: the common
 * case is decided without formatting the number back.
 */
const CANONICAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;
const TINY_RE = /^-?0\.0{6}/;

function setCell(c: Column, row: number, s: string): void {
  if (s.length <= 15 && CANONICAL_RE.test(s) && s !== '-0' && !TINY_RE.test(s)) {
    c.num[row] = Number(s);
    return;
  }
  const v = parseNumber(s);
  c.num[row] = v;
  if (Number.isNaN(v) || String(v) !== s) c.raw.set(row, s);
}

/**
 * Parses CSV text with a header row. Cells are separated by `delimiter` (default `,`); a cell may
 * be quoted with `"` (then it may hold delimiters, newlines and `""` for a quote); spaces around
 * unquoted cells and outside quotes are ignored; blank lines are skipped; CRLF, LF and CR line
 * ends and a UTF-8 byte-order mark are accepted. An empty cell is a missing value. Rows with more
 * or fewer cells than the header, an unterminated quote, or text after a closing quote raise a
 * {@link DataError} with the file, line and column.
 *
 * @example
 * ```ts
 * const t = parseCsv('id,name\n1,"Smith, J."\n', { file: 'people.csv' });
 * t.strings('name'); // ['Smith, J.']
 * ```
 */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  const file = opts.file ?? '<csv>';
  const delim = opts.delimiter ?? ',';
  if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new ConfigError(`parseCsv: delimiter must be one character other than a quote or line end, received ${JSON.stringify(delim)}`);
  }
  const D = delim.charCodeAt(0);
  const Q = 34;
  const LF = 10;
  const CR = 13;
  const len = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  let header: string[] | null = null;
  let cols: Column[] = [];
  let cap = 0;
  let lines = new Int32Array(0);
  let n = 0;
  const cells: string[] = [];

  const isSpace = (c: number): boolean => (c === 32 || c === 9) && c !== D;

  while (pos < len) {
    // one record
    const recLine = line;
    cells.length = 0;
    let blank = true;
    for (;;) {
      // one cell
      while (pos < len && isSpace(text.charCodeAt(pos))) pos++;
      let value: string;
      if (pos < len && text.charCodeAt(pos) === Q) {
        blank = false;
        const qLine = line;
        const qCol = cells.length + 1;
        pos++;
        let out = '';
        let start = pos;
        for (;;) {
          if (pos >= len) throw new DataError(`${file}, line ${qLine}, column ${qCol}: unterminated quoted cell (no closing " before the end of the file)`);
          const c = text.charCodeAt(pos);
          if (c === Q) {
            if (pos + 1 < len && text.charCodeAt(pos + 1) === Q) {
              out += text.slice(start, pos + 1);
              pos += 2;
              start = pos;
              continue;
            }
            out += text.slice(start, pos);
            pos++;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(pos + 1) !== LF)) line++;
          pos++;
        }
        value = out;
        while (pos < len && isSpace(text.charCodeAt(pos))) pos++;
        if (pos < len) {
          const c = text.charCodeAt(pos);
          if (c !== D && c !== LF && c !== CR) {
            throw new DataError(`${file}, line ${line}, column ${cells.length + 1}: unexpected ${JSON.stringify(text[pos])} after a closing quote`);
          }
        }
      } else {
        const start = pos;
        while (pos < len) {
          const c = text.charCodeAt(pos);
          if (c === D || c === LF || c === CR) break;
          pos++;
        }
        value = text.slice(start, pos).trim();
        if (value !== '') blank = false;
      }
      cells.push(value);
      if (pos < len && text.charCodeAt(pos) === D) {
        blank = false;
        pos++;
        continue;
      }
      // end of record (line end or end of text)
      if (pos < len) {
        if (text.charCodeAt(pos) === CR && text.charCodeAt(pos + 1) === LF) pos++;
        pos++;
        line++;
      }
      break;
    }
    if (blank) continue;
    if (header === null) {
      header = cells.slice();
      checkHeader(header, file);
      cols = header.map(() => ({ num: new Float64Array(0), raw: new Map() }));
      continue;
    }
    if (cells.length !== header.length) raggedError(file, recLine, cells.length, header);
    if (n === cap) {
      cap = Math.max(16, cap * 2);
      for (const c of cols) growColumn(c, cap);
      const l = new Int32Array(cap);
      l.set(lines);
      lines = l;
    }
    for (let j = 0; j < cells.length; j++) setCell(cols[j], n, cells[j]);
    lines[n] = recLine;
    n++;
  }
  if (header === null) throw new DataError(`${file}: the file is empty (a header row with the column names is needed)`);
  return new CsvTable(file, header, cols, lines, n);
}

/**
 * Reads and parses a CSV file (UTF-8) with {@link parseCsv}; errors name the path. Node only
 * (loads `node:fs` when called).
 *
 * @example
 * ```ts
 * const table = await readCsv('plant.csv');
 * ```
 */
export async function readCsv(path: string, opts: Omit<CsvOptions, 'file'> = {}): Promise<CsvTable> {
  const { handle } = await openRegularFile(path, { what: 'CSV file', fail: (m) => new DataError(m) });
  let text: string;
  try {
    text = await handle.readFile('utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read the file (${(e as Error).message})`);
  } finally {
    await handle.close();
  }
  return parseCsv(text, { ...opts, file: path });
}

/**
 * The given numeric columns as a row-major float32 matrix `[rows, columns.length]`; DataError
 * (file, line, column) for a missing or non-numeric cell, or an unknown column (listing them).
 *
 * @example
 * ```ts
 * const m = columnsMatrix(table, ['temp', 'humidity']); // Float32Array, 2 values per row
 * ```
 */
export function columnsMatrix(table: CsvTable, columns: readonly ColumnRef[], role = 'column'): Float32Array {
  const idx = columns.map((c) => table.columnIndex(c, role));
  const n = table.rowCount;
  const k = idx.length;
  const out = new Float32Array(n * k);
  idx.forEach((j, c) => {
    const v = table.numbers(j, role);
    for (let i = 0; i < n; i++) out[i * k + c] = v[i];
  });
  return out;
}

/** Options of {@link selectColumns}. */
export interface SelectOptions {
  /** Target columns by name (or index). */
  targets: readonly ColumnRef[];
  /** Input columns; default every column that is not a target, in file order. */
  inputs?: readonly ColumnRef[];
  /**
   * Shape of one example; the input columns are laid out row-major into it (e.g. `[1, 6, 6]` for
   * a 6×6 one-channel image, `[T, features]` for a sequence). Default `[inputs.length]`.
   */
  inputShape?: readonly number[];
  /** Shape of one example's targets (e.g. `[T, outputs]`). Default `[targets.length]`. */
  targetShape?: readonly number[];
}

/** Result of {@link selectColumns}. */
export interface Selected {
  /** Inputs `[rows, ...inputShape]`. */
  x: Tensor;
  /** Targets `[rows, ...targetShape]`. */
  y: Tensor;
  /** Names of the input columns, in the order they were laid out. */
  inputColumns: string[];
  /** Names of the target columns. */
  targetColumns: string[];
}

/**
 * Checks that `shape` holds exactly `count` values per example and returns the tensor shape for
 * `rows` examples (ShapeError otherwise; `what` words it). Without `shape`: `[rows, count]`.
 *
 * @example
 * ```ts
 * exampleShape(10, 36, [1, 6, 6], 'input'); // [10, 1, 6, 6]
 * exampleShape(10, 35, [1, 6, 6], 'input'); // ShapeError: input shape [1, 6, 6] holds 36 values …
 * ```
 */
export function exampleShape(rows: number, count: number, shape: readonly number[] | undefined, what: string): number[] {
  if (!shape) return [rows, count];
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ConfigError(`${what} shape must be a list of positive integers, received ${JSON.stringify(shape)}`);
  }
  if (shapeSize(shape) !== count) {
    throw new ShapeError(`${what} shape ${fmtShape(shape)} holds ${shapeSize(shape)} values per example, but there are ${count} ${what} columns`);
  }
  return [rows, ...shape];
}

/**
 * Selects input and target columns of a table by name as float32 tensors, optionally reshaping
 * each row's inputs (row-major) to an example shape. Every used cell must be a number (use
 * {@link prepareTable} for categorical columns and normalisation).
 *
 * @example
 * ```ts
 * const t = parseCsv('a,b,c\n0.04,0.81,0.94\n0.84,0.58,0.13\n');
 * const { x, y } = selectColumns(t, { targets: ['c'] }); // x [2, 2], y [2, 1]
 * // 36 pixel columns → images [N, 1, 6, 6]:
 * // selectColumns(img, { targets: ['label'], inputShape: [1, 6, 6] })
 * ```
 */
export function selectColumns(table: CsvTable, opts: SelectOptions): Selected {
  if (!opts || !Array.isArray(opts.targets) || opts.targets.length === 0) {
    throw new ConfigError(`selectColumns: "targets" must name at least one column; the columns are: ${table.columns.join(', ')}`);
  }
  const tIdx = opts.targets.map((c) => table.columnIndex(c, 'target column'));
  const iIdx = opts.inputs
    ? opts.inputs.map((c) => table.columnIndex(c, 'input column'))
    : table.columns.map((_, j) => j).filter((j) => !tIdx.includes(j));
  if (iIdx.length === 0) throw new ConfigError(`${table.file}: no input columns are left after taking the targets (${opts.targets.join(', ')})`);
  const n = table.rowCount;
  const xShape = exampleShape(n, iIdx.length, opts.inputShape, 'input');
  const yShape = exampleShape(n, tIdx.length, opts.targetShape, 'target');
  const x = zeros(xShape);
  x.data.set(columnsMatrix(table, iIdx, 'input column'));
  const y = zeros(yShape);
  y.data.set(columnsMatrix(table, tIdx, 'target column'));
  return { x, y, inputColumns: iIdx.map((j) => table.columns[j]), targetColumns: tIdx.map((j) => table.columns[j]) };
}

/**
 * Reads and parses a CSV `File` or `Blob` (UTF-8), e.g. from an `<input type="file">` in a
 * browser, with {@link parseCsv}; errors name the file.
 *
 * @example
 * ```ts
 * const table = await parseCsvFile(input.files[0]);
 * ```
 */
export async function parseCsvFile(file: Blob, opts: CsvOptions = {}): Promise<CsvTable> {
  const name = opts.file ?? ((file as { name?: string }).name || '<csv file>');
  let text: string;
  try {
    text = await file.text();
  } catch (e) {
    throw new DataError(`${name}: cannot read the file (${(e as Error).message})`);
  }
  return parseCsv(text, { ...opts, file: name });
}
