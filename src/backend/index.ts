import { ConfigError } from '../errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js.js';
import { claimFallbackNotice, loadNative } from './native.js';
import { loadWasm } from './wasm.js';

export type { Backend, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from './backend.js';
export type { LossKind } from './backend.js';
export type { StepRule } from './backend.js';
export { jsBackend } from './js.js';

/** Names accepted by {@link setBackend}. */
export type BackendName = 'js' | 'native' | 'wasm';

let current: Backend | null = null;
/** The backends that are loaded on first use (they may not load here). */
type FastBackend = 'native' | 'wasm';
const LOADERS: Record<FastBackend, () => { backend: Backend } | { error: string }> = { native: () => loadNative(), wasm: () => loadWasm() };
/** Each fast backend once loaded: the backend, or why it cannot load. */
const loaded: Partial<Record<FastBackend, Backend | string>> = {};
let fallbackNotice = true;

/**
 * Stops {@link getBackend} from printing the "using the JavaScript backend" notice in this process
 * (the CLI's `--quiet`). Internal: not exported from the package.
 */
export function silenceBackendNotice(): void {
  fallbackNotice = false;
}

/** A fast backend, loaded on first use: the backend, or why it cannot load. */
function fast(name: FastBackend): Backend | string {
  if (loaded[name] === undefined) {
    const r = LOADERS[name]();
    loaded[name] = 'backend' in r ? r.backend : r.error;
  }
  return loaded[name]!;
}
const native = (): Backend | string => fast('native');
const wasm = (): Backend | string => fast('wasm');

function envBackend(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.DENDRITE_BACKEND;
}

/**
 * The active backend. On first use it is chosen from `DENDRITE_BACKEND` (`js` | `native` | `wasm`)
 * or, if unset, the fastest that loads: native (Node with the addon built), else wasm
 * (WebAssembly SIMD: browsers, Node without the addon), else js. In Node a fallback prints one
 * line on stderr saying why and what fixes it (`npm rebuild dendrite` after installing
 * libdnnl-dev), once per install and never after {@link silenceBackendNotice}; elsewhere only the
 * fall back to js is reported (`console.info`).
 *
 * @example
 * ```ts
 * import { getBackend } from 'dendrite';
 * console.log(getBackend().name); // 'native', 'wasm' or 'js'
 * ```
 */
export function getBackend(): Backend {
  if (current) return current;
  const env = envBackend();
  if (env) {
    try {
      setBackend(env as BackendName);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`DENDRITE_BACKEND=${env}: ${e.message}`);
      throw e;
    }
    return current!;
  }
  const n = native();
  if (typeof n !== 'string') return (current = n);
  const p = (globalThis as { process?: { stderr?: { write(s: string): void }; versions?: { node?: string } } }).process;
  const inNode = Boolean(p?.versions?.node);
  const tell = (line: string): void => {
    if (fallbackNotice && claimFallbackNotice()) p!.stderr?.write(`${line}\n`);
  };
  const w = wasm();
  // outside Node the native backend is never expected: no notice for using wasm there
  if (typeof w !== 'string') {
    if (inNode) tell(`dendrite: using the WebAssembly backend (${n})`);
    return (current = w);
  }
  const why = inNode ? `${n}; ${w}` : w;
  if (inNode) tell(`dendrite: using the JavaScript backend (${why})`);
  else console.info(`dendrite: using the JavaScript backend (${why})`);
  return (current = jsBackend);
}

/**
 * Chooses the backend explicitly. Throws `ConfigError` for an unknown name, or for `'native'` when
 * the addon could not be loaded (the message says why).
 *
 * @example
 * ```ts
 * setBackend('js'); // the reference backend
 * ```
 */
export function setBackend(name: BackendName): void {
  if (name === 'js') {
    current = jsBackend;
    return;
  }
  if (name === 'native' || name === 'wasm') {
    const b = fast(name);
    if (typeof b === 'string') {
      throw new ConfigError(`backend '${name}' is not available (${b}); available backends: ${availableBackends().join(', ')}`);
    }
    current = b;
    return;
  }
  throw new ConfigError(`unknown backend '${String(name)}'; expected one of: js, native, wasm (available here: ${availableBackends().join(', ')})`);
}

/**
 * Backends that can be used in this process, fastest last.
 *
 * @example
 * ```ts
 * availableBackends(); // ['js', 'wasm', 'native'] in Node with the addon built; ['js', 'wasm'] in a browser
 * ```
 */
export function availableBackends(): BackendName[] {
  const out: BackendName[] = ['js'];
  if (typeof wasm() !== 'string') out.push('wasm');
  if (typeof native() !== 'string') out.push('native');
  return out;
}

/**
 * Runs `fn` with parameters built in ordinary arrays, not in the backend's own memory
 * (`Backend.resident`): for a network built only to be looked at and dropped (a spec checked
 * against a model at every checkpoint), whose storage a long synchronous run could not give back.
 *
 * @example
 * ```ts
 * const probe = withPlainStorage(() => buildNetwork(spec));
 * ```
 */
export function withPlainStorage<T>(fn: () => T): T {
  const be = getBackend();
  if (!be.resident) return fn();
  const plain: Backend = Object.create(be);
  plain.resident = undefined;
  current = plain;
  try {
    return fn();
  } finally {
    current = be;
  }
}

/**
 * Runs `fn` with a cap on the float32 elements allocated through the active backend: the
 * allocation that would pass `elements` in total throws `tooMuch(requested, total)` instead of
 * allocating. Used to build a network described by an untrusted file without letting the file
 * reserve more memory than its real size justifies.
 *
 * @example
 * ```ts
 * const net = withAllocationLimit(1e6, (n) => new ModelFileError(`needs ${n} more values`), () => buildNetwork(spec));
 * ```
 */
export function withAllocationLimit<T>(elements: number, tooMuch: (requested: number, total: number) => Error, fn: () => T): T {
  const be = getBackend();
  let used = 0;
  const limited: Backend = Object.create(be);
  const count = (n: number): void => {
    used += n;
    if (used > elements) throw tooMuch(n, used);
  };
  limited.alloc = (n: number) => {
    count(n);
    return be.alloc(n);
  };
  limited.allocUninit = (n: number) => {
    count(n);
    return be.allocUninit(n);
  };
  current = limited;
  try {
    return fn();
  } finally {
    current = be;
  }
}
