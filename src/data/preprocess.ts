import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import type { CsvTable } from './csv.js';
import { exampleShape } from './csv.js';
import { OneHotEncoder } from './encode.js';
import { coefficients } from './normalize.js';
import { checkFeatureTransform, featureWidth, fitInputs, validateColumnsSpec, writeFeature } from './columns.js';
import type { ColumnsSpec, FeatureTransform } from './columns.js';
import { checkTargetTransform, fitTarget, targetColumnsOf, writeTargets } from './target.js';
import type { TargetSpec, TargetTransform } from './target.js';
import { isObject } from '../validate.js';

// The table preprocessor: the fitted column and target preparations as one object, and
// prepareTable, which fits it on a table. The concerns it combines live in normalize.ts (column
// statistics), encode.ts (levels, one-hot, bins), columns.ts (column specs, input columns) and
// target.ts (the target modes); splitIndices in split.ts.

/** The JSON form of a {@link Preprocessor} (saved with a model). */
export interface PreprocessorJSON {
  format: 'dendrite-preprocessor';
  version: 1;
  inputs: FeatureTransform[];
  target: TargetTransform;
  inputShape: number[] | null;
  targetShape: number[] | null;
  warnings: string[];
}

/**
 * A fitted table preparation: which columns are inputs and how each is normalised or one-hot
 * encoded, and how the target is encoded — fitted on training data by {@link prepareTable},
 * applied to new tables with {@link Preprocessor.transform}, saved as JSON with a model.
 *
 * @example
 * ```ts
 * const { x, y, preprocessor } = prepareTable(train, columns, { columns: 'power' });
 * const { x: xTest } = preprocessor.transform(test);
 * const mw = preprocessor.inverseTargets(model.predict(xTest)); // back in MW
 * fs.writeFileSync('pre.json', JSON.stringify(preprocessor));
 * const again = Preprocessor.fromJSON(JSON.parse(fs.readFileSync('pre.json', 'utf8')));
 * ```
 */
export class Preprocessor {
  /** Input columns in order, with their fitted transforms. */
  readonly inputs: readonly FeatureTransform[];
  /** The target's fitted encoding. */
  readonly target: TargetTransform;
  /** Example shape the inputs are laid out in (row-major), or null for a flat vector. */
  readonly inputShape: readonly number[] | null;
  /** Example shape of the targets, or null for a flat vector. */
  readonly targetShape: readonly number[] | null;
  /** What happened while fitting (constant columns, single-level inputs), for the caller to print. */
  readonly warnings: readonly string[];

  constructor(json: Omit<PreprocessorJSON, 'format' | 'version'>) {
    this.inputs = json.inputs;
    this.target = json.target;
    this.inputShape = json.inputShape;
    this.targetShape = json.targetShape;
    this.warnings = json.warnings;
    if (this.inputShape) exampleShape(0, this.inputSize, this.inputShape, 'input');
    if (this.targetShape) exampleShape(0, this.outputSize, this.targetShape, 'target');
  }

  /** Names of the input features after encoding (`temp`, `kind=a`, `kind=b`, …). */
  get inputNames(): string[] {
    return this.inputs.flatMap((f) => (f.type === 'numeric' ? [f.column] : f.levels.map((l) => `${f.column}=${l}`)));
  }

  /** Number of input values per example. */
  get inputSize(): number {
    return this.inputs.reduce((s, f) => s + featureWidth(f), 0);
  }

  /** Names of the target columns that the data must hold. */
  get targetColumns(): string[] {
    const t = this.target;
    if (t.type === 'regression') return t.columns.map((c) => c.column);
    return t.source === 'indicators' ? [...t.columns] : [t.column];
  }

  /** Names of the outputs: the regression columns, or the classification levels. */
  get outputNames(): string[] {
    const t = this.target;
    return t.type === 'regression' ? t.columns.map((c) => c.column) : [...t.levels];
  }

  /** Number of output values per example. */
  get outputSize(): number {
    return this.outputNames.length;
  }

  /** The classification levels (output order), or null for regression. */
  get levels(): readonly string[] | null {
    return this.target.type === 'classification' ? this.target.levels : null;
  }

