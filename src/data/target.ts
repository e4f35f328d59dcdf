import { ConfigError, DataError } from '../errors.js';
import type { CsvTable } from './csv.js';
import { OneHotEncoder, binValues, checkBins, checkLevels } from './encode.js';
import { applyNumeric, checkNumericTransform, writeNormalized } from './normalize.js';
import type { NumericTransform } from './normalize.js';
import { checkColumnName, columnSpecOf, fitColumn, methodOf, rowOf } from './columns.js';
import type { ColumnSpec, ColumnsSpec } from './columns.js';
import { checkKeys, isObject } from '../validate.js';

// Target modes: regression, and classification by levels, by bins or by one-hot indicator
// columns; each fitted, applied and read back from JSON by its own function.

/**
 * What the model predicts:
 * - `columns` (or `column`): the target column(s) (the CLI's `--target COL[,COL…]`);
 * - `type`: `"regression"` (default; numeric columns, normalised as their `columns` entry says,
 *   mapped back by {@link Preprocessor.inverseTargets}) or `"classification"` (default when the
 *   target's `columns` entry is categorical);
 * - `levels`: classification levels in output order (declared); a value outside them is a
 *   DataError. Default: the levels in the training data, sorted;
 * - `bins`: classify a continuous column by upper bin edges (after its normalisation), e.g.
 *   `[0.33, 0.66]` with `levels` `["low", "medium", "high"]` (Table 14).
 * With several target columns, `classification` reads them as one-hot indicator columns (one 1
 * per row); the levels are the column names unless declared.
 */
export interface TargetSpec {
  columns?: string | string[];
  column?: string;
  type?: 'regression' | 'classification';
  levels?: string[];
  bins?: number[];
}

/** The fitted preparation of the target (plain JSON). */
export type TargetTransform =
  | { type: 'regression'; columns: ({ column: string } & NumericTransform)[] }
  | { type: 'classification'; source: 'levels'; column: string; levels: string[]; declared: boolean }
  | { type: 'classification'; source: 'bins'; column: string; levels: string[]; bins: number[]; scale: NumericTransform }
  | { type: 'classification'; source: 'indicators'; columns: string[]; levels: string[] };

type RegressionTarget = Extract<TargetTransform, { type: 'regression' }>;
type ClassificationTarget = Exclude<TargetTransform, RegressionTarget>;
/** A target column's entry in the `"columns"` spec (no `"*"` default) and where it is. */
type Entry = { s: ColumnSpec; where: string };

const TARGET_KEYS = ['columns', 'column', 'type', 'levels', 'bins'];

/** Checks a target spec's keys and returns the target column(s) it names, each in the table. */
export function targetColumnsOf(targetSpec: TargetSpec, table: CsvTable): string[] {
  if (!isObject(targetSpec)) throw new ConfigError(`"target" must be an object, received ${JSON.stringify(targetSpec)}`);
  checkKeys(targetSpec as Record<string, unknown>, TARGET_KEYS, 'target');
  const tcRaw = targetSpec.columns ?? targetSpec.column;
  const targetCols = typeof tcRaw === 'string' ? [tcRaw] : tcRaw;
  if (!Array.isArray(targetCols) || targetCols.length === 0 || targetCols.some((c) => typeof c !== 'string')) {
    throw new ConfigError(`target.columns must name the target column(s); the columns are: ${table.columns.join(', ')}`);
  }
  targetCols.forEach((c) => table.columnIndex(c, 'target column'));
  return targetCols;
}

/**
 * Fits the target's encoding on training data: the mode follows `target.type` (default
 * classification for a categorical column or with `levels`/`bins`, else regression) and the
 * number of target columns.
 */
