/**
 * Typed errors: every failure a user can cause names the layer or argument, what was expected and
 * what was received. Catch a family with `instanceof`, e.g. `err instanceof ShapeError`.
 *
 * @example
 * ```ts
 * try { model.predict(x); } catch (e) { if (e instanceof ShapeError) console.error(e.message); }
 * ```
 */
export class DendriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor has the wrong shape for a layer or op, e.g. `dense_2 expects input [*, 128], received [64, 100]`. */
export class ShapeError extends DendriteError {}

/** A configuration value (spec key, option, argument) is missing, unknown or out of range. */
export class ConfigError extends DendriteError {}

/** Input data is malformed; the message names the file and the line/column or byte offset. */
export class DataError extends DendriteError {}

/** NaN or Inf appeared during training; the message names the first layer where it appeared. */
export class NumericError extends DendriteError {
  /** Name of the first layer (or parameter) where a non-finite value appeared. */
  readonly where: string;
  constructor(message: string, where: string) {
    super(message);
    this.where = where;
  }
}

/** A saved model directory is missing, corrupt, mismatched or from a newer format version. */
export class ModelFileError extends DendriteError {}

/**
 * One dimension of a shape as messages print it: a size, or a wildcard for the batch dimension,
 * `'*'` (any size: what a layer expects) or `'N'` (the batch: what a layer produces).
 *
 * @example
 * ```ts
 * const expected: ShapeDim[] = ['*', 128]; // fmtShape(expected) === '[*, 128]'
 * ```
 */
export type ShapeDim = number | '*' | 'N';

/**
 * Formats a shape for error messages: `[64, 100]`, or with a wildcard batch dimension `[*, 128]`.
 *
 * @example
 * ```ts
 * fmtShape([64, 100]);    // '[64, 100]'
 * fmtShape(['*', 128]);   // '[*, 128]'
 * ```
 */
export function fmtShape(shape: readonly ShapeDim[]): string {
  return `[${shape.join(', ')}]`;
}
