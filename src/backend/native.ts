import type { Backend } from './backend.js';

/** Result of trying to load the native backend: the backend, or why it is not available. */
export type NativeLoad = { backend: Backend } | { error: string };

/**
 * Loads the native (N-API) backend if its addon was built at install time.
 * (Filled in by the native-backend work; until then it reports that no addon exists.)
 */
export function loadNative(): NativeLoad {
  return { error: 'the native addon is not part of this build' };
}
