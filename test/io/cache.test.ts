/** cachingFetch: ranged GETs answered from the weight cache the second time; a full cache never fails a read. */
import { describe, it, expect } from 'vitest';
import { cachingFetch, type WeightCache } from '../../src/io/cache';
import { urlSource } from '../../src/io/source';

function memoryCache(limitBytes = Infinity): WeightCache & { store: Map<string, { bytes: Uint8Array<ArrayBuffer>; contentRange: string }> } {
  const store = new Map<string, { bytes: Uint8Array<ArrayBuffer>; contentRange: string }>();
  let used = 0;
  return {
    store,
    get: async (k) => {
      const e = store.get(k);
      return e && { bytes: e.bytes.slice(), contentRange: e.contentRange };
    },
    put: async (k, bytes, contentRange) => {
      if (used + bytes.byteLength > limitBytes) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
      used += bytes.byteLength;
      store.set(k, { bytes: bytes.slice(), contentRange });
    },
    info: async () => ({ entries: store.size, bytes: used }),
    clear: async () => {
      store.clear();
      used = 0;
    },
  };
}

/** A fake server over `data`: HEAD with Content-Length, ranged GETs with 206. Counts requests. */
function fakeServer(data: Uint8Array<ArrayBuffer>) {
  const calls: string[] = [];
  const fetchFn = async (url: string, init?: RequestInit): Promise<Response> => {
    const range = new Headers(init?.headers).get('Range');
    calls.push(`${init?.method ?? 'GET'} ${range ?? ''}`);
    if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'Content-Length': String(data.byteLength) } });
    const m = /bytes=(\d+)-(\d+)/.exec(range ?? '')!;
    const a = Number(m[1]);
    const b = Number(m[2]);
    return new Response(data.slice(a, b + 1), { status: 206, headers: { 'Content-Range': `bytes ${a}-${b}/${data.byteLength}` } });
  };
  return { fetchFn, calls };
}

const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 255);

describe('cachingFetch', () => {
  it('the second read of the same range comes from the cache, byte for byte', async () => {
    const cache = memoryCache();
    const { fetchFn, calls } = fakeServer(data);
    const f = cachingFetch(fetchFn, cache, () => {
      throw new Error('not full');
    });
    const a = await urlSource('http://x/model.safetensors', f).read(100, 50);
    const gets = calls.filter((c) => c.startsWith('GET')).length;
    const b = await urlSource('http://x/model.safetensors', f).read(100, 50);
    expect(Array.from(b)).toEqual(Array.from(data.slice(100, 150)));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(calls.filter((c) => c.startsWith('GET')).length).toBe(gets);
    expect((await cache.info()).entries).toBe(1);
    await cache.clear();
    await urlSource('http://x/model.safetensors', f).read(100, 50);
    expect(calls.filter((c) => c.startsWith('GET')).length).toBe(gets + 1);
  });

  it('a range read from or into the cache is held once: the reader gets the bytes the cache handed over, not a copy', async () => {
    const cache = memoryCache();
    const handed: Uint8Array[] = [];
    const get = cache.get;
    cache.get = async (k) => {
      const hit = await get(k);
      if (hit) handed.push(hit.bytes);
      return hit;
    };
    const put = cache.put;
    cache.put = async (k, bytes, range) => {
      handed.push(bytes);
      await put(k, bytes, range);
    };
    const { fetchFn } = fakeServer(data);
    const f = cachingFetch(fetchFn, cache, () => undefined);
    const miss = await urlSource('http://x/model.safetensors', f).read(200, 300);
    const hit = await urlSource('http://x/model.safetensors', f).read(200, 300);
    expect(handed).toHaveLength(2);
    expect(miss.buffer).toBe(handed[0].buffer);
    expect(hit.buffer).toBe(handed[1].buffer);
    expect(Array.from(hit)).toEqual(Array.from(data.slice(200, 500)));
  });

  it('a full cache reports once per refusal and the read still succeeds', async () => {
    const cache = memoryCache(60);
    const { fetchFn } = fakeServer(data);
    let full = 0;
    const f = cachingFetch(fetchFn, cache, () => full++);
    const src = urlSource('http://x/model.safetensors', f);
    expect(Array.from(await src.read(0, 50))).toEqual(Array.from(data.slice(0, 50)));
    expect(Array.from(await src.read(500, 50))).toEqual(Array.from(data.slice(500, 550)));
    expect(full).toBe(1);
    expect((await cache.info()).entries).toBe(1);
  });

  it('a compressed 206 is neither cached nor re-wrapped, and a stored entry of the wrong length is a miss', async () => {
    // What Chromium hands out when its HTTP cache holds a gzipped copy: the range of the encoded
    // bytes (total 92667 for a 260104-byte tokenizer.json) with Content-Encoding, an empty body.
    const calls: string[] = [];
    const gzipCache = async (_url: string, init?: RequestInit): Promise<Response> => {
      const range = new Headers(init?.headers).get('Range');
      calls.push(`${init?.method ?? 'GET'} ${range ?? ''}`);
      if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { 'Content-Encoding': 'gzip' } });
      if (range) return new Response(new Uint8Array(0), { status: 206, headers: { 'Content-Encoding': 'gzip', 'Content-Range': 'bytes 0-0/92667' } });
      return new Response(data, { status: 200 });
    };
    const cache = memoryCache();
    const f = cachingFetch(gzipCache, cache, () => undefined);
    const src = urlSource('http://x/tokenizer.json', f);
    expect(await src.size()).toBe(data.byteLength);
    expect(Array.from(await src.read(0, data.byteLength))).toEqual(Array.from(data));
    expect(cache.store.size).toBe(0);
    expect(calls).toEqual(['HEAD ', 'GET bytes=0-0', 'GET ']);

    await cache.put('http://x/model.safetensors?polyprune-range=0-49', new Uint8Array(0), 'bytes 0-0/92667');
    const { fetchFn } = fakeServer(data);
    const g = cachingFetch(fetchFn, cache, () => undefined);
    expect(Array.from(await urlSource('http://x/model.safetensors', g).read(0, 50))).toEqual(Array.from(data.slice(0, 50)));
    expect(cache.store.get('http://x/model.safetensors?polyprune-range=0-49')?.bytes.byteLength).toBe(50);
  });
});
