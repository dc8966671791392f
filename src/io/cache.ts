/**
 * A browser cache of downloaded weights (Cache API), so that loading the same model again reads no
 * weights from the network. Reads from checkpoints are byte ranges of fixed tensors, so every ranged GET
 * is cached under its URL plus the range (`?polyprune-range=a-b`, a synthetic key: the Cache API does
 * not store 206 answers) and answered from the cache next time. A full cache (QuotaExceededError) never
 * fails a load: the data is used uncached and `onFull` is told once per load.
 */
import { PolyPruneError } from '../common/errors';
import type { FetchFn } from './source';

export interface WeightCacheInfo {
  entries: number;
  bytes: number;
}

export interface WeightCache {
  /** A stored range in a buffer of its own: the reader keeps it (the cache must not hand out what it stores). */
  get(key: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; contentRange: string } | undefined>;
  /** Stores a copy of `bytes` (the reader keeps `bytes` itself). */
  put(key: string, bytes: Uint8Array<ArrayBuffer>, contentRange: string): Promise<void>;
  info(): Promise<WeightCacheInfo>;
  clear(): Promise<void>;
  /**
   * Bytes of cached ranges of files under `urlPrefix` (a folder URL ending in '/'): what a load of that
   * folder would read from the cache instead of the network (the page's load plan says so beforehand).
   */
  cachedBytesUnder?(urlPrefix: string): Promise<number>;
}

export const WEIGHT_CACHE_NAME = 'polyprune-weights';

/** The Cache API store, or null where there is none (Node, insecure contexts). */
export function cacheApiWeightCache(name = WEIGHT_CACHE_NAME): WeightCache | null {
  const cs = (globalThis as { caches?: CacheStorage }).caches;
  if (!cs) return null;
  return {
    async get(key) {
      const res = await (await cs.open(name)).match(key);
      if (!res) return undefined;
      return { bytes: new Uint8Array(await res.arrayBuffer()), contentRange: res.headers.get('x-polyprune-content-range') ?? '' };
    },
    async put(key, bytes, contentRange) {
      const res = new Response(bytes, { status: 200, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength), 'x-polyprune-content-range': contentRange } });
      await (await cs.open(name)).put(key, res);
    },
    async info() {
      const c = await cs.open(name);
      let bytes = 0;
      const keys = await c.keys();
      for (const k of keys) {
        const r = await c.match(k);
        bytes += Number(r?.headers.get('Content-Length') ?? 0);
      }
      return { entries: keys.length, bytes };
    },
    async clear() {
      await cs.delete(name);
    },
    async cachedBytesUnder(urlPrefix) {
      const c = await cs.open(name);
      let bytes = 0;
      for (const k of await c.keys()) {
        if (!k.url.startsWith(urlPrefix) || !/[?&]polyprune-range=/.test(k.url)) continue;
        bytes += Number((await c.match(k))?.headers.get('Content-Length') ?? 0);
      }
      return bytes;
    },
  };
}

function isQuotaError(e: unknown): boolean {
  return (e as { name?: string })?.name === 'QuotaExceededError';
}

/**
 * True when `bytes` are what a 206 for bytes `start`-`end` must carry: a Content-Range that starts at
 * `start` and states exactly as many bytes as arrived (the end of the file may cut the range short).
 */
function wellFormedRange(contentRange: string, start: number, end: number, bytes: number): boolean {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(contentRange);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === start && b <= end && b - a + 1 === bytes;
}

/**
 * A 206 answer whose body is `bytes` themselves, one chunk, not a copy (`new Response(bytes)` copies
 * them): urlSource keeps a body that arrives as one whole chunk, so a range read from or into the
 * cache is held once in the page, not twice.
 */
function bytesResponse(bytes: Uint8Array<ArrayBuffer>, contentRange: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.byteLength) c.enqueue(bytes);
      c.close();
    },
  });
  return new Response(body, { status: 206, headers: { 'Content-Range': contentRange, 'Content-Length': String(bytes.byteLength) } });
}

/**
 * `fetchFn` with ranged GETs served from and stored in `cache`. Other requests (HEAD, whole files)
 * pass through, and so do answers that cannot be trusted as the file's bytes: a compressed 206
 * (Content-Encoding: its offsets are not the file's) or one whose length does not match its
 * Content-Range; urlSource decides what to do with those. A stored entry of the wrong length is a
 * miss. `onFull` is called when the cache refuses an entry for lack of space.
 */
export function cachingFetch(fetchFn: FetchFn, cache: WeightCache, onFull: (e: unknown) => void): FetchFn {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const range = headers.get('Range');
    const m = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if ((init?.method ?? 'GET') !== 'GET' || !m) return fetchFn(input, init);
    const key = `${input}${input.includes('?') ? '&' : '?'}polyprune-range=${m[1]}-${m[2]}`;
    try {
      const hit = await cache.get(key);
      if (hit && wellFormedRange(hit.contentRange, Number(m[1]), Number(m[2]), hit.bytes.byteLength)) return bytesResponse(hit.bytes, hit.contentRange);
    } catch {
      /* an unreadable cache is a cache miss */
    }
    const res = await fetchFn(input, init);
    const encoding = res.headers.get('Content-Encoding');
    if (res.status !== 206 || (encoding && encoding.trim().toLowerCase() !== 'identity')) return res;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const contentRange = res.headers.get('Content-Range') ?? '';
    if (!wellFormedRange(contentRange, Number(m[1]), Number(m[2]), bytes.byteLength)) {
      return bytesResponse(bytes, contentRange);
    }
    try {
      await cache.put(key, bytes, contentRange);
    } catch (e) {
      if (isQuotaError(e)) onFull(e);
    }
    return bytesResponse(bytes, contentRange);
  };
}

/**
 * Hub dataset data (src/io/datasets/cache.ts) in the same Cache API store as the weights, so the
 * page shows and clears all downloads in one place. Keys become synthetic URLs under
 * `https://polyprune.invalid/datasets/`. A full store throws STORAGE_FULL.
 */
export function cacheApiDatasetCache(name = WEIGHT_CACHE_NAME): { get(key: string): Promise<Uint8Array | undefined>; put(key: string, bytes: Uint8Array): Promise<void> } | null {
  const cs = (globalThis as { caches?: CacheStorage }).caches;
  if (!cs) return null;
  const url = (key: string) => `https://polyprune.invalid/datasets/${encodeURIComponent(key)}`;
  return {
    async get(key) {
      const res = await (await cs.open(name)).match(url(key));
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      const res = new Response(bytes.slice(), { status: 200, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength) } });
      try {
        await (await cs.open(name)).put(url(key), res);
      } catch (e) {
        if (isQuotaError(e)) throw new PolyPruneError('STORAGE_FULL', "the browser's storage quota is used up");
        throw e;
      }
    },
  };
}
