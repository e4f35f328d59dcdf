import { ConfigError } from '../errors.js';
import { checkInt, didYouMean } from '../validate.js';

/** Parsed command line: positional arguments and `--flag value` / `--switch` options. */
export interface Args {
  positional: string[];
  options: Map<string, string | true>;
}

/**
 * Parses `argv` against the options a command accepts. `valued` options take a value
 * (`--data FILE` or `--data=FILE`); `switches` take none. Unknown options are a ConfigError
 * naming them and listing what the command accepts.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], switches: readonly string[], command: string): Args {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (valued.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new ConfigError(`${command}: option --${name} needs a value`);
      options.set(name, v);
    } else if (switches.includes(name)) {
      options.set(name, true);
    } else {
      const known = [...valued.map((v) => `--${v} <value>`), ...switches.map((s) => `--${s}`)].join(', ');
      const hint = didYouMean(name, [...valued, ...switches]).replace(/"([^"]+)"/, '--$1');
      throw new ConfigError(`${command}: unknown option --${name}${hint} (it accepts ${known || 'no options'}; dendrite ${command} --help explains them)`);
    }
  }
  return { positional, options };
}

/** A valued option's string, or undefined. */
export function opt(a: Args, name: string): string | undefined {
  const v = a.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Whether a switch was given. */
export function flag(a: Args, name: string): boolean {
  return a.options.has(name);
}

/** A valued option that must be present. */
export function required(a: Args, name: string, command: string): string {
  const v = opt(a, name);
  if (v === undefined) throw new ConfigError(`${command}: --${name} is required`);
  return v;
}

/** A positive integer option. */
export function intOpt(a: Args, name: string, command: string): number | undefined {
  const v = opt(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  return checkInt(v.trim() !== '' && Number.isFinite(n) ? n : v, `${command}: --${name}`);
}
