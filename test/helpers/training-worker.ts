// A worker_threads script serving training jobs (used by test/io/worker.test.ts).
import { parentPort } from 'node:worker_threads';
import { serveTraining } from '../../src/index.js';

serveTraining(parentPort!);
