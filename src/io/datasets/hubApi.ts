/**
 * Hugging Face Hub datasets: a revision (branch, tag or `refs/convert/parquet`) resolved to its commit
 * sha, a folder listed, a file's URL at that sha. Everything read afterwards is addressed by the sha,
 * so the same settings read the same bytes even after the branch moves.
 *
 *   GET <endpoint>/api/datasets/<id>/revision/<rev>      -> {sha, ...}
 *   GET <endpoint>/api/datasets/<id>/tree/<sha>/<folder> -> [{type, path, size}], paged by `Link: rel="next"`
 *   <endpoint>/datasets/<id>/resolve/<sha>/<file>        -> the file (HTTP Range honoured)
 *
 * Refusals are told apart by the Hub's `X-Error-Code` header as for models (src/io/hub.ts).
 */
import { PolyPruneError } from '../../common/errors';
import { HUB_ENDPOINT } from '../hub';
import type { FetchFn } from '../source';

export interface DatasetHubOptions {
  /** Hub endpoint (default https://huggingface.co; a mirror, or a local server in tests). */
  endpoint?: string;
  /** Access token for gated and private datasets (sent as `Authorization: Bearer`). */
  token?: string;
  fetchFn?: FetchFn;
  signal?: AbortSignal;
}

export interface DatasetRef {
  /** `org/name` */
  readonly repo: string;
  /** The revision asked for (branch, tag, commit). */
  readonly revision: string;
  /** Its commit sha. */
  readonly sha: string;
}

export interface TreeEntry {
  type: 'file' | 'directory';
  path: string;
  size: number;
}

const TOKEN_HINT = "paste an access token into the page's \"Hugging Face access token\" field (for the CLI: set the HF_TOKEN environment variable)";

const base = (endpoint: string) => endpoint.replace(/\/+$/, '');
const encPath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function datasetFileUrl(ref: DatasetRef, file: string, endpoint = HUB_ENDPOINT): string {
  return `${base(endpoint)}/datasets/${ref.repo}/resolve/${encodeURIComponent(ref.sha)}/${encPath(file)}`;
}

/** One line for a refused dataset request: missing, gated, unknown revision or file, or another HTTP status. */
export function datasetHttpError(repo: string, revision: string, res: Response, endpoint: string, hasToken: boolean, what: string): PolyPruneError {
  const code = res.headers.get('x-error-code') ?? '';
  const page = `${base(endpoint)}/datasets/${repo}`;
  if (code === 'GatedRepo' || ((res.status === 401 || res.status === 403) && code === '')) {
    return new PolyPruneError(
      'FETCH_FAILED',
      hasToken
        ? `The Hugging Face dataset ${repo} is gated or private and this token has no access (HTTP ${res.status}). Accept its terms on ${page} with the account that owns the token, or use a token with read access.`
        : `The Hugging Face dataset ${repo} is gated or private (HTTP ${res.status}). Accept its terms on ${page} and ${TOKEN_HINT}.`,
    );
  }
  if (code === 'RepoNotFound') {
    return new PolyPruneError('FILE_NOT_FOUND', `There is no Hugging Face dataset ${repo}${hasToken ? '' : ' (or it is private)'}. Check the spelling on ${base(endpoint)}/datasets.`);
  }
  if (code === 'RevisionNotFound') {
    return new PolyPruneError('FILE_NOT_FOUND', `The Hugging Face dataset ${repo} has no revision '${revision}'. Use a branch, tag or commit listed on ${page}/tree/main (or leave the revision out for main).`);
  }
  if (code === 'EntryNotFound' || res.status === 404) {
    return new PolyPruneError('FILE_NOT_FOUND', `The Hugging Face dataset ${repo}@${revision} has no ${what}.`);
  }
  return new PolyPruneError('FETCH_FAILED', `Asking the Hugging Face Hub for ${what} of ${repo}@${revision} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`);
}

export function hubFetch(opts: DatasetHubOptions): { fetchFn: FetchFn; headers: Record<string, string>; endpoint: string } {
  return {
    fetchFn: opts.fetchFn ?? ((input: string, init?: RequestInit) => fetch(input, init)),
    headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
    endpoint: opts.endpoint ?? HUB_ENDPOINT,
  };
}

/** A fetch that turns a network failure into one FETCH_FAILED line (an abort stays an abort). */
export async function reach(fetchFn: FetchFn, url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new PolyPruneError('FETCH_FAILED', `Cannot reach the Hugging Face Hub for ${what} (${url}): ${(e as Error)?.message ?? String(e)}. Check the network connection (or HF_ENDPOINT), or run offline from the cache.`, { cause: e });
  }
}

/** The commit sha of `revision` (a 40-digit sha is still checked, so a wrong one is refused early). */
export async function resolveDatasetRevision(repo: string, revision: string, opts: DatasetHubOptions = {}): Promise<DatasetRef> {
  const { fetchFn, headers, endpoint } = hubFetch(opts);
  const url = `${base(endpoint)}/api/datasets/${repo}/revision/${encodeURIComponent(revision)}`;
  const res = await reach(fetchFn, url, { headers, signal: opts.signal }, `dataset ${repo}`);
  if (!res.ok) throw datasetHttpError(repo, revision, res, endpoint, Boolean(opts.token), `revision '${revision}'`);
  const body = (await res.json().catch(() => null)) as { sha?: unknown } | null;
  if (!body || typeof body.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha)) {
    throw new PolyPruneError('FETCH_FAILED', `The Hugging Face Hub answered for ${repo}@${revision} without a commit sha; is ${endpoint} a Hub endpoint?`);
  }
  return { repo, revision, sha: body.sha };
}

/** The entries of one folder at `ref.sha` (not recursive), in the Hub's order (sorted by path), all pages. */
export async function listDatasetFolder(ref: DatasetRef, folder: string, opts: DatasetHubOptions = {}): Promise<TreeEntry[]> {
  const { fetchFn, headers, endpoint } = hubFetch(opts);
  let url: string | null = `${base(endpoint)}/api/datasets/${ref.repo}/tree/${encodeURIComponent(ref.sha)}/${encPath(folder)}`;
  const out: TreeEntry[] = [];
  for (let page = 0; url && page < 1000; page++) {
    const res = await reach(fetchFn, url, { headers, signal: opts.signal }, `the file list of ${ref.repo}`);
    if (!res.ok) throw datasetHttpError(ref.repo, ref.revision, res, endpoint, Boolean(opts.token), `folder '${folder}'`);
    const body = (await res.json().catch(() => null)) as unknown;
    if (!Array.isArray(body)) throw new PolyPruneError('FETCH_FAILED', `The Hugging Face Hub's file list of ${ref.repo}/${folder} is not a list; is ${endpoint} a Hub endpoint?`);
    for (const e of body as { type?: string; path?: string; size?: number }[]) {
      if (typeof e?.path === 'string') out.push({ type: e.type === 'directory' ? 'directory' : 'file', path: e.path, size: Number(e.size ?? 0) });
    }
    const link = res.headers.get('link');
    const next = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
    url = next ? next[1] : null;
  }
  return out;
}
