import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { checkInt } from '../validate.js';

/**
 * A series or sequence: a tensor `[T]` / `[T, F]`, a list (or typed array) of numbers — one
 * value per step — or a list of rows of features.
 */
export type SequenceInput = Tensor | ArrayLike<number> | readonly (readonly number[])[];
/** A series for {@link slidingWindows} (same forms as {@link SequenceInput}). */
export type Series = SequenceInput;

/** A sequence as flat row-major values with its number of steps and features per step. */
interface Seq {
  data: ArrayLike<number>;
  steps: number;
  /** Features per step; 0 means one value per step (a flat sequence). */
  features: number;
}

function toSeq(s: SequenceInput, what: string): Seq {
  if (s instanceof Tensor) {
    if (s.rank === 1) return { data: s.data, steps: s.shape[0], features: 0 };
    if (s.rank === 2) return { data: s.data, steps: s.shape[0], features: s.shape[1] };
    throw new ShapeError(`${what} must be [T] or [T, features], received ${fmtShape(s.shape)}`);
  }
  if (s === null || typeof s !== 'object' || typeof (s as ArrayLike<unknown>).length !== 'number') {
    throw new ShapeError(`${what} must be a tensor, a list of numbers or a list of rows, received ${typeof s}`);
  }
  const a = s as ArrayLike<unknown>;
  if (a.length > 0 && Array.isArray(a[0])) {
    const rows = s as readonly (readonly number[])[];
    const f = rows[0].length;
    const data = new Float64Array(rows.length * f);
    rows.forEach((r, t) => {
      if (!Array.isArray(r) || r.length !== f) {
        throw new ShapeError(`${what}: step ${t} has ${Array.isArray(r) ? r.length : 'no'} features, step 0 has ${f}`);
      }
      for (let j = 0; j < f; j++) data[t * f + j] = r[j];
    });
    return { data, steps: rows.length, features: f };
  }
  return { data: s as ArrayLike<number>, steps: a.length, features: 0 };
}

// ---------------------------------------------------------------------------------------------
// Sliding windows and truncation chunks
// ---------------------------------------------------------------------------------------------

/** Options of {@link slidingWindows}. */
export interface WindowOptions {
  /**
   * `'next'` (default): the target of a window is the value `horizon` steps after its last step,
   * `[N, features]`; `'sequence'`: the target is the window shifted by `horizon`, `[N, T, features]`
   * (a prediction at every step).
   */
  targets?: 'next' | 'sequence';
  /** How far ahead the target is (default 1: the next step). */
  horizon?: number;
  /** Steps between the starts of consecutive windows (default 1). */
  stride?: number;
  /** Feature indices that are targets (default all). */
  targetFeatures?: readonly number[];
}

/**
 * Cuts a series `[L]` or `[L, features]` into sliding windows of `window` steps: inputs
 * `[N, T, features]` (a flat series has 1 feature) and targets — the next value `[N, targets]`
 * or the next sequence `[N, T, targets]`. N = ⌊(L − T − horizon)/stride⌋ + 1. ShapeError if the
 * series is too short, ConfigError for a window, horizon or stride < 1.
 *
 * @example
 * ```ts
 * const { x, y } = slidingWindows([1, 2, 3, 4, 5], 3);
 * x.shape;     // [2, 3, 1]: [1,2,3], [2,3,4]
 * y.toArray(); // [[4], [5]]
 * slidingWindows([1, 2, 3, 4, 5], 3, { targets: 'sequence' }).y.shape; // [2, 3, 1]
 * ```
 */
export function slidingWindows(series: Series, window: number, opts: WindowOptions = {}): { x: Tensor; y: Tensor } {
  const T = checkInt(window, 'slidingWindows: window');
  const h = checkInt(opts.horizon ?? 1, 'slidingWindows: horizon');
  const stride = checkInt(opts.stride ?? 1, 'slidingWindows: stride');
  const mode = opts.targets ?? 'next';
  if (mode !== 'next' && mode !== 'sequence') throw new ConfigError(`slidingWindows: targets must be "next" or "sequence", received ${JSON.stringify(mode)}`);
  const s = toSeq(series, 'slidingWindows: the series');
  const F = Math.max(1, s.features);
  const tf = opts.targetFeatures ?? Array.from({ length: F }, (_, j) => j);
  if (tf.length === 0) throw new ConfigError('slidingWindows: targetFeatures must name at least one feature');
  tf.forEach((j) => {
    if (!Number.isInteger(j) || j < 0 || j >= F) throw new ConfigError(`slidingWindows: targetFeatures holds ${j}, but the series has ${F} features (0–${F - 1})`);
  });
  const L = s.steps;
  if (L < T + h) {
    throw new ShapeError(`slidingWindows: a series of ${L} steps is too short for windows of ${T} steps with a horizon of ${h} (needs at least ${T + h})`);
  }
  const N = Math.floor((L - T - h) / stride) + 1;
  const Fo = tf.length;
  const x = zeros([N, T, F]);
  const y = zeros(mode === 'next' ? [N, Fo] : [N, T, Fo]);
  const d = s.data;
  for (let i = 0; i < N; i++) {
    const start = i * stride;
    for (let t = 0; t < T; t++) for (let j = 0; j < F; j++) x.data[(i * T + t) * F + j] = d[(start + t) * F + j];
    if (mode === 'next') {
      const at = start + T + h - 1;
      for (let k = 0; k < Fo; k++) y.data[i * Fo + k] = d[at * F + tf[k]];
    } else {
      for (let t = 0; t < T; t++) for (let k = 0; k < Fo; k++) y.data[(i * T + t) * Fo + k] = d[(start + t + h) * F + tf[k]];
    }
  }
  return { x, y };
}

