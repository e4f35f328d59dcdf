/*
 * The recurrent ops, one file per concern: the scaffold they share (recurrent.ts), the simple RNN,
 * the LSTM and the GRU, the LSTM cell built from elementary ops for teaching (lstm-cell.ts),
 * the embedding lookup, and the padding masks with the loss view of a sequence (sequence-mask.ts).
 * This module gathers them for the layers that use several.
 */
export { simpleRnn } from './simple-rnn.js';
export type { RnnActivation } from './simple-rnn.js';
export { lstm } from './lstm.js';
export type { LstmWeights } from './lstm.js';
export { gru } from './gru.js';
export type { GruWeights } from './gru.js';
export { lstmCellStep } from './lstm-cell.js';
export type { LstmCellTrace } from './lstm-cell.js';
export { embedding } from './embedding.js';
export { attachMask, maskOf, maskedSteps, sequenceLossView } from './sequence-mask.js';
export type { RecurrentOpOptions, RecurrentResult, RecurrentTrace } from './recurrent.js';