export function fitTarget(table: CsvTable, cols: ColumnsSpec, targetSpec: TargetSpec, targetCols: string[], warnings: string[]): TargetTransform {
  const first = columnSpecOf(cols, targetCols[0], false);
  const categoricalTarget = targetCols.length === 1 && first.s.type === 'categorical';
  const type = targetSpec.type ?? (categoricalTarget || targetSpec.levels || targetSpec.bins ? 'classification' : 'regression');
  if (type !== 'regression' && type !== 'classification') {
    throw new ConfigError(`target.type must be "regression" or "classification", received ${JSON.stringify(type)}`);
  }
  if (type === 'regression') return fitRegression(table, cols, targetSpec, targetCols, warnings);
  if (targetCols.length > 1) return fitIndicators(targetSpec, targetCols);
  if (targetSpec.bins !== undefined) return fitBins(table, targetSpec, targetCols[0], first, warnings);
  return fitLevels(table, targetSpec, targetCols[0], first);
}

/** Regression: each target column normalised as its `"columns"` entry says. */
function fitRegression(table: CsvTable, cols: ColumnsSpec, targetSpec: TargetSpec, targetCols: string[], warnings: string[]): RegressionTarget {
  if (targetSpec.levels !== undefined || targetSpec.bins !== undefined) throw new ConfigError(`target: "levels" and "bins" need "type": "classification"`);
  const columns = targetCols.map((name) => {
    const entry = columnSpecOf(cols, name, false);
    if (entry.s.type === 'categorical') throw new ConfigError(`${entry.where}: a categorical column cannot be a regression target (use "target": {"type": "classification"})`);
    return { column: name, ...fitColumn(table, name, 'target', entry, warnings) };
  });
  return { type: 'regression', columns };
}

/** Classification by one-hot indicator columns (one 1 per row); the levels are the column names unless declared. */
function fitIndicators(targetSpec: TargetSpec, targetCols: string[]): ClassificationTarget {
  if (targetSpec.bins !== undefined) throw new ConfigError(`target.bins bins one continuous column; ${targetCols.length} target columns were given`);
  const levels = targetSpec.levels ? checkLevels(targetSpec.levels, 'target.levels') : [...targetCols];
  if (levels.length !== targetCols.length) {
    throw new ConfigError(`target.levels names ${levels.length} levels but ${targetCols.length} one-hot target columns were given (${targetCols.join(', ')})`);
  }
  return { type: 'classification', source: 'indicators', columns: [...targetCols], levels };
}

/** Classification of one continuous column by upper bin edges, after its normalisation. */
function fitBins(table: CsvTable, targetSpec: TargetSpec, name: string, entry: Entry, warnings: string[]): ClassificationTarget {
  const declared = targetSpec.levels ?? entry.s.levels;
  if (!declared) throw new ConfigError(`target.bins needs "levels" naming the ${(targetSpec.bins as unknown[]).length + 1} bins`);
  const levels = checkLevels(declared, 'target.levels');
  const bins = checkBins(targetSpec.bins, levels, 'target');
  const scale = fitColumn(table, name, 'target', entry, warnings);
  return { type: 'classification', source: 'bins', column: name, levels, bins, scale };
}

/** Classification of one column by its levels (declared, or those in the data, sorted). */
function fitLevels(table: CsvTable, targetSpec: TargetSpec, name: string, { s, where }: Entry): ClassificationTarget {
  if (methodOf(s, where) !== 'none') throw new ConfigError(`${where}: a classification target is one-hot encoded, not normalised (remove "normalize" or add "bins")`);
  const declared = targetSpec.levels ?? s.levels;
  const enc = OneHotEncoder.fit(table.strings(name, 'target column'), {
    levels: declared ? checkLevels(declared, 'target.levels') : undefined,
    name,
    role: 'target',
    where: rowOf(table),
  });
  return { type: 'classification', source: 'levels', column: name, levels: [...enc.levels], declared: enc.declared };
}

/** Writes a table's prepared targets into `out` (rows of `width` values). */
export function writeTargets(table: CsvTable, t: TargetTransform, out: Float32Array, width: number): void {
  if (t.type === 'regression') {
    t.columns.forEach((col, j) => writeNormalized(table.numbers(col.column, 'target column'), col, out, width, j));
    return;
  }
  const idx = classIndices(table, t);
  for (let i = 0; i < idx.length; i++) out[i * width + idx[i]] = 1;
}

