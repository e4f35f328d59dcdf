import { ConfigError } from '../errors.js';
import type { CsvTable } from './csv.js';
import { OneHotEncoder, checkLevels } from './encode.js';
import { checkNumericTransform, fitNumeric, writeNormalized } from './normalize.js';
import type { NormalizeMethod, NumericTransform } from './normalize.js';
import { checkKeys, isObject } from '../validate.js';

// Column specs: how each CSV column is declared, and the fitted preparation of the input columns.

/**
 * How one CSV column is prepared (an entry of {@link ColumnsSpec}):
 * - `type`: `"numeric"` (default), `"categorical"` (one-hot encoded), or `"ignore"` (not used);
 * - `normalize` (or `normalise`): `"none"` (default), `"range"`, `"standard"` — numeric only;
 * - `range`: `[lo, hi]` for range normalisation (default `[0, 1]`);
 * - `min`, `max` (range) or `mean`, `std` (standard): known statistics used instead of the
 *   training data's;
 * - `levels`: the levels of a categorical column, in output order (default: discovered, sorted).
 */
export interface ColumnSpec {
  type?: 'numeric' | 'categorical' | 'ignore';
  normalize?: NormalizeMethod;
  normalise?: NormalizeMethod;
  range?: [number, number];
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  levels?: string[];
}

/**
 * Per-column preparation, keyed by column name; the key `"*"` is the default for input columns
 * that are not listed (target columns use only their own entry). Unlisted columns (without
 * `"*"`) are numeric and not normalised.
 *
 * ```json
 * "columns": {"temp": {"normalize": "range"}, "power": {"normalize": "range"}, "kind": {"type": "categorical"}}
 * ```
 */
export type ColumnsSpec = Record<string, ColumnSpec>;

/** The fitted preparation of one input column (plain JSON). */
export type FeatureTransform =
  | ({ column: string; type: 'numeric' } & NumericTransform)
  | { column: string; type: 'categorical'; levels: string[]; declared: boolean };

const COLUMN_KEYS = ['type', 'normalize', 'normalise', 'range', 'min', 'max', 'mean', 'std', 'levels'];

/** A column's entry; the `"*"` default applies to input columns only (`useDefault`). */
export function columnSpecOf(spec: ColumnsSpec, name: string, useDefault = true): { s: ColumnSpec; where: string } {
  if (Object.prototype.hasOwnProperty.call(spec, name)) return { s: spec[name], where: `columns.${name}` };
  if (useDefault && spec['*']) return { s: spec['*'], where: 'columns.*' };
  return { s: {}, where: `columns.${name}` };
}

/** A column's normalisation method (`normalize` or its spelling `normalise`; default `none`). */
export function methodOf(s: ColumnSpec, where: string): NormalizeMethod {
  const m = s.normalize ?? s.normalise ?? 'none';
  if (m !== 'none' && m !== 'range' && m !== 'standard') {
    throw new ConfigError(`${where}.normalize must be "none", "range" or "standard", received ${JSON.stringify(m)}`);
  }
  return m;
}

/** Checks a `"columns"` spec against a table: known keys and columns, types, methods, levels. */
export function validateColumnsSpec(spec: unknown, table: CsvTable): ColumnsSpec {
  if (spec === undefined || spec === null) return {};
  if (!isObject(spec)) throw new ConfigError(`"columns" must be an object keyed by column name, received ${JSON.stringify(spec)}`);
  for (const [name, s] of Object.entries(spec)) {
    const where = `columns.${name}`;
    if (!isObject(s)) throw new ConfigError(`${where} must be an object, received ${JSON.stringify(s)}`);
    checkKeys(s, COLUMN_KEYS, where);
    if (name !== '*') table.columnIndex(name, `column in "columns"`);
    const type = s.type ?? 'numeric';
    if (type !== 'numeric' && type !== 'categorical' && type !== 'ignore') {
      throw new ConfigError(`${where}.type must be "numeric", "categorical" or "ignore", received ${JSON.stringify(type)}`);
    }
    const m = methodOf(s as ColumnSpec, where);
    if (type !== 'numeric' && m !== 'none') throw new ConfigError(`${where}: a ${type} column cannot be normalised ("normalize": "${m}")`);
    if (s.levels !== undefined && type !== 'categorical') throw new ConfigError(`${where}.levels needs "type": "categorical"`);
    if (s.levels !== undefined) checkLevels(s.levels, `${where}.levels`);
  }
  return spec as ColumnsSpec;
}

