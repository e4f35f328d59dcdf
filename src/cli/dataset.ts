import { statSync } from 'node:fs';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import type { ModelSpec } from '../io/spec.js';
import { columnsMatrix, exampleShape, readCsv } from '../data/csv.js';
import { zeros } from '../tensor/create.js';
import type { CsvTable } from '../data/csv.js';
import { Preprocessor, prepareTable } from '../data/preprocess.js';
import type { ColumnsSpec } from '../data/columns.js';
import type { TargetSpec } from '../data/target.js';
import { loadIdxDataset } from '../data/idx.js';
import type { ImageSet } from '../data/idx.js';

/** Data as the CLI commands use it. */
export interface CliData {
  x: Tensor;
  /** Targets (null when the file has none and the command does not need them). */
  y: Tensor | null;
  /** Fitted data preparation, saved with the model. */
  preprocessing?: Preprocessor;
  /** Class names, in output order, when known. */
  levels?: readonly string[];
  /** The prepared table's preprocessor (to map predictions back). */
  preprocessor?: Preprocessor;
}

/** Loss spellings that make a text target column a class label. */
const CLASSIFICATION_LOSSES = ['crossEntropy', 'categoricalCrossentropy', 'categoricalCrossEntropy', 'binaryCrossEntropy', 'binaryCrossentropy'];

const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Which part of an image dataset to use. */
export type Part = 'train' | 'test';

function targetList(target: string | undefined): string[] | undefined {
  return target ? target.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

/** Reshapes images [N, C, H, W] to the model's input shape, or a ShapeError naming both. */
function fitImages(set: ImageSet, spec: ModelSpec, source: string): { x: Tensor; y: Tensor } {
  if (spec.input === undefined) return { x: set.x, y: set.y };
  const per = shapeSize(set.x.shape.slice(1));
  if (per !== shapeSize(spec.input)) {
    throw new ShapeError(`${source}: images are ${fmtShape(set.x.shape.slice(1))} (${per} values) but the model expects input ${fmtShape(spec.input)}`);
  }
  const same = spec.input.length === set.x.rank - 1 && spec.input.every((d, i) => d === set.x.shape[i + 1]);
  if (!same && spec.input.length === 3 && spec.input[0] !== set.x.shape[1]) {
    throw new ShapeError(`${source}: images have ${set.x.shape[1]} channel(s) but the model expects ${spec.input[0]}`);
  }
  const x = same ? set.x : new Tensor(set.x.data, [set.x.shape[0], ...spec.input]);
  return { x, y: set.y };
}

async function imageData(path: string, spec: ModelSpec, part: Part): Promise<CliData> {
  if (path === 'digits') {
    const { loadDigits } = await import('../data/digits.js');
    const d = await loadDigits();
    return { ...fitImages(d[part], spec, 'bundled digits'), levels: DIGIT_CLASSES };
  }
  // the other part is not read (limit 0): a command uses one, and the training images alone are 188 MB as floats
  const d = await loadIdxDataset(path, { limit: part === 'train' ? { test: 0 } : { train: 0 } });
  return { ...fitImages(d[part], spec, path) };
}

function fromTable(table: CsvTable, spec: ModelSpec, targets: string[] | undefined, saved: Preprocessor | undefined, needTargets: boolean, targetShape?: readonly number[]): CliData {
  if (saved) {
    const pre = saved;
    const r = pre.transform(table);
    if (!r.y && needTargets) throw new ConfigError(`${table.file} lacks the target column(s) ${pre.targetColumns.join(', ')}`);
    return { x: r.x, y: r.y, preprocessing: pre, preprocessor: pre, levels: pre.levels ?? undefined };
  }
  const columns = spec.columns as ColumnsSpec | undefined;
  const target = spec.target as TargetSpec | undefined;
  const tcols = targets ?? target?.columns;
  if (!tcols) {
    if (needTargets) throw new ConfigError('--target COL[,COL…] is required for CSV data');
    // no targets and no saved preparation: every column is an input
    const x = zeros(exampleShape(table.rowCount, table.columns.length, spec.input, 'input'));
    x.data.set(columnsMatrix(table, table.columns, 'input column'));
    return { x, y: null };
  }
  const tspec: TargetSpec = { ...(target ?? {}), columns: tcols };
  // a text target under a classification loss is a class label
  const tlist = Array.isArray(tcols) ? tcols : [tcols];
  if (tspec.type === undefined && CLASSIFICATION_LOSSES.includes(spec.loss) && tlist.length === 1 && !table.isNumeric(tlist[0])) tspec.type = 'classification';
  const { x, y, preprocessor } = prepareTable(table, columns, tspec, { inputShape: spec.input, targetShape });
  for (const w of preprocessor.warnings) process.stderr.write(`warning: ${w}\n`);
  return { x, y, preprocessing: preprocessor, preprocessor, levels: preprocessor.levels ?? undefined };
}

/** Whether a path is an existing directory. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Loads the data a command works on:
 * - a CSV file: inputs laid out in the spec's input shape, targets from `--target` (prepared as
 *   the spec's `"columns"`/`"target"` say, or by the preparation saved with a model);
 * - an IDX directory (MNIST / Fashion-MNIST files): the `train` or `test` part;
 * - `digits`: the bundled handwritten digits (8,000 train / 2,000 test).
 */
export async function loadData(path: string, spec: ModelSpec, opts: { target?: string; saved?: Preprocessor; part: Part; needTargets: boolean; outputShape?: readonly number[] }): Promise<CliData> {
  if (path === 'digits' || isDirectory(path)) return imageData(path, spec, opts.part);
  const table = await readCsv(path);
  // a model that outputs a sequence [T, outputs] takes each row's targets laid out the same way
  const targetShape = opts.outputShape && opts.outputShape.length >= 2 ? opts.outputShape : undefined;
  return fromTable(table, spec, targetList(opts.target), opts.saved, opts.needTargets, targetShape);
}

/** Training data (targets required). */
export async function loadTrainingData(path: string, spec: ModelSpec, target: string | undefined, saved?: Preprocessor, outputShape?: readonly number[]): Promise<CliData & { y: Tensor }> {
  const d = await loadData(path, spec, { target, saved, part: 'train', needTargets: true, outputShape });
  if (!d.y) throw new ConfigError('--target COL[,COL…] is required for CSV data');
  return d as CliData & { y: Tensor };
}
