import type { Command } from './common.js';
import { train } from './commands/train.js';
import { trace } from './commands/trace.js';
import { summary } from './commands/summary.js';
import { predict } from './commands/predict.js';
import { evaluate } from './commands/evaluate.js';
import { digits } from './commands/digits.js';
import { inspect, report } from './commands/inspect.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { playground } from './commands/playground.js';

/** Every CLI command by name. */
export const COMMANDS: Record<string, Command> = { digits, train, predict, evaluate, trace, inspect, report, summary, export: exportCommand, import: importCommand, playground };

/** The usage text listing every command. */
export function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `dendrite — deep learning for TypeScript\n\nUsage:\n${lines.join('\n')}\n\nEvery command accepts --backend js|native and --help.\n` +
    'dendrite help spec: the model spec format.  dendrite --version: the version.\n';
}
