import type { Command } from '../common.js';
import { opt, parseArgs } from '../args.js';
import { ConfigError } from '../../errors.js';

/** `dendrite playground [--port N]`: serves the built playground page on 127.0.0.1 and prints its URL. */
export const playground: Command = {
  summary: 'serve the interactive playground (trains in the browser, shows every neuron) on 127.0.0.1',
  usage: 'dendrite playground [--port 8737]',
  async run(argv) {
    const a = parseArgs(argv, ['port'], [], 'playground');
    const raw = opt(a, 'port') ?? '8737';
    const port = Number(raw);
    if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError(`playground: --port must be an integer in [0, 65535] (0 = any free port), received ${JSON.stringify(raw)}`);
    // the server and the built page ship with the package (scripts/, dist/playground/)
    const server = new URL('../../../../scripts/playground.mjs', import.meta.url).href;
    const { servePlayground } = await import(server) as { servePlayground(dir: string | undefined, port: number): Promise<{ url: string }> };
    const { url } = await servePlayground(undefined, port);
    process.stdout.write(`dendrite playground: ${url}  (Ctrl-C stops it)\n`);
  },
};