  /** Prepared inputs of a table `[rows, ...inputShape]`; DataError for a missing or bad cell. */
  transformInputs(table: CsvTable): Tensor {
    const n = table.rowCount;
    const width = this.inputSize;
    const out = zeros(exampleShape(n, width, this.inputShape ?? undefined, 'input'));
    let off = 0;
    for (const f of this.inputs) {
      writeFeature(table, f, out.data, width, off);
      off += featureWidth(f);
    }
    return out;
  }

  /** Prepared targets of a table `[rows, ...targetShape]`; DataError for a missing or bad cell. */
  transformTargets(table: CsvTable): Tensor {
    const width = this.outputSize;
    const out = zeros(exampleShape(table.rowCount, width, this.targetShape ?? undefined, 'target'));
    writeTargets(table, this.target, out.data, width);
    return out;
  }

  /**
   * Prepared inputs and targets of a table (new data, with the training statistics). `y` is
   * null when the table has none of the target columns (data to predict on); with
   * `{ requireTargets: true }` it is typed `Tensor` and a table without them is a `DataError`.
   *
   * @example
   * ```ts
   * const { x, y } = preprocessor.transform(testTable, { requireTargets: true }); // y: Tensor
   * const { x: xNew } = preprocessor.transform(newTable);                       // y: null here
   * ```
   */
  transform(table: CsvTable, opts: { requireTargets: true }): { x: Tensor; y: Tensor };
  transform(table: CsvTable, opts?: { requireTargets?: boolean }): { x: Tensor; y: Tensor | null };
  transform(table: CsvTable, opts: { requireTargets?: boolean } = {}): { x: Tensor; y: Tensor | null } {
    const present = this.targetColumns.filter((c) => table.columns.includes(c));
    if (present.length === 0 && opts.requireTargets) {
      throw new DataError(`${table.file}: the target column(s) ${this.targetColumns.join(', ')} are missing; the columns are: ${table.columns.join(', ')}`);
    }
    const y = present.length === 0 ? null : this.transformTargets(table);
    return { x: this.transformInputs(table), y };
  }

  /**
   * Maps regression outputs `[N, ...targetShape]` back to the target's original units (e.g. MW).
   * ConfigError for a classification target (use {@link Preprocessor.decode}).
   */
  inverseTargets(y: Tensor): Tensor {
    const t = this.target;
    if (t.type !== 'regression') throw new ConfigError(`inverseTargets() maps regression outputs back; this target is a classification (use decode())`);
    const w = t.columns.length;
    const n = y.shape[0] ?? 0;
    if (y.rank < 1 || n * w !== y.size) throw new ShapeError(`inverseTargets expects [N, ${w}] outputs (${this.outputNames.join(', ')}), received ${fmtShape(y.shape)}`);
    const out = zeros(y.shape);
    t.columns.forEach((col, j) => {
      const { c, s, o } = coefficients(col);
      for (let i = 0; i < n; i++) out.data[i * w + j] = (y.data[i * w + j] - o) / s + c;
    });
    return out;
  }

  /** The predicted level of each row of classification outputs `[N, levels]`. */
  decode(y: Tensor): string[] {
    const t = this.target;
    if (t.type !== 'classification') throw new ConfigError(`decode() maps classification outputs to levels; this target is a regression (use inverseTargets())`);
    return new OneHotEncoder(t.levels, { name: t.source === 'indicators' ? 'target' : t.column }).decode(y);
  }

  /** The JSON form ({@link PreprocessorJSON}), e.g. for a model's manifest. */
  toJSON(): PreprocessorJSON {
    return JSON.parse(
      JSON.stringify({
        format: 'dendrite-preprocessor',
        version: 1,
        inputs: this.inputs,
        target: this.target,
        inputShape: this.inputShape,
        targetShape: this.targetShape,
        warnings: this.warnings,
      }),
    ) as PreprocessorJSON;
  }

