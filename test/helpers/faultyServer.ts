/**
 * HTTP servers on 127.0.0.1 that misbehave the way real ones do, for download tests: one sends part
 * of a file and then stalls without closing, one closes the connection in the middle of a body.
 * Both serve a folder (GET/HEAD, single byte ranges) and fault only the files named in `faulty`.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { listenLocal } from './httpServer';

export interface FaultyServer {
  url: string;
  /** Requests for faulty files so far. */
  readonly faults: number;
  close(): Promise<void>;
}

export interface FaultyServerOptions {
  /**
   * 'stall': send `after` bytes of the body, then nothing (connection stays open). 'close': send
   * `after` bytes, then destroy the socket. 'trickle': send `after` bytes, then one byte every 300 ms
   * (never stalls, far below any minimum rate). 'endless': answer the faulty files with a body that
   * never ends (spaces, no Content-Length).
   */
  mode: 'stall' | 'close' | 'trickle' | 'endless';
  /** File names (relative to the folder) that misbehave; the rest are served normally. */
  faulty: string[];
  /** Bytes of the faulty body sent before the fault. */
  after: number;
  /** Close mode: misbehave on only the first `times` requests of a faulty file (default: always). */
  times?: number;
}

export async function startFaultyServer(dir: string, opts: FaultyServerOptions): Promise<FaultyServer> {
  const sockets = new Set<Socket>();
  let faults = 0;
  const serve = async (method: string, path: string, range: string | undefined, res: ServerResponse): Promise<void> => {
    const name = decodeURIComponent(path.replace(/^\/+/, ''));
    const file = join(dir, name);
    if (opts.mode === 'endless' && opts.faulty.includes(name)) {
      faults++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (method === 'HEAD') return void res.end();
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const pump = (): void => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.write('{"pad": "');
      pump();
      return;
    }
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    let start = 0;
    let end = size - 1;
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    }
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes' };
    if (m) res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` });
    else res.writeHead(200, headers);
    if (method === 'HEAD') return void res.end();
    const body = (await readFile(file)).subarray(start, end + 1);
    const fault = opts.faulty.includes(name) && (opts.times === undefined || faults < opts.times) && body.length > opts.after;
    if (!fault) return void res.end(body);
    faults++;
    res.write(body.subarray(0, opts.after));
    if (opts.mode === 'close') setTimeout(() => res.socket?.destroy(), 20);
    if (opts.mode === 'trickle') {
      let i = opts.after;
      const t = setInterval(() => {
        if (i >= body.length || res.destroyed) return void clearInterval(t);
        res.write(body.subarray(i, i + 1));
        i++;
      }, 300);
      res.on('close', () => clearInterval(t));
    }
    // 'stall': nothing more; close() below ends the socket
  };
  const server = createServer((req, res) => {
    // CORS, so that a page on another port can be pointed at this server
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Range, Authorization, Content-Type' });
      res.end();
      return;
    }
    serve(req.method ?? 'GET', (req.url ?? '/').split('?')[0], req.headers.range, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: await listenLocal(server),
    get faults() {
      return faults;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