/** Locates row i of a table in messages: `plant.csv, line 7`. */
export function rowOf(table: CsvTable): (i: number) => string {
  return (i) => `${table.file}, line ${table.line(i)}`;
}

/**
 * Fits a numeric column's normalisation as its spec entry says (the one fit-and-warn step of
 * inputs and targets): a constant column's warning is added to `warnings`.
 */
export function fitColumn(
  table: CsvTable,
  name: string,
  role: 'input' | 'target',
  entry: { s: ColumnSpec; where: string },
  warnings: string[],
): NumericTransform {
  const label = role === 'input' ? `column "${name}"` : `target column "${name}"`;
  const r = fitNumeric(table.numbers(name, `${role} column`), methodOf(entry.s, entry.where), entry.s, label, entry.where);
  if (r.warning) warnings.push(r.warning);
  return r.transform;
}

/**
 * Fits the input columns: every column that is not a target and not `"ignore"`d, in file order;
 * numeric ones normalised, categorical ones one-hot encoded (a single level is a warning).
 */
export function fitInputs(table: CsvTable, cols: ColumnsSpec, targetCols: readonly string[], warnings: string[]): FeatureTransform[] {
  const inputs: FeatureTransform[] = [];
  for (const name of table.columns) {
    if (targetCols.includes(name)) continue;
    const entry = columnSpecOf(cols, name);
    const { s, where } = entry;
    const type = s.type ?? 'numeric';
    if (type === 'ignore') continue;
    if (type === 'categorical') {
      const levels = s.levels ? checkLevels(s.levels, `${where}.levels`) : undefined;
      const enc = OneHotEncoder.fit(table.strings(name, 'input column'), { levels, name, role: 'input', where: rowOf(table) });
      if (enc.size === 1) warnings.push(`input column "${name}" has a single level ("${enc.levels[0]}"): its one-hot column is always 1 and carries no information`);
      inputs.push({ column: name, type: 'categorical', levels: [...enc.levels], declared: enc.declared });
    } else {
      inputs.push({ column: name, type: 'numeric', ...fitColumn(table, name, 'input', entry, warnings) });
    }
  }
  if (inputs.length === 0) throw new ConfigError(`${table.file}: no input columns are left (every column is a target or ignored)`);
  return inputs;
}

/** Width of an input column once prepared: 1 for a numeric one, its levels for a categorical one. */
export function featureWidth(f: FeatureTransform): number {
  return f.type === 'numeric' ? 1 : f.levels.length;
}

/**
 * Writes a table's prepared input column `f` into `out` (rows of `width` values) at offset `off`.
 */
export function writeFeature(table: CsvTable, f: FeatureTransform, out: Float32Array, width: number, off: number): void {
  if (f.type === 'numeric') {
    writeNormalized(table.numbers(f.column, 'input column'), f, out, width, off);
    return;
  }
  const enc = new OneHotEncoder(f.levels, { name: f.column, role: 'input', declared: f.declared });
  const idx = enc.indices(table.strings(f.column, 'input column'), rowOf(table));
  for (let i = 0; i < idx.length; i++) out[i * width + off + idx[i]] = 1;
}

/** An input column's fitted preparation read from JSON; ConfigError naming `where` and the key. */
export function checkFeatureTransform(f: unknown, where: string): FeatureTransform {
  if (!isObject(f)) throw new ConfigError(`${where} must be an object`);
  const column = checkColumnName(f.column, `${where}.column`);
  if (f.type === 'categorical') return { column, type: 'categorical', levels: checkLevels(f.levels, `${where}.levels`), declared: f.declared !== false };
  if (f.type !== 'numeric') throw new ConfigError(`${where}.type must be "numeric" or "categorical", received ${JSON.stringify(f.type)}`);
  return { column, type: 'numeric', ...checkNumericTransform(f, where) };
}

/** A column name read from JSON (a non-empty string). */
export function checkColumnName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a column name, received ${JSON.stringify(v)}`);
  return v;
}
