// The test page's script (bundled by esbuild for the browser with the public entry): exposes the
// library and the shared workloads to the test, which drives them through page.evaluate.
import * as dendrite from '../../src/index.js';
import * as workloads from './workloads.js';

Object.assign(globalThis, { dendrite, workloads });
