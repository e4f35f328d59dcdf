/**
 * Layout conversions of recurrent weights shared by the exporters. dendrite keeps one matrix per
 * gate, [H, H + I], acting on [h; x] (h first); ONNX, PyTorch and TF.js stack the gates into an
 * input matrix and a recurrent matrix.
 */
import type { SimpleRNN } from '../nn/rnn.js';

/**
 * Splits per-gate [H, H + I] matrices (in the target's gate order) into the stacked input matrix
 * [G·H, I] and recurrent matrix [G·H, H] (row j of gate k at row k·H + j).
 * @example `const { wx, wh } = stackGates([lstm.Wi, lstm.Wf, lstm.Wc, lstm.Wo], H, I);`
 */
export function stackGates(gates: readonly { data: Float32Array }[], H: number, I: number): { wx: Float32Array; wh: Float32Array } {
  const G = gates.length;
  const wx = new Float32Array(G * H * I);
  const wh = new Float32Array(G * H * H);
  gates.forEach((w, k) => {
    for (let j = 0; j < H; j++) {
      const row = w.data.subarray(j * (H + I), (j + 1) * (H + I));
      wh.set(row.subarray(0, H), (k * H + j) * H);
      wx.set(row.subarray(H), (k * H + j) * I);
    }
  });
  return { wx, wh };
}

/** The inverse of {@link stackGates}: gate k's [H, H + I] matrix from stacked [G·H, I] and [G·H, H]. @example `lstm.Wf.data.set(unstackGate(wx, wh, 1, H, I))` */
export function unstackGate(wx: Float32Array, wh: Float32Array, k: number, H: number, I: number): Float32Array {
  const m = new Float32Array(H * (H + I));
  for (let j = 0; j < H; j++) {
    m.set(wh.subarray((k * H + j) * H, (k * H + j + 1) * H), j * (H + I));
    m.set(wx.subarray((k * H + j) * I, (k * H + j + 1) * I), j * (H + I) + H);
  }
  return m;
}

/** A SimpleRNN's separate W_hh [H, H] and W_hx [H, I] as one gate matrix [H, H + I]. @example `stackGates([simpleRnnGate(rnn)], H, I)` */
export function simpleRnnGate(s: SimpleRNN): { data: Float32Array } {
  const H = s.units;
  const I = s.Whx.shape[1];
  return { data: unstackGate(s.Whx.data, s.Whh.data, 0, H, I) };
}

/**
 * A row-major [rows, cols] matrix as [cols, rows]; with `perm`, row i of the input becomes column
 * perm[i] of the output (reordering the inputs of a dense kernel).
 * @example `transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3) // [1, 4, 2, 5, 3, 6]`
 */
export function transpose(k: Float32Array, rows: number, cols: number, perm: Int32Array | null = null): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const di = perm ? perm[i] : i;
    for (let j = 0; j < cols; j++) out[j * rows + di] = k[i * cols + j];
  }
  return out;
}
