/**
 * Argument checks and packing of {@link Backend.copyRuns} for the fast backends.
 */
import type { Backend } from './backend.js'; // for the TSDoc links

/**
 * The geometry of a copyRuns call as the native and WebAssembly kernels read it:
 * [rank, srcOffset, dstOffset, len, counts…, srcStrides…, dstStrides…].
 *
 * @example
 * ```ts
 * runGeometry(0, [3], 3, [-3], [2], 3); // Int32Array [1, 0, 3, 3, 2, 3, -3]
 * ```
 */
export function runGeometry(srcOffset: number, srcStrides: readonly number[], dstOffset: number,
  dstStrides: readonly number[], counts: readonly number[], len: number): Int32Array {
  return Int32Array.from([counts.length, srcOffset, dstOffset, len, ...counts, ...srcStrides, ...dstStrides]);
}

/**
 * Checks a copyRuns call (rank ≤ 4, every run inside its buffer) and says whether it copies
 * anything; a RangeError names the buffer a run leaves.
 *
 * @example
 * ```ts
 * checkRuns(6, 0, [3], 6, 3, [-3], [2], 3); // true
 * ```
 */
export function checkRuns(nSrc: number, srcOffset: number, srcStrides: readonly number[], nDst: number, dstOffset: number,
  dstStrides: readonly number[], counts: readonly number[], len: number): boolean {
  if (counts.length > 4) throw new RangeError(`copyRuns: rank must be 0…4, received ${counts.length}`);
  if (len === 0 || counts.includes(0)) return false;
  const inside = (n: number, off: number, strides: readonly number[], which: string): void => {
    let lo = off;
    let hi = off + len;
    counts.forEach((c, d) => {
      const span = (c - 1) * strides[d];
      if (span < 0) lo += span;
      else hi += span;
    });
    if (lo < 0 || hi > n) throw new RangeError(`copyRuns: the runs reach elements ${lo}…${hi - 1} of ${which}, which has ${n}`);
  };
  inside(nSrc, srcOffset, srcStrides, 'src');
  inside(nDst, dstOffset, dstStrides, 'dst');
  return true;
}