/**
 * Splits batched sequences `[N, L, ...]` along time into consecutive chunks of `length` steps
 * (the last may be shorter) — the subsequences of truncated backpropagation through time.
 * ConfigError for a length < 1.
 *
 * @example
 * ```ts
 * timeChunks(zeros([4, 50, 3]), 20).map((c) => c.shape[1]); // [20, 20, 10]
 * ```
 */
export function timeChunks(x: Tensor, length: number): Tensor[] {
  if (!Number.isInteger(length) || length < 1) throw new ConfigError(`truncation length must be an integer ≥ 1, received ${JSON.stringify(length)}`);
  if (x.rank < 2) throw new ShapeError(`timeChunks expects sequences [N, T, ...], received ${fmtShape(x.shape)}`);
  const [n, L] = x.shape;
  const rest = x.shape.slice(2);
  const step = rest.reduce((a, b) => a * b, 1);
  const out: Tensor[] = [];
  for (let s = 0; s < L; s += length) {
    const len = Math.min(length, L - s);
    const c = zeros([n, len, ...rest]);
    for (let i = 0; i < n; i++) c.data.set(x.data.subarray((i * L + s) * step, (i * L + s + len) * step), i * len * step);
    out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Character vocabulary
// ---------------------------------------------------------------------------------------------

/**
 * A character vocabulary: index i ↔ `chars[i]` (characters are Unicode code points, so emoji and
 * accented letters are one character). Built from a text (sorted by code point, so the same text
 * always gives the same indices), it encodes text to indices (for an embedding layer) or one-hot
 * rows, and decodes indices back. An unknown character or an index outside [0, V) is a
 * {@link DataError} naming it and its position.
 *
 * @example
 * ```ts
 * const v = CharVocabulary.fromText('hello');
 * v.chars;                 // ['e', 'h', 'l', 'o']
 * v.encode('hole');        // Int32Array [1, 3, 2, 0]
 * v.oneHot('he').shape;    // [2, 4]
 * v.decode([1, 0, 2, 2, 3]); // 'hello'
 * ```
 */
export class CharVocabulary {
  /** The characters, by index. */
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) throw new ConfigError('CharVocabulary needs at least one character');
    const index = new Map<string, number>();
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || Array.from(c).length !== 1) throw new ConfigError(`CharVocabulary: entry ${i} must be one character, received ${JSON.stringify(c)}`);
      if (index.has(c)) throw new ConfigError(`CharVocabulary: character ${JSON.stringify(c)} appears twice (entries ${index.get(c)} and ${i})`);
      index.set(c, i);
    });
    this.chars = Object.freeze([...chars]);
    this.index = index;
  }

  /**
   * The vocabulary of a text: its distinct characters sorted by code point (plus `extra` ones).
   * `extra: '\0'` reserves index 0 (code point 0 sorts first) as padding for an embedding with
   * `maskZero`.
   * @example `CharVocabulary.fromText('abca').size // 3`
   */
  static fromText(text: string, opts: { extra?: string } = {}): CharVocabulary {
    const set = new Set<string>(Array.from(text + (opts.extra ?? '')));
    if (set.size === 0) throw new ConfigError('CharVocabulary.fromText: the text is empty');
    return new CharVocabulary([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Number of characters (V). */
  get size(): number {
    return this.chars.length;
  }

  /** Whether a character is in the vocabulary. */
  has(ch: string): boolean {
    return this.index.has(ch);
  }

  /** Indices of a text's characters; DataError naming an unknown character and its position. */
  encode(text: string): Int32Array {
    const cs = Array.from(text);
    const out = new Int32Array(cs.length);
    for (let i = 0; i < cs.length; i++) {
      const k = this.index.get(cs[i]);
      if (k === undefined) {
        const cp = cs[i].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        throw new DataError(`character ${JSON.stringify(cs[i])} (U+${cp}) at position ${i} is not in the vocabulary of ${this.size} characters`);
      }
      out[i] = k;
    }
    return out;
  }

  private checkIndex(k: number, pos: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.size) {
      throw new DataError(`index ${k} at position ${pos} is beyond the vocabulary of ${this.size} characters (indices 0–${this.size - 1})`);
    }
  }

  /** The text of indices; DataError for an index outside [0, V). */
  decode(indices: ArrayLike<number> | Tensor): string {
    const d = indices instanceof Tensor ? indices.data : indices;
    let s = '';
    for (let i = 0; i < d.length; i++) {
      this.checkIndex(d[i], i);
      s += this.chars[d[i]];
    }
    return s;
  }

  /**
   * One-hot vectors: of a text or a list of indices `[T, V]`, or of an index tensor of any shape
   * `[...shape, V]` (e.g. the `[N, T]` windows of {@link textWindows} → `[N, T, V]`).
   */
  oneHot(input: string | ArrayLike<number> | Tensor): Tensor {
    const isT = input instanceof Tensor;
    const k: ArrayLike<number> = typeof input === 'string' ? this.encode(input) : isT ? input.data : input;
    if (typeof input !== 'string') for (let i = 0; i < k.length; i++) this.checkIndex(k[i], i);
    const V = this.size;
    const out = zeros(isT ? [...input.shape, V] : [k.length, V]);
    for (let t = 0; t < k.length; t++) out.data[t * V + k[t]] = 1;
    return out;
  }

  /** Index batch `[N, T]` (float32 indices, the input of an embedding layer) of equally long texts; ShapeError otherwise. */
  indexBatch(texts: readonly string[]): Tensor {
    if (texts.length === 0) throw new ShapeError('a batch needs at least one sequence');
    const ks = texts.map((s) => this.encode(s));
    const T = ks[0].length;
    ks.forEach((k, i) => {
      if (k.length !== T) {
        throw new ShapeError(`sequence ${i} has ${k.length} steps but sequence 0 has ${T}; sequences of different lengths need padding with a mask (padSequences)`);
      }
    });
    const out = zeros([ks.length, T]);
    ks.forEach((k, i) => out.data.set(k, i * T));
    return out;
  }

  /** Plain JSON form (`{chars}`), e.g. to save with a language model. */
  toJSON(): { chars: string[] } {
    return { chars: [...this.chars] };
  }

  /** Rebuilds a vocabulary from {@link CharVocabulary.toJSON}. */
  static fromJSON(json: unknown): CharVocabulary {
    const chars = (json as { chars?: unknown } | null)?.chars;
    if (!Array.isArray(chars)) throw new ConfigError('CharVocabulary.fromJSON: expected {"chars": [...]}');
    return new CharVocabulary(chars as string[]);
  }
}

/**
 * Training pairs for a character-level language model from an encoded text: x `[M, steps]` holds
 * windows of indices and y `[M, steps]` the next index at every step (x shifted by one). Windows
 * start every `stride` characters (default `steps`: no overlap). One-hot them with
 * {@link CharVocabulary.oneHot}, or feed x to an embedding layer.
 *
 * @example
 * ```ts
 * const vocab = CharVocabulary.fromText(text);
 * const { x, y } = textWindows(vocab.encode(text), 32);
 * const xOneHot = vocab.oneHot(x); // [M, 32, V]
 * const yOneHot = vocab.oneHot(y); // [M, 32, V]
 * ```
 */
export function textWindows(indices: ArrayLike<number>, steps: number, stride = steps): { x: Tensor; y: Tensor } {
  const T = checkInt(steps, 'textWindows: steps');
  const st = checkInt(stride, 'textWindows: stride');
  const L = indices.length;
  if (L < T + 1) throw new ShapeError(`textWindows: a text of ${L} characters is too short for windows of ${T} plus the next character (needs ${T + 1})`);
  const m = Math.floor((L - T - 1) / st) + 1;
  const x = zeros([m, T]);
  const y = zeros([m, T]);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < T; t++) {
      x.data[i * T + t] = indices[i * st + t];
      y.data[i * T + t] = indices[i * st + t + 1];
    }
  }
  return { x, y };
}

