import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirFolder, pathSource } from '../../src/io/node';
import { blobSource, fileListFolder, urlFolder, urlSource } from '../../src/io/source';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { sharedPath, STORIES_DIR_REL } from '../helpers/shared';
import { rejection } from '../helpers/errors';

const STORIES = sharedPath(STORIES_DIR_REL);
const MODEL = join(STORIES, 'model.safetensors');
const MODEL_BYTES = new Uint8Array(readFileSync(MODEL));

/** A port nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

describe('blobSource', () => {
  it('reads ranges of a Blob', async () => {
    const src = blobSource(new Blob([MODEL_BYTES]), 'model.safetensors');
    expect(await src.size()).toBe(MODEL_BYTES.length);
    expect(Array.from(await src.read(1000, 37))).toEqual(Array.from(MODEL_BYTES.subarray(1000, 1037)));
    expect(await src.read(5, 0)).toHaveLength(0);
    const e = await rejection(src.read(MODEL_BYTES.length - 4, 8));
    expect(e.code).toBe('BAD_ARGUMENT');
    expect(e.message).toContain(`only ${MODEL_BYTES.length} bytes`);
  });
});

describe('pathSource and dirFolder', () => {
  it('reads at offsets without reading the whole file', async () => {
    const src = pathSource(MODEL);
    try {
      expect(await src.size()).toBe(statSync(MODEL).size);
      const got = await src.read(123457, 4096);
      expect(Array.from(got)).toEqual(Array.from(MODEL_BYTES.subarray(123457, 123457 + 4096)));
      const e = await rejection(src.read(MODEL_BYTES.length - 2, 4));
      expect(e.message).toContain(`the file ends at byte ${MODEL_BYTES.length}`);
    } finally {
      await src.close?.();
    }
  });

  it('a missing path is FILE_NOT_FOUND naming it', async () => {
    const src = pathSource(join(STORIES, 'nope.safetensors'));
    const e = await rejection(src.size());
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('nope.safetensors');
  });

  it('dirFolder reads text, tests existence, reports missing files with the location', async () => {
    const folder = dirFolder(STORIES);
    expect(folder.location).toBe(STORIES);
    expect(JSON.parse(await folder.readText('config.json')).model_type).toBe('llama');
    expect(await folder.exists('config.json')).toBe(true);
    expect(await folder.exists('model.safetensors.index.json')).toBe(false);
    const e = await rejection(folder.readText('generation_config.json'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toBe(`File 'generation_config.json' not found in ${STORIES}.`);
    const src = folder.open('missing.safetensors');
    const e2 = await rejection(src.read(0, 8));
    expect(e2.code).toBe('FILE_NOT_FOUND');
    expect(e2.message).toContain(`'missing.safetensors' not found in ${STORIES}`);
    expect(() => folder.open('../x')).toThrow(/Invalid file name/);
  });
});

describe('fileListFolder', () => {
  const file = (name: string, rel?: string): File => {
    const f = new File([readFileSync(join(STORIES, name))], name);
    if (rel) Object.defineProperty(f, 'webkitRelativePath', { value: rel });
    return f;
  };

  it('keys files of a dropped folder by their path inside it', async () => {
    const folder = fileListFolder([
      file('config.json', 'stories260K/config.json'),
      file('model.safetensors', 'stories260K/model.safetensors'),
    ]);
    expect(folder.location).toBe("dropped folder 'stories260K'");
    expect(await folder.exists('config.json')).toBe(true);
    expect(JSON.parse(await folder.readText('config.json')).hidden_size).toBe(64);
    const src = folder.open('model.safetensors');
    expect(await src.size()).toBe(MODEL_BYTES.length);
    expect(Array.from(await src.read(8, 16))).toEqual(Array.from(MODEL_BYTES.subarray(8, 24)));
    const e = await rejection(folder.readText('tokenizer.json'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain("File 'tokenizer.json' not found in dropped folder 'stories260K'");
    expect(e.message).toContain('config.json, model.safetensors');
    const e2 = await rejection(folder.open('nope.bin').size());
    expect(e2.code).toBe('FILE_NOT_FOUND');
  });

  it('plain File[] by name, and Map keys as given', async () => {
    const a = fileListFolder([file('config.json')]);
    expect(await a.exists('config.json')).toBe(true);
    const b = fileListFolder(new Map([['sub/config.json', file('config.json')]]));
    expect(await b.exists('sub/config.json')).toBe(true);
    expect(await b.exists('config.json')).toBe(false);
  });
});

describe('urlSource and urlFolder over HTTP', () => {
  let server: StaticServer;
  beforeAll(async () => {
    server = await startStaticServer({ '/m/': STORIES });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads with Range requests; size from HEAD', async () => {
    const url = `${server.url}/m/model.safetensors`;
    const src = urlSource(url);
    const before = server.requests.length;
    expect(await src.size()).toBe(MODEL_BYTES.length);
    expect(Array.from(await src.read(200000, 1234))).toEqual(Array.from(MODEL_BYTES.subarray(200000, 201234)));
    const reqs = server.requests.slice(before);
    expect(reqs.map((r) => [r.method, r.range])).toEqual([
      ['HEAD', undefined],
      ['GET', 'bytes=200000-201233'],
    ]);
  });

  it('size from Content-Range when HEAD is not allowed', async () => {
    const s2 = await startStaticServer({ '/m/': STORIES }, { noHead: true });
    try {
      const src = urlSource(`${s2.url}/m/model.safetensors`);
      expect(await src.size()).toBe(MODEL_BYTES.length);
      expect(s2.requests.map((r) => [r.method, r.range])).toEqual([
        ['HEAD', undefined],
        ['GET', 'bytes=0-0'],
      ]);
    } finally {
      await s2.close();
    }
  });

  it('HTTP 404 is FETCH_FAILED naming the URL and status', async () => {
    const url = `${server.url}/m/absent.safetensors`;
    const e = await rejection(urlSource(url).size());
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.message).toContain(url);
    expect(e.message).toContain('HTTP 404');
    const e2 = await rejection(urlSource(url).read(0, 10));
    expect(e2.code).toBe('FETCH_FAILED');
    expect(e2.message).toContain('HTTP 404');
  });

  it('an unreachable server is FETCH_FAILED naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/model.safetensors`;
    const e = await rejection(urlSource(url).read(0, 8));
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.message).toContain(`Could not reach ${url}`);
    const e2 = await rejection(urlFolder(`http://127.0.0.1:${await closedPort()}/x`).readText('config.json'));
    expect(e2.code).toBe('FETCH_FAILED');
  });

  it('a server that ignores Range: small files are fetched once and sliced, large ones fail', async () => {
    const s2 = await startStaticServer({ '/m/': STORIES }, { ignoreRange: true });
    try {
      const src = urlSource(`${s2.url}/m/model.safetensors`);
      expect(Array.from(await src.read(100, 10))).toEqual(Array.from(MODEL_BYTES.subarray(100, 110)));
      expect(Array.from(await src.read(5000, 10))).toEqual(Array.from(MODEL_BYTES.subarray(5000, 5010)));
      expect(s2.requests.filter((r) => r.method === 'GET')).toHaveLength(1);

      const small = urlSource(`${s2.url}/m/model.safetensors`, undefined, { maxUnrangedBytes: 100_000 });
      const e = await rejection(small.read(0, 8));
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toContain('ignored the HTTP Range request');
      expect(e.message).toContain('200');
    } finally {
      await s2.close();
    }
  });

  it('a server that gzips every answer, ranged too: small files are read whole, large ones fail naming the compression', async () => {
    const s2 = await startStaticServer({ '/m/': STORIES }, { gzipAll: true });
    try {
      // The tokenizer (small): one ranged GET, seen compressed, then one plain GET of the whole file.
      const tok = readFileSync(join(STORIES, 'tokenizer.json'));
      const folder = urlFolder(`${s2.url}/m`);
      const src = folder.open('tokenizer.json');
      expect(await src.size()).toBe(tok.length);
      expect(Buffer.from(await src.read(0, tok.length)).equals(tok)).toBe(true);
      expect(Array.from(await src.read(100, 7))).toEqual(Array.from(tok.subarray(100, 107)));
      expect(JSON.parse(await folder.readText('config.json')).num_hidden_layers).toBe(5);
      // The weights under a cap below their size: one line that names the behaviour and the fix.
      const big = urlSource(`${s2.url}/m/model.safetensors`, undefined, { maxUnrangedBytes: 100_000 });
      const e = await rejection(big.read(0, 8));
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toContain('compressed its answer to an HTTP Range request (Content-Encoding: gzip)');
      expect(e.message).toContain('without compression');
      expect(e.message.split('\n')).toHaveLength(1);
      // Under the default cap the stories260K weights are read whole, byte for byte.
      const all = urlSource(`${s2.url}/m/model.safetensors`);
      expect(Buffer.from(await all.read(0, await all.size())).equals(Buffer.from(MODEL_BYTES))).toBe(true);
    } finally {
      await s2.close();
    }
  });

  it('a server that sends more than the range asked for: small files are read whole', async () => {
    // A 206 whose body is the whole file (what a browser cache holding a compressed copy hands out).
    const tok = readFileSync(join(STORIES, 'tokenizer.json'));
    const liar = (input: string, init?: RequestInit): Promise<Response> => {
      const range = (init?.headers as Record<string, string> | undefined)?.Range;
      if (init?.method === 'HEAD') return Promise.resolve(new Response(null, { status: 200, headers: { 'Content-Length': String(tok.length) } }));
      if (range) return Promise.resolve(new Response(new Uint8Array(tok), { status: 206, headers: { 'Content-Range': `bytes 0-99/${tok.length}` } }));
      return Promise.resolve(new Response(new Uint8Array(tok), { status: 200 }));
    };
    const src = urlSource('http://example.invalid/tokenizer.json', liar);
    expect(Array.from(await src.read(0, 100))).toEqual(Array.from(tok.subarray(0, 100)));
    const big = urlSource('http://example.invalid/tokenizer.json', liar, { maxUnrangedBytes: 1000 });
    const e = await rejection(big.read(0, 100));
    expect(e.message).toContain('sent more than the 100 bytes asked for');
  });

  it('a browser that refuses the compressed range answers (no answer to a ranged GET): small files read whole, large ones fail with the hint', async () => {
    const tok = readFileSync(join(STORIES, 'tokenizer.json'));
    const browserLike = (gzipHead: boolean) => (_input: string, init?: RequestInit): Promise<Response> => {
      if ((init?.headers as Record<string, string> | undefined)?.Range) return Promise.reject(new TypeError('Failed to fetch'));
      if (init?.method === 'HEAD') return Promise.resolve(new Response(null, { status: 200, headers: gzipHead ? { 'Content-Encoding': 'gzip' } : { 'Content-Length': String(tok.length) } }));
      return Promise.resolve(new Response(new Uint8Array(tok), { status: 200 }));
    };
    const src = urlSource('http://example.invalid/tokenizer.json', browserLike(true));
    expect(await src.size()).toBe(tok.length);
    expect(Array.from(await src.read(10, 20))).toEqual(Array.from(tok.subarray(10, 30)));
    const big = urlSource('http://example.invalid/tokenizer.json', browserLike(false), { maxUnrangedBytes: 1000 });
    expect(await big.size()).toBe(tok.length);
    const e = await rejection(big.read(0, 100));
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.message).toContain('although the server answered its HEAD request');
    expect(e.message).toContain('without compression');
  });

  it('urlFolder: text, existence, FILE_NOT_FOUND for missing files', async () => {
    const folder = urlFolder(`${server.url}/m/`);
    expect(folder.location).toBe(`${server.url}/m`);
    expect(JSON.parse(await folder.readText('config.json')).num_hidden_layers).toBe(5);
    expect(await folder.exists('tokenizer.json')).toBe(true);
    expect(await folder.exists('model.safetensors.index.json')).toBe(false);
    const e = await rejection(folder.readText('generation_config.json'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain(`File 'generation_config.json' not found in ${server.url}/m`);
    expect(e.message).toContain('HTTP 404');
    const e2 = await rejection(folder.open('pytorch_model.bin').size());
    expect(e2.code).toBe('FILE_NOT_FOUND');
    expect(e2.message).toContain("'pytorch_model.bin'");
  });

  it('passes custom headers and keeps a query string on the base URL', async () => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const spy = (input: string, init?: RequestInit) => {
      seen.push({ url: input, headers: { ...(init?.headers as Record<string, string>) } });
      return fetch(input, init);
    };
    const folder = urlFolder(`${server.url}/m?download=1`, spy, { headers: { Authorization: 'Bearer t' } });
    await folder.open('model.safetensors').read(0, 8);
    expect(seen[0].url).toBe(`${server.url}/m/model.safetensors?download=1`);
    expect(seen[0].headers).toEqual({ Authorization: 'Bearer t', Range: 'bytes=0-7' });
  });
});
