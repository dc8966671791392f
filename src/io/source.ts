/**
 * Byte sources and model folders that work in the browser and in Node (fetch, Blob/File). Reads are
 * by byte range, so a multi-gigabyte checkpoint is never held in memory as a whole. Node-only sources
 * (local paths) live in ./node.ts so browser bundles never pull in `fs`.
 */
import { PolyPruneError } from '../common/errors';
import { fmtBytes } from '../common/format';
import { DEFAULT_MIN_RATE_BYTES_PER_S, MAX_JSON_BYTES, jsonTooLarge } from './limits';

/** Random access to the bytes of one file. */
export interface ByteSource {
  /** File name or URL, used in error messages. */
  readonly name: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** Exactly `length` bytes starting at `offset`, in a fresh buffer the caller owns; throws otherwise. */
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
  /** Releases handles (local files); other sources have nothing to release. */
  close?(): Promise<void>;
}

/** The files of one model (config.json, tokenizer.json, *.safetensors), wherever they live. */
export interface ModelFolder {
  /** Directory path, base URL or dropped folder name, used in error messages. */
  readonly location: string;
  /**
   * True for a folder on this machine's disk: `location` is then its absolute path, which stays on
   * this machine (messages, `polyprune info`) and is never written into records, exports or share
   * links (see {@link portableSource}).
   */
  readonly localDir?: boolean;
  /** Whole text file (UTF-8), at most MAX_JSON_BYTES (src/io/limits.ts). Missing file -> FILE_NOT_FOUND. */
  readText(name: string): Promise<string>;
  /** Range access to a file; a missing file fails with FILE_NOT_FOUND at the first size()/read(). */
  open(name: string): ByteSource;
  exists(name: string): Promise<boolean>;
}

/**
 * Where a model came from, in a form that can leave this machine (result records, share links,
 * pruning.json, recipe.yaml): the Hub id and revision, the URL (without user name or password), or
 * for a local folder `local folder '<name>'` (its content hash travels beside it, as `sha256`).
 */
export function portableSource(folder: Pick<ModelFolder, 'location' | 'localDir'>): string {
  if (folder.localDir) return `local folder '${localFolderName(folder.location)}'`;
  if (/^https?:\/\//i.test(folder.location)) {
    try {
      const u = new URL(folder.location);
      u.username = '';
      u.password = '';
      return u.href;
    } catch {
      return folder.location;
    }
  }
  return folder.location;
}

/** The last part of a path (either separator), e.g. 'stories260K' for '/home/me/models/stories260K/'. */
export function localFolderName(path: string): string {
  const parts = path.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Does `source` look like an absolute local path (POSIX, Windows drive or UNC)? Old records wrote those. */
export function isLocalPath(source: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(source);
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface UrlSourceOptions {
  /** Extra request headers (e.g. `Authorization: Bearer ...` for gated Hugging Face repos). */
  headers?: Record<string, string>;
  /** Aborts in-flight requests. */
  signal?: AbortSignal;
  /**
   * When a server ignores `Range` and answers 200 with the whole file, files up to this many bytes
   * are downloaded once, kept, and sliced; larger ones fail with FETCH_FAILED. Default 32 MiB.
   */
  maxUnrangedBytes?: number;
  /** A request that receives no bytes (headers or body) for this long fails with FETCH_FAILED. Default 30 s; 0 = never. */
  stallTimeoutMs?: number;
  /** How often a range read whose connection broke mid-body is resumed with a new Range request. Default 3. */
  retries?: number;
  /**
   * A body whose average rate over any stall-timeout-long span is below this many bytes per second
   * fails with FETCH_FAILED (default {@link DEFAULT_MIN_RATE_BYTES_PER_S}; 0 = no minimum).
   */
  minRateBytesPerS?: number;
  /** downloadBytes only: the largest body accepted (default unlimited); larger -> INPUT_TOO_LARGE. */
  maxBytes?: number;
}

const DEFAULT_MAX_UNRANGED_BYTES = 32 * 1024 * 1024;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;

function checkRange(name: string, offset: number, length: number, size?: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `Invalid byte range offset=${offset} length=${length} for ${name}.`);
  }
  if (size !== undefined && offset + length > size) {
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `Cannot read bytes [${offset}, ${offset + length}) of ${name}: the file has only ${size} bytes.`,
    );
  }
}

