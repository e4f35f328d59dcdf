import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { bufferPool } from '../backend/buffer-pool.js';

/** Class labels: a tensor of scores/one-hot rows `[N, K]`, a column `[N, 1]`/`[N]`, or plain class indices. */
export type ClassInput = Tensor | ArrayLike<number>;

/**
 * Turns predictions or targets into class indices: rows of a `[N, K]` tensor (K ≥ 2) give their
 * arg-max (first maximum); a single output column `[N, 1]` or `[N]` tensor gives 1 when ≥ 0.5
 * (a logistic output or a 0/1 target); a plain array is taken as class indices already.
 *
 * @example
 * ```ts
 * toClassIndices(tensor([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])); // Int32Array [1, 0]
 * ```
 */
export function toClassIndices(v: ClassInput): Int32Array {
  if (!(v instanceof Tensor)) {
    const labels = Array.from(v);
    const bad = labels.findIndex((c) => !Number.isInteger(c) || c < 0);
    if (bad >= 0) throw new ConfigError(`class labels must be integers ≥ 0, received ${JSON.stringify(labels[bad])} at position ${bad}`);
    return Int32Array.from(labels);
  }
  if (v.rank === 0) throw new ShapeError(`class scores need shape [N, K] or [N], received ${fmtShape(v.shape)}`);
  const n = v.shape[0];
  const k = v.size / Math.max(1, n);
  const be = getBackend();
  if (k === 1) {
    // one output column: class 1 when ≥ 0.5
    const above = be.alloc(n);
    be.unary('threshold', v.data, above, 0.5);
    return Int32Array.from(above);
  }
  const out = new Int32Array(n);
  be.argmaxRows(v.data, n, k, out);
  return out;
}

function classesOf(v: ClassInput): number | null {
  if (v instanceof Tensor && v.rank > 0) {
    const k = v.size / Math.max(1, v.shape[0]);
    return k === 1 ? 2 : k;
  }
  return null;
}

function pair(predicted: ClassInput, actual: ClassInput): [Int32Array, Int32Array] {
  const p = toClassIndices(predicted);
  const a = toClassIndices(actual);
  if (p.length !== a.length) throw new ShapeError(`predictions (${p.length} rows) and targets (${a.length} rows) differ in length`);
  return [p, a];
}

/**
 * Fraction of rows whose predicted class equals the actual class (see {@link toClassIndices}).
 *
 * @example
 * ```ts
 * accuracy(model.predict(x), y); // e.g. 0.95
 * ```
 */
export function accuracy(predicted: ClassInput, actual: ClassInput): number {
  const [p, a] = pair(predicted, actual);
  if (p.length === 0) throw new ShapeError('accuracy of zero rows is undefined');
  return countMatches(p, a) / p.length;
}

/**
 * How many positions of two class-index vectors of the same length agree (one backend pass:
 * their difference, and its non-zero count).
 *
 * @example
 * ```ts
 * countMatches(Int32Array.of(0, 1, 2), Int32Array.of(0, 2, 2)); // 2
 * ```
 */
export function countMatches(p: Int32Array, a: Int32Array): number {
  const be = getBackend();
  const n = p.length;
  const diff = be.allocUninit(n);
  be.axpy(n, -1, Float32Array.from(a), Float32Array.from(p), diff);
  const at = be.allocUninit(n);
  const same = n - be.nonzeroIndices(diff, at);
  // both are scratch of this count: back to the buffer pool (when the scope around handed them out)
  bufferPool.release(diff);
  bufferPool.release(at);
  return same;
}

/** The largest class index in `labels` (−1 for none), found by the backend's arg-max. */
function largest(labels: Float32Array): number {
  if (labels.length === 0) return -1;
  const at = new Int32Array(1);
  getBackend().argmaxRows(labels, 1, labels.length, at);
  return labels[at[0]];
}

/**
 * Confusion matrix `m[actual][predicted]`: counts of rows of each actual class (row) given each
 * predicted class (column). The number of classes is taken from the tensors' width, or from
 * `numClasses`, or from the largest label seen.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 1, 0]); // [[1, 1], [0, 1]]: one 0 predicted as 1
 * ```
 */