  /** Rebuilds a preprocessor from its JSON form; ConfigError naming the first bad key. */
  static fromJSON(json: unknown): Preprocessor {
    const w = 'preprocessor';
    if (!isObject(json) || json.format !== 'dendrite-preprocessor') {
      throw new ConfigError(`${w}: expected an object with "format": "dendrite-preprocessor"`);
    }
    if (json.version !== 1) throw new ConfigError(`${w}.version ${JSON.stringify(json.version)} is not supported (this dendrite reads version 1)`);
    if (!Array.isArray(json.inputs)) throw new ConfigError(`${w}.inputs must be a list`);
    const inputs = json.inputs.map((f: unknown, i: number) => checkFeatureTransform(f, `${w}.inputs[${i}]`));
    const target = checkTargetTransform(json.target, `${w}.target`);
    const shape = (v: unknown, key: string): number[] | null => {
      if (v === null || v === undefined) return null;
      if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 1)) throw new ConfigError(`${w}.${key} must be null or a list of positive integers`);
      return v as number[];
    };
    return new Preprocessor({
      inputs,
      target,
      inputShape: shape(json.inputShape, 'inputShape'),
      targetShape: shape(json.targetShape, 'targetShape'),
      warnings: Array.isArray(json.warnings) ? json.warnings.map(String) : [],
    });
  }
}

/** Options of {@link prepareTable}. */
export interface PrepareOptions {
  /** Lay each example's inputs out row-major in this shape (e.g. `[1, 6, 6]`, `[T, features]`). */
  inputShape?: readonly number[];
  /** Lay each example's targets out in this shape (e.g. `[T, outputs]`). */
  targetShape?: readonly number[];
}

/**
 * Fits the preparation of a table on (training) data and applies it: inputs are every column
 * that is not a target and not `"ignore"`d, in file order; numeric columns are normalised as
 * their {@link ColumnSpec} says (or the `"*"` entry, for inputs that are not listed),
 * categorical ones one-hot encoded; the target is encoded as the {@link TargetSpec} says. The
 * format, as a model spec's keys:
 *
 * ```json
 * "columns": {"temp": {"normalize": "range"},
 *             "humidity": {"normalize": "range", "min": 25.56, "max": 100.16},
 *             "pressure": {"normalize": "standard"},
 *             "kind": {"type": "categorical", "levels": ["gas", "steam"]},
 *             "id": {"type": "ignore"},
 *             "power": {"normalize": "range"}},
 * "target": {"type": "regression"}
 * "target": {"type": "classification", "levels": ["low", "medium", "high"], "bins": [0.33, 0.66]}
 * ```
 * (`target.columns` comes from the CLI's `--target`.) Constant columns are not divided by zero;
 * what happened is in `preprocessor.warnings`. Errors: unknown column or spec key, bad values
 * (ConfigError naming the key), a target level not among the declared ones, a missing or
 * non-numeric cell (DataError with file, line and column), a classification target with a
 * single level (ConfigError).
 *
 * @example
 * ```ts
 * const table = parseCsv(text, { file: 'plant.csv' });
 * const { x, y, preprocessor } = prepareTable(table,
 *   { temp: { normalize: 'range' }, humidity: { normalize: 'range' }, power: { normalize: 'range' } },
 *   { columns: ['power'], type: 'regression' });
 * preprocessor.warnings.forEach((w) => console.warn(w));
 * ```
 */
export function prepareTable(
  table: CsvTable,
  columnsSpec: ColumnsSpec | undefined,
  targetSpec: TargetSpec,
  opts: PrepareOptions = {},
): { x: Tensor; y: Tensor; preprocessor: Preprocessor } {
  const cols = validateColumnsSpec(columnsSpec, table);
  const targetCols = targetColumnsOf(targetSpec, table);
  const warnings: string[] = [];
  const inputs = fitInputs(table, cols, targetCols, warnings);
  const target = fitTarget(table, cols, targetSpec, targetCols, warnings);
  const preprocessor = new Preprocessor({
    inputs,
    target,
    inputShape: opts.inputShape ? [...opts.inputShape] : null,
    targetShape: opts.targetShape ? [...opts.targetShape] : null,
    warnings,
  });
  return { x: preprocessor.transformInputs(table), y: preprocessor.transformTargets(table), preprocessor };
}
