import { basename, extname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseSpec, buildModel } from '../io/spec.js';
import type { ModelSpec, ParseSpecOptions } from '../io/spec.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../train/model.js';
import type { Preprocessor } from '../data/preprocess.js';
import type { History } from '../train/callbacks.js';
import { setBackend } from '../backend/index.js';
import type { BackendName } from '../backend/index.js';
import type { Args } from './args.js';
import { opt, parseArgs, required } from './args.js';
import { isDirectory, loadData } from './dataset.js';
import { readTextInput } from './files.js';
import type { CliData } from './dataset.js';

/** A CLI command: a one-line summary, its usage line, and the code that runs it. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: readonly string[]): Promise<void> | void;
}

/** Reads and validates a spec file (ConfigError for unreadable or malformed JSON). */
export function readSpec(path: string, opts: ParseSpecOptions = {}): ModelSpec {
  const text = readTextInput(path, 'spec file');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: malformed JSON (${(e as Error).message})`);
  }
  return parseSpec(raw, path, opts);
}

/** Reads a JSON weights file into the model (ShapeError/ConfigError on any mismatch). */
export function applyWeightsFile(model: Model, path: string): void {
  const text = readTextInput(path, 'weights file');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`weights file ${path}: ${(e as Error).message}`);
  }
  model.net.setWeights(raw as Parameters<Model['net']['setWeights']>[0]);
}

/**
 * A spec file, or a saved model directory, as a model ready to use. A directory is loaded as a
 * model (so a damaged one reports a ModelFileError), anything else is read as a spec.
 */
export function specOrModel(path: string): { model: Model; spec: ModelSpec; preprocessing?: Preprocessor } {
  if (isDirectory(path)) {
    const l = loadModel(path);
    return { model: l.model, spec: l.spec, preprocessing: l.preprocessing };
  }
  const spec = readSpec(path);
  return { model: buildModel(spec), spec };
}

/**
 * What `predict` and `evaluate` start from: the model directory (first positional argument) and
 * the `--data` it is applied to (the test part of an image set).
 */
export async function modelAndData(a: Args, command: string, needTargets: boolean): Promise<{ model: Model; data: CliData }> {
  const dir = a.positional[0];
  if (!dir) throw new ConfigError(`${command}: give a model directory`);
  const { model, spec, preprocessing } = loadModel(dir);
  const data = await loadData(required(a, 'data', command), spec, { target: opt(a, 'target'), saved: preprocessing, part: 'test', needTargets });
  return { model, data };
}

/** Applies `--backend`. */
export function chooseBackend(a: Args): void {
  const b = opt(a, 'backend');
  if (b) setBackend(b as BackendName);
}

/**
 * A command's arguments ({@link parseArgs}: `valued` options, among them `backend`, and
 * `switches`), with `--backend` applied before the command does any work.
 */
export function commandArgs(argv: readonly string[], valued: readonly string[], switches: readonly string[], command: string): Args {
  const a = parseArgs(argv, valued, switches, command);
  chooseBackend(a);
  return a;
}

/** `train --json` output: epochs run, final loss, why it stopped, the per-epoch history. */
export function trainJson(h: History): Record<string, unknown> {
  const last = h.epochs[h.epochs.length - 1];
  return {
    epochs: h.epochs.length,
    updates: h.updates,
    loss: last?.loss ?? null,
    stopped: h.stopped,
    ...(h.restoredEpoch !== undefined ? { restoredEpoch: h.restoredEpoch } : {}),
    history: h.epochs,
  };
}

/** Default output directory for a trained spec: `models/<spec name>`. */
export function defaultOut(specPath: string): string {
  return join('models', basename(specPath, extname(specPath)));
}


/**
 * The shortest decimal that reads back as the same float32 (`349.8342590332031` → `349.83426`):
 * the precision the numbers were computed in, without float64 noise.
 */
export function float32Shortest(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

/** `--json` output: one line of JSON with every number at float32 shortest round-trip precision. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? float32Shortest(v) : v)) + '\n';
}
