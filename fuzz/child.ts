// One fuzz worker process: runs inputs [from, from + count) of one kind and prints one JSON
// line when an input starts and one when it ends (outcome, mutation, error, peak RSS), so the
// parent can tell which input hung or crashed the process.
import { join } from 'node:path';
import { KINDS, freshDir, modelTemplates, runCase } from './cases.js';
import type { Kind } from './cases.js';

const [kind, fromArg, countArg, root] = process.argv.slice(2);
if (!(KINDS as readonly string[]).includes(kind) || !root) {
  process.stderr.write('usage: child.js model|csv|idx FROM COUNT ROOT_DIR\n');
  process.exit(2);
}
const from = Number(fromArg);
const count = Number(countArg);
freshDir(root);
const templates = kind === 'model' ? modelTemplates(root) : [];
const work = join(root, 'work');
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
for (let i = from; i < from + count; i++) {
  freshDir(work);
  say({ start: i });
  const r = await runCase(kind as Kind, i, work, root, templates);
  say({ i, ...r, rss: process.resourceUsage().maxRSS * 1024 });
}
freshDir(work);
