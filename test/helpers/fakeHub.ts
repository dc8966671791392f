/**
 * A local imitation of the Hugging Face Hub's file URLs on 127.0.0.1:
 *   GET|HEAD /<org>/<name>/resolve/<revision>/<file>  -> 302 to /cdn/<org>/<name>/<file> (as the Hub
 *   redirects to its CDN), which answers with byte ranges (206) or the whole file;
 * and the Hub's refusals with their X-Error-Code header: unknown repository 401 RepoNotFound (404 with
 * a token), gated repository without a token 401 GatedRepo, with a token that has no access 403
 * GatedRepo, unknown revision 404 RevisionNotFound, missing file 404 EntryNotFound.
 * Every answer carries CORS headers (as the Hub's do), so a page on another origin can read it.
 *
 * Datasets (second argument), as the Hub serves them:
 *   GET /api/datasets/<org>/<name>/revision/<rev>     -> {id, sha} (a branch resolved to its commit sha)
 *   GET /api/datasets/<org>/<name>/tree/<rev>/<path>  -> [{type, path, size}] of one folder, paginated
 *       (`treePageSize` entries, then a `Link: <...>; rel="next"` header, as the Hub pages its listing)
 *   GET|HEAD /datasets/<org>/<name>/resolve/<rev>/<file> -> 302 to /cdn/datasets/<org>/<name>/<file>
 * with the same refusals. Bytes sent from /cdn are counted per file (`sent`); `cut[file] = n` ends
 * that file's answers after n bytes (a download cut midway; `cutTimes` how often, default always).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { listenLocal } from './httpServer';

export interface FakeRepo {
  dir: string;
  /** Token that may read it (gated when set). */
  token?: string;
  revisions?: string[];
}

export interface FakeHub {
  url: string;
  requests: { method: string; path: string; range?: string; auth?: string }[];
  /** Bytes of file bodies sent, per `<repo>/<file>`. */
  sent: Map<string, number>;
  /** Ends answers for `<repo>/<file>` after this many body bytes (a cut download). */
  cut: Map<string, number>;
  /** How many more answers to cut per `<repo>/<file>` (absent: every answer). */
  cutTimes: Map<string, number>;
  /** Bytes per second for `<repo>/<file>` (a real network's pace; on localhost a browser reads a whole file ahead). */
  throttle: Map<string, number>;
  /** The commit sha the fake gives a revision name. */
  shaOf(revision: string): string;
  close(): Promise<void>;
}

/** The fake's commit sha of a revision: 40 hex digits derived from its name (a sha stays itself). */
export function fakeSha(revision: string): string {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  return createHash('sha1').update(`rev:${revision}`).digest('hex');
}

function listFolder(dir: string, sub: string): { type: string; path: string; size: number }[] {
  const full = join(dir, sub);
  if (!existsSync(full) || !statSync(full).isDirectory()) return [];
  return readdirSync(full)
    .sort()
    .map((name) => {
      const st = statSync(join(full, name));
      const path = sub ? `${sub}/${name}` : name;
      return { type: st.isDirectory() ? 'directory' : 'file', path, size: st.isDirectory() ? 0 : st.size };
    });
}

export async function startFakeHub(repos: Record<string, FakeRepo>, datasets: Record<string, FakeRepo> = {}, treePageSize = 1000): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const sent = new Map<string, number>();
  const cut = new Map<string, number>();
  const cutTimes = new Map<string, number>();
  const throttle = new Map<string, number>();
  const send = (res: ServerResponse, key: string, file: string, start: number, end: number) => {
    const times = cutTimes.get(key);
    const limit = cut.has(key) && (times === undefined || times > 0) ? cut.get(key)! : Infinity;
    if (limit !== Infinity && times !== undefined) cutTimes.set(key, times - 1);
    const rate = throttle.get(key);
    const stream = createReadStream(file, { start, end: Math.min(end, start + limit - 1), ...(rate ? { highWaterMark: 16 * 1024 } : {}) });
    stream.on('data', (chunk) => {
      sent.set(key, (sent.get(key) ?? 0) + chunk.length);
      if (rate) {
        stream.pause();
        setTimeout(() => stream.resume(), (chunk.length / rate) * 1000);
      }
    });
    res.on('close', () => stream.destroy());
    stream.on('end', () => {
      if (limit < end - start + 1) res.destroy();
      else res.end();
    });
    stream.pipe(res, { end: false });
  };
  const known = (repo: FakeRepo, revision: string) => (repo.revisions ?? ['main']).some((r) => r === revision || fakeSha(r) === revision);
  const refuse = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'X-Error-Code': code, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: code }));
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const auth = req.headers.authorization;
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, auth });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges, X-Error-Code, Link');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Authorization, Range', 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Max-Age': '600' });
      return res.end();
    }
    const cdn = /^\/cdn\/(datasets\/)?([^/]+\/[^/]+)\/(.+)$/.exec(path);
    if (cdn) {
      const file = join((cdn[1] ? datasets : repos)[cdn[2]].dir, cdn[3]);
      const key = `${cdn[2]}/${cdn[3]}`;
      const size = statSync(file).size;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        if (start >= size) return refuse(res, 416, 'RangeNotSatisfiable');
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
        if (req.method === 'HEAD') return res.end();
        return send(res, key, file, start, end);
      }
      res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') return res.end();
      return send(res, key, file, 0, size - 1);
    }
    const rawPath = (req.url ?? '/').split('?')[0];
    const api = /^\/api\/datasets\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)(?:\/(.*))?$/.exec(rawPath);
    if (api) {
      const [repoId, kind, revision, sub] = api.slice(1).map((g) => (g === undefined ? g : decodeURIComponent(g)));
      const repo = datasets[repoId];
      if (!repo) return refuse(res, auth ? 404 : 401, 'RepoNotFound');
      if (repo.token && auth !== `Bearer ${repo.token}` && kind === 'tree') return refuse(res, auth ? 403 : 401, 'GatedRepo');
      if (!known(repo, revision)) return refuse(res, 404, 'RevisionNotFound');
      if (kind === 'revision') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ id: repoId, sha: fakeSha(revision), gated: repo.token ? 'auto' : false }));
      }
      const all = listFolder(repo.dir, (sub ?? '').replace(/\/+$/, ''));
      if (sub && all.length === 0 && !existsSync(join(repo.dir, sub))) return refuse(res, 404, 'EntryNotFound');
      const cursor = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? 0);
      const page = all.slice(cursor, cursor + treePageSize);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (cursor + treePageSize < all.length) {
        headers.Link = `<http://${req.headers.host}/api/datasets/${repoId}/tree/${encodeURIComponent(revision)}/${sub ?? ''}?cursor=${cursor + treePageSize}>; rel="next"`;
      }
      res.writeHead(200, headers);
      return res.end(JSON.stringify(page));
    }
    const ds = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(rawPath);
    if (ds) {
      const [repoId, revision, file] = ds.slice(1).map(decodeURIComponent);
      const repo = datasets[repoId];
      if (!repo) return refuse(res, auth ? 404 : 401, 'RepoNotFound');
      if (repo.token && auth !== `Bearer ${repo.token}`) return refuse(res, auth ? 403 : 401, 'GatedRepo');
      if (!known(repo, revision)) return refuse(res, 404, 'RevisionNotFound');
      if (!existsSync(join(repo.dir, file))) return refuse(res, 404, 'EntryNotFound');
      res.writeHead(302, { Location: `/cdn/datasets/${repoId}/${file}` });
      return res.end();
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
  return {
    url: await listenLocal(server),
    requests,
    sent,
    cut,
    cutTimes,
    throttle,
    shaOf: fakeSha,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
