import { ConfigError } from '../errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js.js';
import { claimFallbackNotice, loadNative } from './native.js';

export type { Backend, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from './backend.js';
export { jsBackend } from './js.js';

/** Names accepted by {@link setBackend}. */
export type BackendName = 'js' | 'native';

let current: Backend | null = null;
let nativeCache: Backend | string | null = null;
let fallbackNotice = true;

/**
 * Stops {@link getBackend} from printing the "using the JavaScript backend" notice in this process
 * (the CLI's `--quiet`). Internal: not exported from the package.
 */
export function silenceBackendNotice(): void {
  fallbackNotice = false;
}

function native(): Backend | string {
  if (nativeCache === null) {
    const r = loadNative();
    nativeCache = 'backend' in r ? r.backend : r.error;
  }
  return nativeCache;
}

function envBackend(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.DENDRITE_BACKEND;
}

/**
 * The active backend. On first use it is chosen from `DENDRITE_BACKEND` (`js` | `native`) or, if
 * unset, the fastest that loads: native, else js with a one-line notice on stderr saying why and
 * what fixes it (`npm rebuild dendrite` after installing libdnnl-dev), printed once per install.
 *
 * @example
 * ```ts
 * import { getBackend } from 'dendrite';
 * console.log(getBackend().name); // 'native' or 'js'
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
  if (typeof n === 'string') {
    current = jsBackend;
    const p = (globalThis as { process?: { stderr?: { write(s: string): void }; versions?: { node?: string } } }).process;
    if (p?.versions?.node && fallbackNotice && claimFallbackNotice()) p.stderr?.write(`dendrite: using the JavaScript backend (${n})\n`);
  } else {
    current = n;
  }
  return current;
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
  if (name === 'native') {
    const n = native();
    if (typeof n === 'string') {
      throw new ConfigError(`backend 'native' is not available (${n}); available backends: ${availableBackends().join(', ')}`);
    }
    current = n;
    return;
  }
  throw new ConfigError(`unknown backend '${String(name)}'; expected one of: js, native (available here: ${availableBackends().join(', ')})`);
}

/**
 * Backends that can be used in this process, fastest last.
 *
 * @example
 * ```ts
 * availableBackends(); // ['js', 'native'] where the addon was built, else ['js']
 * ```
 */
export function availableBackends(): BackendName[] {
  return typeof native() === 'string' ? ['js'] : ['js', 'native'];
}