// ---------------------------------------------------------------------------------------------
// Padding and masks
// ---------------------------------------------------------------------------------------------

/** Options of {@link padSequences}. */
export interface PadOptions {
  /** Steps T of the padded batch (default: the longest sequence); longer sequences are cut. */
  maxLength?: number;
  /** Value of padded steps (default 0; a `masking` layer's `maskValue`, or index 0 for an embedding with `maskZero`). */
  value?: number;
  /** Pad after each sequence (`'post'`, default) or before it (`'pre'`). */
  padding?: 'post' | 'pre';
  /** Cut the end (`'post'`, default) or the start (`'pre'`) of a sequence longer than `maxLength`. */
  truncating?: 'post' | 'pre';
}

/** A batch of sequences with its mask. */
export interface SequenceBatch {
  /** `[N, T, features]` for sequences of rows (or `[T, F]` tensors); `[N, T]` for flat sequences (indices, scalars). */
  x: Tensor;
  /** `[N, T]`: 1 where a step holds data, 0 where it is padding. */
  mask: Tensor;
  /** Steps of data in each sequence (after truncation). */
  lengths: Int32Array;
}

/**
 * Stacks sequences into one batch. Without `pad` every sequence must have the same number of
 * steps (ShapeError otherwise, pointing to padding with a mask); with `pad` (true or
 * {@link PadOptions}) shorter sequences are padded and the mask marks the real steps. Every
 * sequence must have the same number of features per step (ShapeError).
 *
 * @example
 * ```ts
 * stackSequences([[1, 2], [3, 4]]).x.shape; // [2, 2]
 * stackSequences([[[1, 0]], [[0, 1]]]).x.shape; // [2, 1, 2]
 * stackSequences([[1, 2, 3], [4]], { pad: true }).mask.toArray(); // [[1, 1, 1], [1, 0, 0]]
 * ```
 */
