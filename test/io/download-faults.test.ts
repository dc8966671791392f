/**
 * Downloads that go wrong the way real servers do: an app fallback that answers missing files with
 * index.html (200, text/html), a server that stalls mid-body, one that closes the connection mid-body.
 * Servers bind 127.0.0.1; stall timeouts are short so every case ends within seconds.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlFolder, urlSource } from '../../src/io/source';
import { openCheckpoint } from '../../src/io/safetensors';
import { loadModelConfig } from '../../src/io/config';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { startFaultyServer } from '../helpers/faultyServer';
import { sharedPath, STORIES_DIR_REL } from '../helpers/shared';
import { rejection } from '../helpers/errors';

const STORIES = sharedPath(STORIES_DIR_REL);
const MODEL_BYTES = new Uint8Array(readFileSync(join(STORIES, 'model.safetensors')));

describe('a static host with an app fallback (vite preview, SPA hosts)', () => {
  let server: StaticServer;
  beforeAll(async () => {
    const app = mkdtempSync(join(tmpdir(), 'polyprune-fallback-'));
    writeFileSync(join(app, 'index.html'), '<!doctype html>\n<html><head><title>PolyPrune</title></head><body><div id="root"></div></body></html>\n');
    server = await startStaticServer({ '/m/': STORIES }, { fallback: join(app, 'index.html') });
  });
  afterAll(() => server.close());

  it('the fallback really answers a missing file with 200 text/html (the trap)', async () => {
    const res = await fetch(`${server.url}/m/model.safetensors.index.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    await res.body?.cancel();
  });

  it('exists() does not take the HTML page for the file, so the single-file checkpoint loads', async () => {
    const folder = urlFolder(`${server.url}/m/`);
    expect(await folder.exists('model.safetensors.index.json')).toBe(false);
    expect(await folder.exists('model.safetensors')).toBe(true);
    const cfg = await loadModelConfig(folder);
    expect(cfg.numLayers).toBe(5);
    const ckpt = await openCheckpoint(folder);
    expect(ckpt.files).toEqual([`${server.url}/m/model.safetensors`]);
    await ckpt.close();
  });

  it('readText of a missing JSON file is FILE_NOT_FOUND naming the HTML answer, not a JSON parse error', async () => {
    const e = await rejection(urlFolder(`${server.url}/m/`).readText('tokenizer_missing.json'));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain("'tokenizer_missing.json'");
    expect(e.message).toContain('HTML page');
  });

  it('a missing safetensors file behind a fallback is FILE_NOT_FOUND, never parsed', async () => {
    const e = await rejection(urlSource(`${server.url}/m/nothing.safetensors`).size());
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('HTML page');
    const folder = urlFolder(`${server.url}/nothing-here/`);
    const e2 = await rejection(openCheckpoint(folder));
    expect(e2.code).toBe('FILE_NOT_FOUND');
  });
});

describe('a server that stalls mid-body', () => {
  it('fails after the stall timeout naming the URL and the bytes received', async () => {
    const server = await startFaultyServer(STORIES, { mode: 'stall', faulty: ['model.safetensors'], after: 1000 });
    try {
      const src = urlSource(`${server.url}/model.safetensors`, undefined, { stallTimeoutMs: 2000 });
      const t0 = Date.now();
      const e = await rejection(src.read(0, 100_000));
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toContain(`${server.url}/model.safetensors`);
      expect(e.message).toContain('stalled');
      expect(e.message).toContain('after 1000 of 100000 bytes');
      expect(e.message.split('\n')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('a folder whose config.json stalls fails the same way', async () => {
    const server = await startFaultyServer(STORIES, { mode: 'stall', faulty: ['config.json'], after: 10 });
    try {
      const e = await rejection(loadModelConfig(urlFolder(`${server.url}/`, undefined, { stallTimeoutMs: 2000 })));
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toMatch(/config\.json stalled: no data for 2 s after 10 of \d+ bytes/);
    } finally {
      await server.close();
    }
  });
});

describe('a server that closes the connection mid-body', () => {
  it('resumes with a Range request and returns the right bytes', async () => {
    const server = await startFaultyServer(STORIES, { mode: 'close', faulty: ['model.safetensors'], after: 5000, times: 2 });
    try {
      const src = urlSource(`${server.url}/model.safetensors`, undefined, { stallTimeoutMs: 5000 });
      const got = await src.read(100, 200_000);
      expect(server.faults).toBe(2);
      expect(Buffer.from(got).equals(Buffer.from(MODEL_BYTES.subarray(100, 200_100)))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('gives up after a few tries with the file and the bytes received', async () => {
    const server = await startFaultyServer(STORIES, { mode: 'close', faulty: ['model.safetensors'], after: 5000 });
    try {
      const src = urlSource(`${server.url}/model.safetensors`, undefined, { stallTimeoutMs: 5000, retries: 2 });
      const e = await rejection(src.read(0, 200_000));
      expect(e.code).toBe('FETCH_FAILED');
      expect(e.message).toContain(`${server.url}/model.safetensors`);
      expect(e.message).toContain('broke off 3 times');
      expect(e.message).toContain('received 15000 of 200000 bytes');
    } finally {
      await server.close();
    }
  });
});
