// Serves the built playground (dist/playground, see build-web.mjs) on 127.0.0.1 and prints its URL.
// Usage: node scripts/playground.mjs [--port N]   (default 8737; 0 = any free port)
// Nothing is fetched from the network: the page, its scripts and the digits subset are local files.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.bin': 'application/octet-stream' };

/** Starts a static server for `dir` on 127.0.0.1:`port`; resolves with the server and its URL. */
export function servePlayground(dir = join(ROOT, 'dist/playground'), port = 8737) {
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: build it with \`npm run build\` (or node scripts/build-web.mjs)`);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep) || !existsSync(file)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8737;
  const { url } = await servePlayground(undefined, port);
  console.log(`dendrite playground: ${url}  (Ctrl-C stops it)`);
}