export function confusionMatrix(predicted: ClassInput, actual: ClassInput, numClasses?: number): number[][] {
  const [pi, ai] = pair(predicted, actual);
  const be = getBackend();
  const n = pi.length;
  const p = Float32Array.from(pi);
  const a = Float32Array.from(ai);
  let k = numClasses ?? classesOf(actual) ?? classesOf(predicted) ?? 0;
  if (numClasses === undefined) k = Math.max(k, largest(p) + 1, largest(a) + 1);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`confusionMatrix: numClasses must be an integer ≥ 1, received ${JSON.stringify(numClasses)}`);
  // the first row whose class is k or more: 1 where a label reaches k, summed over both vectors
  const over = be.alloc(n);
  const overA = be.alloc(n);
  be.unary('threshold', p, over, k);
  be.unary('threshold', a, overA, k);
  be.axpy(n, 1, overA, over, over);
  const rows = be.alloc(n);
  if (be.nonzeroIndices(over, rows) > 0) {
    const r = rows[0];
    throw new ConfigError(`confusionMatrix: row ${r} has class ${Math.max(p[r], a[r])}, but numClasses is ${k}`);
  }
  // each row counts once at cell a·k + p
  const cell = be.alloc(n);
  be.axpy(n, k, a, p, cell);
  const ones = be.alloc(n);
  be.fill(ones, 1);
  const counts = be.alloc(k * k);
  be.scatterAddRows(ones, 1, cell, counts);
  const flat = Array.from(counts);
  return Array.from({ length: k }, (_, r) => flat.slice(r * k, (r + 1) * k));
}

/** Per-class scores from a confusion matrix (see {@link precisionRecall}). */
export interface ClassScores {
  /** Of the rows predicted as class j, the fraction that are j (0 when none were predicted as j). */
  precision: number[];
  /** Of the rows of class j, the fraction predicted as j (0 when the class has no rows). */
  recall: number[];
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number[];
  /** Rows of each actual class. */
  support: number[];
}

/**
 * Per-class precision, recall and F1 from a confusion matrix `m[actual][predicted]`.
 * Classes never predicted get precision 0, classes without rows recall 0 (as scikit-learn does).
 *
 * @example
 * ```ts
 * precisionRecall([[1, 1], [0, 1]]); // precision [1, 0.5], recall [0.5, 1]
 * ```
 */
export function precisionRecall(matrix: number[][]): ClassScores {
  const k = matrix.length;
  if (k === 0 || matrix.some((r) => !Array.isArray(r) || r.length !== k)) {
    throw new ShapeError(`precisionRecall needs a square confusion matrix, received ${k} rows of lengths ${matrix.map((r) => r?.length).join(', ')}`);
  }
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (let j = 0; j < k; j++) {
    let col = 0;
    let row = 0;
    for (let i = 0; i < k; i++) {
      col += matrix[i][j];
      row += matrix[j][i];
    }
    const tp = matrix[j][j];
    const p = col > 0 ? tp / col : 0;
    const r = row > 0 ? tp / row : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r > 0 ? (2 * p * r) / (p + r) : 0);
    support.push(row);
  }
  return { precision, recall, f1, support };
}

/**
 * A confusion matrix as an aligned text table (rows: actual, columns: predicted), followed by
 * per-class precision and recall. `levels` names the classes (default `0, 1, …`).
 *
 * @example
 * ```ts
 * console.log(formatConfusionMatrix(confusionMatrix(pred, y), ['low', 'medium', 'high']));
 * ```
 */
export function formatConfusionMatrix(matrix: number[][], levels?: readonly string[]): string {
  const k = matrix.length;
  const names = levels ? [...levels] : Array.from({ length: k }, (_, i) => String(i));
  if (names.length !== k) throw new ConfigError(`formatConfusionMatrix: ${names.length} level names for ${k} classes`);
  const s = precisionRecall(matrix);
  const head = ['actual \\ predicted', ...names, 'recall'];
  const rows = matrix.map((r, i) => [names[i], ...r.map(String), s.recall[i].toFixed(3)]);
  const foot = ['precision', ...s.precision.map((p) => p.toFixed(3)), ''];
  const all = [head, ...rows, foot];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}