export function stackSequences(seqs: readonly SequenceInput[], opts: { pad?: boolean | PadOptions } = {}): SequenceBatch {
  if (!Array.isArray(seqs) || seqs.length === 0) throw new ShapeError('a batch needs at least one sequence');
  const ss = seqs.map((s, i) => toSeq(s, `sequence ${i}`));
  // an empty sequence fits any feature size
  const ref = ss.find((s) => s.steps > 0) ?? ss[0];
  ss.forEach((s, i) => {
    if (s.steps > 0 && s.features !== ref.features) {
      const f = (q: Seq): string => (q.features === 0 ? 'one value per step' : `${q.features} features per step`);
      throw new ShapeError(`sequence ${i} has ${f(s)} but sequence ${ss.indexOf(ref)} has ${f(ref)}`);
    }
  });
  const padOpts: PadOptions | null = opts.pad === true ? {} : opts.pad ? opts.pad : null;
  if (!padOpts) {
    ss.forEach((s, i) => {
      if (s.steps !== ss[0].steps) {
        throw new ShapeError(
          `sequences of inconsistent length without a mask: sequence 0 has ${ss[0].steps} steps, sequence ${i} has ${s.steps}; pad them with a mask (padSequences, or { pad: true })`,
        );
      }
    });
  }
  const p = padOpts ?? {};
  const T = p.maxLength === undefined ? Math.max(...ss.map((s) => s.steps)) : checkInt(p.maxLength, 'padSequences: maxLength');
  const value = p.value ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`padSequences: value must be a finite number, received ${JSON.stringify(value)}`);
  const padding = p.padding ?? 'post';
  const truncating = p.truncating ?? 'post';
  if (padding !== 'post' && padding !== 'pre') throw new ConfigError(`padSequences: padding must be "post" or "pre", received ${JSON.stringify(padding)}`);
  if (truncating !== 'post' && truncating !== 'pre') throw new ConfigError(`padSequences: truncating must be "post" or "pre", received ${JSON.stringify(truncating)}`);
  const F = ref.features;
  const step = Math.max(1, F);
  const N = ss.length;
  const x = zeros(F === 0 ? [N, T] : [N, T, F]);
  if (value !== 0) x.data.fill(value);
  const mask = zeros([N, T]);
  const lengths = new Int32Array(N);
  ss.forEach((s, i) => {
    const len = Math.min(s.steps, T);
    const from = truncating === 'pre' ? s.steps - len : 0;
    const to = padding === 'pre' ? T - len : 0;
    lengths[i] = len;
    for (let t = 0; t < len; t++) {
      mask.data[i * T + to + t] = 1;
      for (let j = 0; j < step; j++) x.data[(i * T + to + t) * step + j] = s.data[(from + t) * step + j];
    }
  });
  return { x, mask, lengths };
}

/**
 * Pads variable-length sequences into one batch with a mask `[N, T]` (1 = data, 0 = padding) —
 * `stackSequences(seqs, { pad: opts })`. Flat sequences (e.g. character indices for an
 * embedding with `maskZero`) give x `[N, T]`; sequences of rows give `[N, T, features]` (for a
 * `masking` layer with `maskValue` = `value`).
 *
 * @example
 * ```ts
 * const { x, mask, lengths } = padSequences([vocab.encode('hi'), vocab.encode('hello')]);
 * x.shape; // [2, 5]; lengths: [2, 5]
 * padSequences([[[1], [2], [3]], [[4]]]).x.shape; // [2, 3, 1]
 * ```
 */
export function padSequences(seqs: readonly SequenceInput[], opts: PadOptions = {}): SequenceBatch {
  return stackSequences(seqs, { pad: opts });
}