/** A Blob or File (e.g. from a drop or an <input type=file>), read by `slice()`. */
export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: () => Promise.resolve(blob.size),
    async read(offset, length) {
      checkRange(name, offset, length, blob.size);
      const buf = await blob.slice(offset, offset + length).arrayBuffer();
      if (buf.byteLength !== length) {
        throw new PolyPruneError(
          'FILE_NOT_FOUND',
          `Reading bytes [${offset}, ${offset + length}) of ${name} returned ${buf.byteLength} bytes; was the file changed or removed?`,
        );
      }
      return new Uint8Array(buf);
    },
  };
}

const defaultFetch: FetchFn = (input, init) => fetch(input, init);

function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const causeMsg = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : '';
    return causeMsg && !e.message.includes(causeMsg) ? `${e.message} (${causeMsg})` : e.message;
  }
  return String(e);
}

function fmtSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * One HTTP request with a stall watchdog: it aborts when no bytes (headers or body) arrive for
 * `stallMs`, and follows the caller's signal. `done()` must be called when the request is finished.
 */
class Guard {
  readonly ctrl = new AbortController();
  stalled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOuter = (): void => this.ctrl.abort(this.outer?.reason);

  constructor(
    private readonly stallMs: number,
    private readonly outer?: AbortSignal,
  ) {
    if (outer?.aborted) this.ctrl.abort(outer.reason);
    else outer?.addEventListener('abort', this.onOuter, { once: true });
    this.kick();
  }

  /** Bytes arrived: restart the stall timer. */
  kick(): void {
    clearTimeout(this.timer);
    if (this.stallMs > 0 && Number.isFinite(this.stallMs)) {
      this.timer = setTimeout(() => {
        this.stalled = true;
        this.ctrl.abort();
      }, this.stallMs);
    }
  }

  done(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuter);
  }

  get outerAborted(): boolean {
    return this.outer?.aborted ?? false;
  }
}

function stallError(url: string, stallMs: number, received: number, expected?: number): PolyPruneError {
  const of = expected !== undefined ? ` of ${expected}` : '';
  return new PolyPruneError(
    'FETCH_FAILED',
    `Download of ${url} stalled: no data for ${fmtSeconds(stallMs)} after ${received}${of} bytes. The server stopped sending; try again later, or allow more time (CLI: --stall-timeout <seconds>).`,
  );
}

