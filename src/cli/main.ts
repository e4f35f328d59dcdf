#!/usr/bin/env node
import { DendriteError } from '../errors.js';
import { COMMANDS, usage } from './commands.js';
import { fsFailure } from './files.js';
import { silenceBackendNotice } from '../backend/index.js';
import { commandHelp, specHelp, version } from './help.js';

/**
 * The `dendrite` command line. Every command is a thin shell over the library: parse arguments,
 * load data and models, call the API, print. Errors print their message (no stack trace) and
 * exit with status 1 (a file-system error: one line naming the operation and path); usage
 * errors exit with status 2.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === 'help' && rest[0] === 'spec') {
    process.stdout.write(specHelp());
    return 0;
  }
  if (name === 'help' && rest[0] && COMMANDS[rest[0]]) {
    process.stdout.write(commandHelp(rest[0], COMMANDS[rest[0]]));
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (cmd && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(commandHelp(name, cmd));
    return 0;
  }
  if (rest.includes('--quiet') || rest.includes('--json')) silenceBackendNotice();
  if (!cmd) {
    process.stderr.write(`dendrite: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof DendriteError) {
      process.stderr.write(`${e.name}: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (e instanceof Error && typeof err.code === 'string' && typeof err.syscall === 'string') {
      // a file-system error that no command turned into a typed one: still one line, with the path
      process.stderr.write(`error: ${fsFailure(err.syscall, err.path ?? '(no path)', e)}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
