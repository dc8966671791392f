/**
 * A small static file server on 127.0.0.1 for tests: GET and HEAD, single byte ranges (206 with
 * Content-Range, 416 when unsatisfiable), 404, content types for the web app (.html, .js, .wasm,
 * .wgsl, .json, ...), CORS headers (Range allowed, Content-Range exposed). Directories serve their
 * index.html. Used for the HTTP checkpoint tests and for browser tests.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createGzip } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

export interface StaticServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  close(): Promise<void>;
  /** Requests served so far (method, path, Range header), for tests that check the access pattern. */
  readonly requests: readonly { method: string; path: string; range?: string }[];
}

export interface StaticServerOptions {
  /** Answer ranged GETs with 200 and the whole file, like servers without Range support. */
  ignoreRange?: boolean;
  /** Answer HEAD with 405, like servers that only implement GET. */
  noHead?: boolean;
  /** Extra headers on every response (e.g. COOP/COEP for cross-origin isolation). */
  headers?: Record<string, string>;
  /**
   * Gzip every GET answer, ranged or not, keeping the Content-Range of the uncompressed bytes and
   * dropping Content-Length, as compression middleware in front of a static server does (`vite
   * preview` before this project configured it). HEAD answers carry Content-Encoding and no length.
   */
  gzipAll?: boolean;
  /** Answer missing paths with this file (200, its own content type), like `vite preview` and SPA hosts do with index.html. */
  fallback?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.wgsl': 'text/wgsl; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null = unsatisfiable/unsupported. */
function parseRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return null;
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return null;
  return { start, end };
}

/**
 * Serves each directory under its URL prefix, e.g. `{ '/fixtures/': '/work/shared/fixtures' }`
 * serves `/fixtures/stories260K/config.json`. A prefix of `'/'` serves a folder at the root.
 */
export async function startStaticServer(
  rootDirs: Record<string, string>,
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const roots = Object.entries(rootDirs)
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const requests: { method: string; path: string; range?: string }[] = [];

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0];
    requests.push({ method, path: rawPath, range: req.headers.range });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges, Content-Encoding');
    for (const [k, v] of Object.entries(options.headers ?? {})) res.setHeader(k, v);
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Range, Authorization, Content-Type',
      });
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
    if (method === 'HEAD' && options.noHead) return send(res, 405, '', { Allow: 'GET' });
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return send(res, 400, 'Bad URL encoding\n');
    }
    const root = roots.find(([prefix]) => path.startsWith(prefix) || `${path}/` === prefix);
    if (!root) return send(res, 404, `Not found: ${rawPath}\n`);
    const [prefix, dir] = root;
    let file = resolve(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return send(res, 403, 'Forbidden\n');
    let st;
    try {
      st = await stat(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file);
      }
    } catch {
      if (!options.fallback) return send(res, 404, `Not found: ${rawPath}\n`);
      file = options.fallback;
      st = await stat(file);
    }
    if (!st.isFile()) return send(res, 404, `Not found: ${rawPath}\n`);
    const size = st.size;
    const base = { 'Content-Type': contentType(file), 'Accept-Ranges': options.ignoreRange ? 'none' : 'bytes', 'Cache-Control': 'no-store' };
    const rangeHeader = req.headers.range;
    const length = (n: number): Record<string, string | number> => (options.gzipAll ? { 'Content-Encoding': 'gzip' } : { 'Content-Length': n });
    const body = (start?: number, end?: number): void => {
      const stream = createReadStream(file, start === undefined ? {} : { start, end });
      if (options.gzipAll) stream.pipe(createGzip()).pipe(res);
      else stream.pipe(res);
    };
    if (rangeHeader && !options.ignoreRange) {
      const r = parseRange(rangeHeader, size);
      if (!r) return send(res, 416, 'Range not satisfiable\n', { 'Content-Range': `bytes */${size}` });
      res.writeHead(206, { ...base, ...length(r.end - r.start + 1), 'Content-Range': `bytes ${r.start}-${r.end}/${size}` });
      if (method === 'HEAD') return void res.end();
      body(r.start, r.end);
      return;
    }
    res.writeHead(200, { ...base, ...length(size) });
    if (method === 'HEAD' || (size === 0 && !options.gzipAll)) return void res.end();
    body();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `Internal error: ${String(e)}\n`);
      else res.destroy();
    });
  });
  return {
    url: await listenLocal(server),
    requests,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : ok()));
      }),
  };
}

/** Starts `server` on a free port of 127.0.0.1 (fails if it cannot listen) and gives its base URL. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