/** The connection closed in the middle of a body; `received` bytes of it arrived. Retried by range reads. */
class BodyBroken extends Error {
  constructor(
    readonly received: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function abortError(): Error {
  return new DOMException('The operation was aborted.', 'AbortError');
}

/** Errors of requests that got no answer at all (fetch rejected: network, CORS, an answer the browser refused). */
const networkErrors = new WeakSet<Error>();

async function guardedFetch(fetchFn: FetchFn, url: string, init: RequestInit, stallMs: number, outer?: AbortSignal): Promise<{ res: Response; guard: Guard }> {
  const guard = new Guard(stallMs, outer);
  try {
    const res = await fetchFn(url, { ...init, signal: guard.ctrl.signal });
    guard.kick();
    return { res, guard };
  } catch (e) {
    guard.done();
    if (guard.stalled) throw stallError(url, stallMs, 0);
    if (guard.outerAborted || (e instanceof Error && e.name === 'AbortError')) throw e instanceof Error && e.name === 'AbortError' ? e : abortError();
    const err = new PolyPruneError(
      'FETCH_FAILED',
      `Could not reach ${url}: ${describeFetchError(e)}. Check the URL, your network connection and, in the browser, that the server allows cross-origin requests (CORS).`,
      { cause: e },
    );
    networkErrors.add(err);
    throw err;
  }
}

/**
 * Reads a response body chunk by chunk (each chunk restarts the stall timer), handing chunks to
 * `sink`; `sink` returns false to stop early (the stream is cancelled). Throws the stall error, an
 * AbortError, or BodyBroken with the bytes that arrived.
 */
async function pumpBody(res: Response, guard: Guard, url: string, stallMs: number, sink: (chunk: Uint8Array) => boolean, expected?: number, minRate = DEFAULT_MIN_RATE_BYTES_PER_S): Promise<number> {
  let received = 0;
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    sink(buf);
    return buf.byteLength;
  }
  const reader = res.body.getReader();
  // Minimum rate: every stall-timeout-long span must bring minRate * span bytes (a trickle that
  // never stalls for the whole timeout still ends).
  let slow: { got: number; need: number } | null = null;
  let mark = 0;
  let lastByteAt = Date.now();
  const span = stallMs > 0 && Number.isFinite(stallMs) ? stallMs : 0;
  const need = Math.ceil((minRate * span) / 1000);
  const rateTimer = span > 0 && need > 0
    ? setInterval(() => {
        const got = received - mark;
        mark = received;
        // a body that stopped altogether is the stall timer's to report (it fires within half a span)
        if (got < need && Date.now() - lastByteAt < span / 2) {
          slow = { got, need };
          void reader.cancel().catch(() => undefined);
        }
      }, span)
    : undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (slow) throw new Error('slow');
      if (done) return received;
      guard.kick();
      lastByteAt = Date.now();
      received += value.byteLength;
      if (!sink(value)) {
        await reader.cancel().catch(() => undefined);
        return received;
      }
    }
  } catch (e) {
    if (guard.stalled) throw stallError(url, stallMs, received, expected);
    if (guard.outerAborted) throw abortError();
    const s = slow as { got: number; need: number } | null;
    if (s) throw slowError(url, span, s.got, minRate, received, expected);
    throw new BodyBroken(received, describeFetchError(e));
  } finally {
    clearInterval(rateTimer);
    reader.releaseLock?.();
  }
}

function slowError(url: string, spanMs: number, got: number, minRate: number, received: number, expected?: number): PolyPruneError {
  return new PolyPruneError(
    'FETCH_FAILED',
    `Download of ${url} is too slow: ${got} bytes in the last ${fmtSeconds(spanMs)}, below the minimum of ${fmtBytes(minRate)}/s (${received}${expected !== undefined ? ` of ${expected}` : ''} bytes received). Try again later or from another host, or lower the minimum (CLI: --min-rate <bytes/s>, 0 = none).`,
  );
}

/** The whole body, or null once it exceeds `limit` bytes. */
async function readBodyCapped(res: Response, guard: Guard, url: string, stallMs: number, limit: number, minRate?: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  try {
    await pumpBody(res, guard, url, stallMs, (c) => {
      total += c.byteLength;
      if (total > limit) {
        over = true;
        return false;
      }
      chunks.push(c);
      return true;
    }, Number.isFinite(declared) && res.headers.get('content-length') !== null ? declared : undefined, minRate);
  } catch (e) {
    if (e instanceof BodyBroken) {
      throw new PolyPruneError('FETCH_FAILED', `Download of ${url} broke off: the server closed the connection after ${e.received} bytes (${e.reason}). Try again.`);
    }
    throw e;
  }
  return over ? null : concatBytes(chunks, total);
}

