/**
 * Hugging Face Hub ids (`org/name`, optionally `@revision`, optionally prefixed `hf:`) resolved to the
 * Hub's file URLs, `<endpoint>/<org>/<name>/resolve/<revision>/<file>`, read with HTTP Range like any
 * URL folder (src/io/source.ts). Before anything else config.json is probed once, so that a missing
 * repository, a missing revision, a gated or private repository or a repository without config.json
 * gives one message that says what to do. The Hub tells these apart with the `X-Error-Code` response
 * header (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo); without a token it answers 401 for
 * repositories it will not show, whether private or missing.
 */
import { PolyPruneError } from '../common/errors';
import { urlFolder, type FetchFn, type ModelFolder, type UrlSourceOptions } from './source';

export const HUB_ENDPOINT = 'https://huggingface.co';

export interface HubId {
  /** `org/name` */
  readonly repo: string;
  /** Branch, tag or commit; 'main' when not given. */
  readonly revision: string;
}

const PART = '[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?';
const HUB_RE = new RegExp(`^(?:hf:|https://huggingface\\.co/)?(${PART}/${PART})(?:@([A-Za-z0-9._/-]{1,256}))?/?$`);

/** Whether `s` looks like a Hub id (`org/name[@rev]`, `hf:org/name`, `https://huggingface.co/org/name`). */
export function isHubId(s: string): boolean {
  return HUB_RE.test(s.trim()) && !s.includes('..');
}

/** Parses a Hub id; BAD_ARGUMENT with the expected form otherwise. */
export function parseHubId(s: string): HubId {
  const m = HUB_RE.exec(s.trim());
  if (!m || s.includes('..')) {
    throw new PolyPruneError('BAD_ARGUMENT', `'${s}' is not a Hugging Face model id. Expected org/name or org/name@revision, e.g. CohereForAI/aya-23-8B or meta-llama/Meta-Llama-3-8B@main.`);
  }
  return { repo: m[1], revision: m[2] ?? 'main' };
}

/** The folder URL of a revision: `<endpoint>/<org>/<name>/resolve/<revision>` (revision URL-encoded, as the Hub expects for refs/pr/N). */
export function hubFolderUrl(id: HubId, endpoint = HUB_ENDPOINT): string {
  return `${endpoint.replace(/\/+$/, '')}/${id.repo}/resolve/${encodeURIComponent(id.revision)}`;
}

/** The URL of one file of a revision. */
export function hubFileUrl(id: HubId, file: string, endpoint = HUB_ENDPOINT): string {
  return `${hubFolderUrl(id, endpoint)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

export interface HubOptions {
  /** Hub endpoint (default https://huggingface.co; a mirror, or a local server in tests). */
  endpoint?: string;
  /** Access token for gated and private repositories (sent as `Authorization: Bearer`). */
  token?: string;
  fetchFn?: FetchFn;
  signal?: AbortSignal;
  /** Download watchdogs, as for any URL (src/io/source.ts). */
  stallTimeoutMs?: number;
  minRateBytesPerS?: number;
}

function hubError(id: HubId, res: Response, endpoint: string, hasToken: boolean): PolyPruneError {
  const code = res.headers.get('x-error-code') ?? '';
  const page = `${endpoint.replace(/\/+$/, '')}/${id.repo}`;
  const tokenHint = "paste an access token into the page's \"Hugging Face access token\" field (for the CLI: set the HF_TOKEN environment variable)";
  if (code === 'GatedRepo' || ((res.status === 401 || res.status === 403) && code === '')) {
    return new PolyPruneError(
      'FETCH_FAILED',
      hasToken
        ? `The Hugging Face repository ${id.repo} is gated or private and this token has no access (HTTP ${res.status}). Accept its licence on ${page} with the account that owns the token, or use a token with read access.`
        : `The Hugging Face repository ${id.repo} is gated or private (HTTP ${res.status}). Accept its licence on ${page} and ${tokenHint}.`,
    );
  }
  if (code === 'RepoNotFound') {
    return new PolyPruneError('FILE_NOT_FOUND', `There is no Hugging Face model ${id.repo}${hasToken ? '' : ' (or it is private)'}. Check the spelling on ${endpoint.replace(/\/+$/, '')}/models${hasToken ? '' : `, or ${tokenHint} if it is private`}.`);
  }
  if (code === 'RevisionNotFound') {
    return new PolyPruneError('FILE_NOT_FOUND', `The Hugging Face model ${id.repo} has no revision '${id.revision}'. Use a branch, tag or commit listed on ${page}/tree/main (or leave out @revision for main).`);
  }
  if (code === 'EntryNotFound' || res.status === 404) {
    return new PolyPruneError('FILE_NOT_FOUND', `The Hugging Face model ${id.repo}@${id.revision} has no config.json; PolyPrune needs a transformers checkpoint (config.json, safetensors weights, tokenizer.json).`);
  }
  return new PolyPruneError('FETCH_FAILED', `Asking the Hugging Face Hub for ${id.repo}@${id.revision} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`);
}

/**
 * The files of a Hub model revision as a folder. Probes config.json first and throws a message that
 * says what to do for missing, gated or private repositories and unknown revisions.
 */
export async function hubFolder(spec: string | HubId, opts: HubOptions = {}): Promise<ModelFolder> {
  const id = typeof spec === 'string' ? parseHubId(spec) : spec;
  const endpoint = opts.endpoint ?? HUB_ENDPOINT;
  const fetchFn = opts.fetchFn ?? ((input: string, init?: RequestInit) => fetch(input, init));
  const headers: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const url = hubFileUrl(id, 'config.json', endpoint);
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'HEAD', headers, signal: opts.signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new PolyPruneError('FETCH_FAILED', `Cannot reach the Hugging Face Hub at ${endpoint} for ${id.repo}: ${(e as Error)?.message ?? String(e)}. Check the network connection (or HF_ENDPOINT).`, { cause: e });
  }
  if (!res.ok) throw hubError(id, res, endpoint, Boolean(opts.token));
  const options: UrlSourceOptions = { headers, signal: opts.signal, stallTimeoutMs: opts.stallTimeoutMs, minRateBytesPerS: opts.minRateBytesPerS };
  const folder = urlFolder(hubFolderUrl(id, endpoint), fetchFn, options);
  return { ...folder, location: `${id.repo}@${id.revision} (Hugging Face Hub)` };
}
