/**
 * A local imitation of the Hugging Face Hub's file URLs on 127.0.0.1:
 *   GET|HEAD /<org>/<name>/resolve/<revision>/<file>  -> 302 to /cdn/<org>/<name>/<file> (as the Hub
 *   redirects to its CDN), which answers with byte ranges (206) or the whole file;
 * and the Hub's refusals with their X-Error-Code header: unknown repository 401 RepoNotFound (404 with
 * a token), gated repository without a token 401 GatedRepo, with a token that has no access 403
 * GatedRepo, unknown revision 404 RevisionNotFound, missing file 404 EntryNotFound.
 * Every answer carries CORS headers (as the Hub's do), so a page on another origin can read it.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeRepo {
  dir: string;
  /** Token that may read it (gated when set). */
  token?: string;
  revisions?: string[];
}

export interface FakeHub {
  url: string;
  requests: { method: string; path: string; range?: string; auth?: string }[];
  close(): Promise<void>;
}

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const refuse = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'X-Error-Code': code, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: code }));
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const auth = req.headers.authorization;
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, auth });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges, X-Error-Code');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Authorization, Range', 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Max-Age': '600' });
      return res.end();
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(path);
    if (cdn) {
      const file = join(repos[cdn[1]].dir, cdn[2]);
      const size = statSync(file).size;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        if (start >= size) return refuse(res, 416, 'RangeNotSatisfiable');
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
        if (req.method === 'HEAD') return res.end();
        return createReadStream(file, { start, end }).pipe(res);
      }
      res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') return res.end();
      return createReadStream(file).pipe(res);
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return refuse(res, 404, 'NotFound');
    const [, repoId, revision, file] = m;
    const repo = repos[repoId];
    if (!repo) return refuse(res, auth ? 404 : 401, 'RepoNotFound');
    if (repo.token && auth !== `Bearer ${repo.token}`) return refuse(res, auth ? 403 : 401, 'GatedRepo');
    if (!(repo.revisions ?? ['main']).includes(revision)) return refuse(res, 404, 'RevisionNotFound');
    if (!existsSync(join(repo.dir, file))) return refuse(res, 404, 'EntryNotFound');
    res.writeHead(302, { Location: `/cdn/${repoId}/${file}` });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