/** Concatenates byte chunks into one fresh buffer. */
export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array<ArrayBuffer> {
  const n = total ?? chunks.reduce((s, c) => s + c.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

function parseContentRangeTotal(v: string | null): number | undefined {
  // "bytes 0-0/12345"
  const m = v ? /^bytes\s+(?:\d+-\d+|\*)\/(\d+)\s*$/i.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}

function statusText(res: Response): string {
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
}

/**
 * True when a server answered a request for `name` with an HTML page: static hosts with an app
 * fallback (vite preview, most SPA hosts) answer every missing path with index.html and 200.
 */
export function isHtmlAnswer(res: Response, name: string): boolean {
  if (/\.html?$/i.test(name)) return false;
  return /^\s*text\/html\b/i.test(res.headers.get('content-type') ?? '');
}

/** True when bytes look like the start of an HTML page (`<!doctype html`, `<html`). */
export function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (head.length < 5) return false;
  return ['<!doctype html', '<html', '<head', '<!--'].some((c) => head.startsWith(c) || c.startsWith(head));
}

function htmlNotFile(url: string): PolyPruneError {
  return new PolyPruneError(
    'FILE_NOT_FOUND',
    `${url} answered with an HTML page instead of the file: the server has no such file and serves its app page in its place (an app fallback). Check the model URL.`,
  );
}

/** Builds the error for a failed response; `onNotFound` lets folders report FILE_NOT_FOUND instead. */
type NotFoundHook = (res: Response) => PolyPruneError;

function httpError(url: string, res: Response, what: string, onNotFound?: NotFoundHook): PolyPruneError {
  if (onNotFound && (res.status === 404 || res.status === 410)) return onNotFound(res);
  const hint =
    res.status === 401 || res.status === 403
      ? ' The server refused access: the repository may be gated or private (pass an access token).'
      : res.status === 404
        ? ' The file does not exist at this URL.'
        : '';
  return new PolyPruneError('FETCH_FAILED', `${what} ${url} failed: ${statusText(res)}.${hint}`);
}

function makeUrlSource(
  url: string,
  fetchFn: FetchFn,
  options: UrlSourceOptions,
  onNotFound?: NotFoundHook,
): ByteSource {
  const maxUnranged = options.maxUnrangedBytes ?? DEFAULT_MAX_UNRANGED_BYTES;
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const minRate = options.minRateBytesPerS;
  const request = (extra: Record<string, string>, method = 'GET') =>
    guardedFetch(fetchFn, url, { method, headers: { ...options.headers, ...extra } }, stallMs, options.signal);
  /** The whole file, kept only when the server's ranges are unusable (ignored, compressed) and the file is small. */
  let whole: Uint8Array<ArrayBuffer> | null = null;
  let sizePromise: Promise<number> | null = null;
  /** The size size() reported (HEAD Content-Length or Content-Range total), to check a whole read against. */
  let headSize: number | undefined;
  const mib = (n: number): string => fmtBytes(n, { unit: 'MiB' });
  const tooLarge = (behaviour: string, size?: number): PolyPruneError =>
    new PolyPruneError(
      'FETCH_FAILED',
      `${url} ${behaviour}, so the file cannot be read piecewise, and it is ${size !== undefined ? `${mib(size)}, ` : ''}larger than the ${mib(maxUnranged)} read whole. Serve model files with byte ranges and without compression (no gzip/br for Range requests or binary files; Hugging Face, \`npx http-server\` and \`npm start\` do), or load the folder from disk.`,
    );

  /**
   * The server's answers to Range requests cannot be used (`behaviour` says why): read the file whole
   * once (from `res` when it already is the whole file, else with a plain GET) when it is small,
   * keep it, and slice; fail naming the behaviour when it is large.
   */
  const readWhole = async (behaviour: string, offset: number, length: number, res?: { res: Response; guard: Guard }): Promise<Uint8Array<ArrayBuffer>> => {
    if (headSize !== undefined && headSize > maxUnranged) {
      await res?.res.body?.cancel().catch(() => undefined);
      throw tooLarge(behaviour, headSize);
    }
    const got = res ?? (await request({}));
    try {
      if (!got.res.ok) {
        await got.res.body?.cancel().catch(() => undefined);
        throw httpError(url, got.res, 'Downloading', onNotFound);
      }
      if (isHtmlAnswer(got.res, url)) {
        await got.res.body?.cancel().catch(() => undefined);
        throw htmlNotFile(url);
      }
      const body = await readBodyCapped(got.res, got.guard, url, stallMs, maxUnranged, minRate);
      if (!body) throw tooLarge(behaviour);
      if (looksLikeHtml(body)) throw htmlNotFile(url);
      if (headSize !== undefined && body.byteLength !== headSize) {
        throw new PolyPruneError(
          'FETCH_FAILED',
          `${url} sent ${body.byteLength} bytes for a file it earlier gave as ${headSize} bytes (it ${behaviour}). The file changed on the server or the server is misconfigured; try again, or serve model files with byte ranges and without compression.`,
        );
      }
      whole = body;
    } finally {
      if (!res) got.guard.done();
    }
    if (offset + length > whole.byteLength) {
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        `Cannot read bytes [${offset}, ${offset + length}) of ${url}: the file has only ${whole.byteLength} bytes.`,
      );
    }
    return whole.slice(offset, offset + length);
  };
  const IGNORED = 'ignored the HTTP Range request (answered 200 with the whole file instead of 206 Partial Content)';
  const compressed = (res: Response): string | null => {
    const enc = res.headers.get('content-encoding');
    return enc && enc.trim().toLowerCase() !== 'identity' ? `compressed its answer to an HTTP Range request (Content-Encoding: ${enc.trim()}), so the byte offsets do not match the file` : null;
  };

  const REFUSED =
    'answered HTTP Range requests in a way the browser refused (most often a compressed 206 answer, net::ERR_CONTENT_DECODING_FAILED), while a plain request works';
  /**
   * A ranged GET; null when it got no answer at all but a plain GET of the file does (the browser
   * refuses a compressed 206: it asked for no encoding). A large file of known size fails at once
   * with the network error and that hint: a plain GET of it would download it whole.
   */
  const rangeRequest = async (range: string): Promise<{ res: Response; guard: Guard } | null> => {
    try {
      return await request({ Range: range });
    } catch (e) {
      if (!(e instanceof Error) || !networkErrors.has(e)) throw e;
      if (headSize !== undefined && headSize > maxUnranged) {
        throw new PolyPruneError(
          'FETCH_FAILED',
          `Reading ${range} of ${url} got no answer (${describeFetchError(e.cause)}) although the server answered its HEAD request: it may compress its answers to HTTP Range requests, which browsers refuse (net::ERR_CONTENT_DECODING_FAILED), and at ${mib(headSize)} the file is larger than the ${mib(maxUnranged)} read whole. Serve model files with byte ranges and without compression, or check the network and try again.`,
          { cause: e },
        );
      }
      const plain = await request({}, 'HEAD').catch(() => null);
      plain?.guard.done();
      if (!plain?.res.ok) throw e;
      return null;
    }
  };

  const fetchSize = async (): Promise<number> => {
    if (whole) return whole.byteLength;
    {
      const { res: head, guard } = await request({}, 'HEAD');
      guard.done();
      if (head.ok && isHtmlAnswer(head, url)) throw htmlNotFile(url);
      const len = head.headers.get('content-length');
      const encoded = head.headers.get('content-encoding');
      if (head.ok && len !== null && /^\d+$/.test(len) && (!encoded || encoded === 'identity')) {
        headSize = Number(len);
        return headSize;
      }
    }
    // No usable HEAD (405, compressed, missing length): ask for the first byte and read Content-Range.
    const first = await rangeRequest('bytes=0-0');
    if (!first) {
      await readWhole(REFUSED, 0, 0);
      return (whole as Uint8Array<ArrayBuffer> | null)?.byteLength ?? 0;
    }
    const { res, guard } = first;
    try {
      if (res.ok && isHtmlAnswer(res, url)) {
        await res.body?.cancel().catch(() => undefined);
        throw htmlNotFile(url);
      }
      if (res.status === 206) {
        await res.body?.cancel().catch(() => undefined);
        const why = compressed(res);
        // A compressed 206 states the range of the encoded bytes (a browser cache that holds a
        // compressed copy answers so): its total is not the file's size.
        if (why) {
          await readWhole(why, 0, 0);
          return (whole as Uint8Array<ArrayBuffer> | null)?.byteLength ?? 0;
        }
        const total = parseContentRangeTotal(res.headers.get('content-range'));
        if (total === undefined) {
          throw new PolyPruneError(
            'FETCH_FAILED',
            `Cannot determine the size of ${url}: neither HEAD Content-Length nor a readable Content-Range header (cross-origin servers must list Content-Range in Access-Control-Expose-Headers).`,
          );
        }
        headSize = total;
        return total;
      }
      if (res.ok) {
        await readWhole(IGNORED, 0, 0, { res, guard });
        return (whole as Uint8Array<ArrayBuffer> | null)?.byteLength ?? 0;
      }
      await res.body?.cancel().catch(() => undefined);
      throw httpError(url, res, 'Requesting', onNotFound);
    } finally {
      guard.done();
    }
  };

  /** Bytes [offset, offset + length) with Range requests; a body cut off mid-way is resumed. */
  const readRange = async (offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> => {
    // A body that arrives as one chunk of exactly the range, a buffer of its own (the weight cache
    // answers so, src/io/cache.ts), is returned as it is: no second copy of a slice of weights.
    let out: Uint8Array<ArrayBuffer> | null = null;
    const last = offset + length - 1;
    let got = 0;
    let breaks = 0;
    while (got < length) {
      const from = offset + got;
      const answer = await rangeRequest(`bytes=${from}-${last}`);
      if (!answer) return await readWhole(REFUSED, offset, length);
      const { res, guard } = answer;
      try {
        if (res.ok && isHtmlAnswer(res, url)) {
          await res.body?.cancel().catch(() => undefined);
          throw htmlNotFile(url);
        }
        if (res.status === 206) {
          const why = compressed(res);
          if (why) {
            await res.body?.cancel().catch(() => undefined);
            return await readWhole(why, offset, length);
          }
          let overflow = false;
          const n = await pumpBody(res, guard, url, stallMs, (c) => {
            if (got + c.byteLength > length) {
              overflow = true;
              return false;
            }
            if (!out && c.byteLength === length && c.byteOffset === 0 && c.buffer instanceof ArrayBuffer && c.buffer.byteLength === length) {
              out = c as Uint8Array<ArrayBuffer>;
              got = length;
              return true;
            }
            out ??= new Uint8Array(length);
            out.set(c, got);
            got += c.byteLength;
            return true;
          }, length - got, minRate).catch((e: unknown) => {
            if (e instanceof BodyBroken) return -1;
            throw e;
          });
          if (n >= 0 && !overflow && got < length) {
            throw new PolyPruneError(
              'FETCH_FAILED',
              `${url}: asked for bytes ${offset}-${last} (${length} bytes) but received ${got} bytes. The file may be shorter than expected or changed on the server.`,
            );
          }
          if (overflow) return await readWhole(`sent more than the ${last - from + 1} bytes asked for by an HTTP Range request (bytes ${from}-${last}; a compressed or broken range answer)`, offset, length);
          if (n < 0) {
            breaks++;
            if (breaks > retries) {
              throw new PolyPruneError(
                'FETCH_FAILED',
                `Download of ${url} broke off ${breaks} times (the server closed the connection mid-transfer); received ${got} of ${length} bytes (bytes ${offset}-${last}). Try again later or from another host.`,
              );
            }
          }
          continue;
        }
        if (res.status === 200 && got === 0) return await readWhole(IGNORED, offset, length, { res, guard });
        await res.body?.cancel().catch(() => undefined);
        if (res.status === 416) {
          throw new PolyPruneError(
            'FETCH_FAILED',
            `${url}: bytes ${from}-${last} are past the end of the file (HTTP 416 Range Not Satisfiable). The file is truncated or changed on the server.`,
          );
        }
        throw httpError(url, res, `Reading bytes ${from}-${last} of`, onNotFound);
      } finally {
        guard.done();
      }
    }
    return out ?? new Uint8Array(length);
  };

  return {
    name: url,
    size() {
      sizePromise ??= fetchSize();
      sizePromise.catch(() => {
        sizePromise = null; // allow a retry after a transient failure
      });
      return sizePromise;
    },
    async read(offset, length) {
      checkRange(url, offset, length, whole?.byteLength);
      if (whole) return whole.slice(offset, offset + length);
      if (length === 0) return new Uint8Array(0);
      return readRange(offset, length);
    },
  };
}

/**
 * A file on an HTTP(S) server read with Range requests (`Range: bytes=a-b`, answered by 206).
 * The size comes from HEAD Content-Length, or from the Content-Range of a `bytes=0-0` request.
 * If the server's ranges are unusable (it ignores Range and answers 200 with the whole body, it
 * compresses a 206 answer, so its offsets are not the file's, or it sends more than asked), files up
 * to `maxUnrangedBytes` are downloaded once whole (a plain GET; fetch undoes the compression) and
 * sliced; larger ones fail with FETCH_FAILED naming the server's behaviour and what to change,
 * rather than downloading the whole file for every tensor. Network failures and HTTP errors are FETCH_FAILED naming the URL and status;
 * a request that receives nothing for `stallTimeoutMs` fails naming the bytes received; a body cut
 * off mid-way is resumed from where it stopped (`retries` times). An HTML page answered in place of
 * the file (an app fallback) is FILE_NOT_FOUND.
 */
export function urlSource(url: string, fetchFn: FetchFn = defaultFetch, options: UrlSourceOptions = {}): ByteSource {
  return makeUrlSource(url, fetchFn, options);
}

/**
 * A whole small file over HTTP(S) (task files, texts) with the same stall timeout and messages as
 * model downloads; an HTML page in place of a non-HTML file is FILE_NOT_FOUND.
 */
export async function downloadBytes(url: string, fetchFn: FetchFn = defaultFetch, options: UrlSourceOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const { res, guard } = await guardedFetch(fetchFn, url, { method: 'GET', headers: { ...options.headers } }, stallMs, options.signal);
  try {
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw httpError(url, res, 'Downloading');
    }
    if (isHtmlAnswer(res, url.split('?')[0])) {
      await res.body?.cancel().catch(() => undefined);
      throw htmlNotFile(url);
    }
    const limit = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const body = await readBodyCapped(res, guard, url, stallMs, limit, options.minRateBytesPerS);
    if (!body) {
      const declared = Number(res.headers.get('content-length'));
      throw new PolyPruneError('INPUT_TOO_LARGE', `${url} is ${Number.isFinite(declared) && declared > limit ? fmtBytes(declared) : 'larger than the limit'}; at most ${fmtBytes(limit)} is read from a download like this. Use a smaller file.`);
    }
    return body;
  } finally {
    guard.done();
  }
}