/** The level index of every row of a classification target. */
function classIndices(table: CsvTable, t: ClassificationTarget): Int32Array {
  switch (t.source) {
    case 'levels':
      return new OneHotEncoder(t.levels, { name: t.column, declared: t.declared }).indices(table.strings(t.column, 'target column'), rowOf(table));
    case 'bins': {
      const scaled = Float64Array.from(table.numbers(t.column, 'target column'), (x) => applyNumeric(t.scale, x));
      return new OneHotEncoder(t.levels, { name: t.column }).indices(binValues(scaled, t.bins, t.levels));
    }
    case 'indicators':
      return indicatorIndices(table, t.columns);
  }
}

function indicatorIndices(table: CsvTable, columns: readonly string[]): Int32Array {
  const vals = columns.map((c) => table.numbers(c, 'target column'));
  const n = table.rowCount;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let hot = -1;
    for (let j = 0; j < vals.length; j++) {
      const v = vals[j][i];
      if (v !== 0 && v !== 1) {
        throw new DataError(`${table.where(i, table.columnIndex(columns[j]))}: indicator target cells must be 0 or 1, received ${v}`);
      }
      if (v === 1) {
        if (hot >= 0) throw new DataError(`${table.file}, line ${table.line(i)}: two target columns are 1 ("${columns[hot]}" and "${columns[j]}"); one-hot targets need exactly one`);
        hot = j;
      }
    }
    if (hot < 0) throw new DataError(`${table.file}, line ${table.line(i)}: none of the target columns (${columns.join(', ')}) is 1; one-hot targets need exactly one`);
    idx[i] = hot;
  }
  return idx;
}

/** A target's fitted encoding read from JSON; ConfigError naming `tw` and the first bad key. */
export function checkTargetTransform(t: unknown, tw: string): TargetTransform {
  if (!isObject(t)) throw new ConfigError(`${tw} must be an object`);
  if (t.type === 'regression') {
    if (!Array.isArray(t.columns) || t.columns.length === 0) throw new ConfigError(`${tw}.columns must be a non-empty list`);
    const columns = t.columns.map((c: unknown, i: number) => {
      if (!isObject(c)) throw new ConfigError(`${tw}.columns[${i}] must be an object`);
      return { column: checkColumnName(c.column, `${tw}.columns[${i}].column`), ...checkNumericTransform(c, `${tw}.columns[${i}]`) };
    });
    return { type: 'regression', columns };
  }
  if (t.type !== 'classification') throw new ConfigError(`${tw}.type must be "regression" or "classification", received ${JSON.stringify(t.type)}`);
  const levels = checkLevels(t.levels, `${tw}.levels`);
  if (levels.length < 2) throw new ConfigError(`${tw}.levels: a classifier needs at least 2 levels, received ${JSON.stringify(levels)}`);
  switch (t.source) {
    case 'levels':
      return { type: 'classification', source: 'levels', column: checkColumnName(t.column, `${tw}.column`), levels, declared: t.declared !== false };
    case 'bins':
      return {
        type: 'classification',
        source: 'bins',
        column: checkColumnName(t.column, `${tw}.column`),
        levels,
        bins: checkBins(t.bins, levels, tw),
        scale: checkNumericTransform(t.scale, `${tw}.scale`),
      };
    case 'indicators':
      if (!Array.isArray(t.columns) || t.columns.length !== levels.length) throw new ConfigError(`${tw}.columns must list one indicator column per level`);
      return { type: 'classification', source: 'indicators', columns: t.columns.map((c: unknown, i: number) => checkColumnName(c, `${tw}.columns[${i}]`)), levels };
    default:
      throw new ConfigError(`${tw}.source must be "levels", "bins" or "indicators", received ${JSON.stringify(t.source)}`);
  }
}
