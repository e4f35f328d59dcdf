// A Web Worker serving training jobs (bundled for the browser test).
import { serveTraining } from '../../src/index.js';

serveTraining();