function fileNotFound(name: string, location: string, extra = ''): PolyPruneError {
  return new PolyPruneError('FILE_NOT_FOUND', `File '${name}' not found in ${location}.${extra}`);
}

function checkRelativeName(name: string, location: string): void {
  if (name === '' || name.startsWith('/') || name.split(/[\\/]/).includes('..')) {
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `Invalid file name '${name}' in ${location}: expected a path relative to the model folder.`,
    );
  }
}

/**
 * A model folder on an HTTP(S) server, e.g. `https://huggingface.co/<repo>/resolve/main`.
 * File names are appended to the base URL (path segments URL-encoded; a query string on the base is
 * kept). 404/410 -> FILE_NOT_FOUND, other failures -> FETCH_FAILED. An HTML page served for a file
 * that is not .html counts as missing (static hosts answer missing paths with their app page).
 */
export function urlFolder(baseUrl: string, fetchFn: FetchFn = defaultFetch, options: UrlSourceOptions = {}): ModelFolder {
  const q = baseUrl.indexOf('?');
  const path = (q < 0 ? baseUrl : baseUrl.slice(0, q)).replace(/\/+$/, '');
  const query = q < 0 ? '' : baseUrl.slice(q);
  const location = path;
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const urlOf = (name: string): string => {
    checkRelativeName(name, location);
    return `${path}/${name.split('/').map(encodeURIComponent).join('/')}${query}`;
  };
  const request = (url: string, method: string, extra: Record<string, string> = {}) =>
    guardedFetch(fetchFn, url, { method, headers: { ...options.headers, ...extra } }, stallMs, options.signal);
  const htmlMissing = (name: string, url: string): PolyPruneError =>
    fileNotFound(name, location, ` (${url} answered with an HTML page, the server's app fallback, not the file)`);
  return {
    location,
    async readText(name) {
      const url = urlOf(name);
      const { res, guard } = await request(url, 'GET');
      try {
        if (!res.ok) {
          await res.body?.cancel().catch(() => undefined);
          throw httpError(url, res, 'Downloading', () => fileNotFound(name, location, ` (${url}: ${statusText(res)})`));
        }
        if (isHtmlAnswer(res, name)) {
          await res.body?.cancel().catch(() => undefined);
          throw htmlMissing(name, url);
        }
        const body = await readBodyCapped(res, guard, url, stallMs, MAX_JSON_BYTES, options.minRateBytesPerS);
        if (!body) {
          const declared = Number(res.headers.get('content-length'));
          throw jsonTooLarge(url, Number.isFinite(declared) && declared > MAX_JSON_BYTES ? declared : null);
        }
        if (looksLikeHtml(body) && !/\.html?$/i.test(name)) throw htmlMissing(name, url);
        return new TextDecoder().decode(body);
      } finally {
        guard.done();
      }
    },
    open(name) {
      const url = urlOf(name);
      return makeUrlSource(url, fetchFn, options, (res) =>
        fileNotFound(name, location, ` (${url}: ${statusText(res)})`),
      );
    },
    async exists(name) {
      const url = urlOf(name);
      let { res, guard } = await request(url, 'HEAD');
      guard.done();
      if (res.status === 405 || res.status === 501) {
        ({ res, guard } = await request(url, 'GET', { Range: 'bytes=0-0' }));
        guard.done();
        await res.body?.cancel().catch(() => undefined);
      }
      if (res.ok) return !isHtmlAnswer(res, name);
      if (res.status === 404 || res.status === 410) return false;
      throw httpError(url, res, 'Checking', undefined);
    },
  };
}

type FileWithPath = File & { webkitRelativePath?: string };

/**
 * A folder the user dropped or picked in the browser. With a `File[]` from
 * `<input webkitdirectory>` the files are keyed by `webkitRelativePath` minus the common top folder
 * (so `stories260K/config.json` becomes `config.json`), else by `File.name`. A Map is used as given
 * (keys are the relative names).
 */
export function fileListFolder(files: readonly File[] | ReadonlyMap<string, File>): ModelFolder {
  const byName = new Map<string, File>();
  let location = 'dropped files';
  if (files instanceof Map) {
    for (const [k, f] of files) byName.set(k, f);
  } else {
    const list = files as readonly FileWithPath[];
    const rel = list.map((f) => (f.webkitRelativePath ? f.webkitRelativePath : f.name));
    const tops = new Set(rel.map((r) => (r.includes('/') ? r.slice(0, r.indexOf('/')) : '')));
    const [top] = tops;
    const strip = tops.size === 1 && top !== '' && top !== undefined;
    if (strip) location = `dropped folder '${top}'`;
    list.forEach((f, i) => byName.set(strip ? rel[i].slice(top.length + 1) : rel[i], f));
  }
  const get = (name: string): File => {
    const f = byName.get(name);
    if (!f) {
      const have = [...byName.keys()].slice(0, 12).join(', ');
      throw fileNotFound(name, location, ` It contains: ${have || '(nothing)'}${byName.size > 12 ? ', ...' : ''}.`);
    }
    return f;
  };
  return {
    location,
    readText: (name) =>
      Promise.resolve().then(() => {
        const f = get(name);
        if (f.size > MAX_JSON_BYTES) throw jsonTooLarge(`'${name}' in ${location}`, f.size);
        return f.text();
      }),
    open(name) {
      let src: ByteSource | null = null;
      const lazy = (): ByteSource => (src ??= blobSource(get(name), name));
      return {
        name,
        size: () => Promise.resolve().then(() => lazy().size()),
        read: (offset, length) => Promise.resolve().then(() => lazy().read(offset, length)),
      };
    },
    exists: (name) => Promise.resolve(byName.has(name)),
  };
}
