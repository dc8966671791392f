/**
 * Hugging Face Hub ids: parsing, file URLs, and loading through a local imitation of the Hub
 * (test/helpers/fakeHub.ts: resolve URLs, CDN redirect, Range, and the Hub's 401/403/404 answers).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseHubId, isHubId, hubFileUrl, hubFolder } from '../../src/io/hub';
import { LocalEngine } from '../../src/engine/engine';
import { nodeGpu } from '../../src/gpu/node';
import { PolyPruneError } from '../../src/common/errors';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { tempDir } from '../helpers/shared';
import { startFakeHub, type FakeHub } from '../helpers/fakeHub';
import { runCliAsync } from '../helpers/cli';
import { rejection as errorOf } from '../helpers/errors';

let hub: FakeHub;
let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  requireShared(FIXTURE);
  tmp = await tempDir('polyprune-hub-');
  const noConfig = path.join(tmp.dir, 'noconfig');
  mkdirSync(noConfig);
  writeFileSync(path.join(noConfig, 'README.md'), 'a dataset card');
  const copy = path.join(tmp.dir, 'stories');
  mkdirSync(copy);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(FIXTURE, f), path.join(copy, f));
  hub = await startFakeHub({
    'polyprune/stories260K': { dir: copy, revisions: ['main', 'v1.0', 'refs/pr/1'] },
    'polyprune/gated': { dir: copy, token: 'hf_good' },
    'polyprune/dataset': { dir: noConfig },
  });
});
afterAll(async () => {
  await hub?.close();
  await tmp?.remove();
});

describe('Hub ids', () => {
  it('parse org/name, @revision, hf: and huggingface.co URLs; reject others', () => {
    expect(parseHubId('CohereForAI/aya-23-8B')).toEqual({ repo: 'CohereForAI/aya-23-8B', revision: 'main' });
    expect(parseHubId('meta-llama/Meta-Llama-3-8B@v1.0')).toEqual({ repo: 'meta-llama/Meta-Llama-3-8B', revision: 'v1.0' });
    expect(parseHubId('hf:org/name@refs/pr/1')).toEqual({ repo: 'org/name', revision: 'refs/pr/1' });
    expect(parseHubId('https://huggingface.co/org/name')).toEqual({ repo: 'org/name', revision: 'main' });
    for (const bad of ['name', 'a/b/c', '../x/y', 'org/na me', '/abs/path', 'http://example.com/a/b']) {
      expect(isHubId(bad), bad).toBe(false);
      expect(() => parseHubId(bad)).toThrow(/is not a Hugging Face model id. Expected org\/name/);
    }
  });

  it('resolve to <endpoint>/<repo>/resolve/<revision>/<file>, the revision URL-encoded', () => {
    expect(hubFileUrl(parseHubId('CohereForAI/aya-23-8B'), 'model-00001-of-00004.safetensors')).toBe('https://huggingface.co/CohereForAI/aya-23-8B/resolve/main/model-00001-of-00004.safetensors');
    expect(hubFileUrl(parseHubId('org/name@refs/pr/1'), 'config.json', 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/org/name/resolve/refs%2Fpr%2F1/config.json');
  });
});

describe('loading from the (imitated) Hub', () => {
  it('a public model at a revision loads through the CDN redirect with Range requests, and scores like the local copy', async () => {
    const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true });
    try {
      const a = await engine.loadModel({ kind: 'hub', id: 'polyprune/stories260K@v1.0', endpoint: hub.url });
      expect(a.source).toBe('polyprune/stories260K@v1.0 (Hugging Face Hub)');
      expect(a.numLayers).toBe(5);
      const ids = Int32Array.from([1, 20, 30, 40, 50, 60]);
      const local = await engine.loadModel({ kind: 'folder', folder: (await import('../../src/io/node')).dirFolder(FIXTURE) });
      expect(await engine.logits(a.id, ids)).toEqual(await engine.logits(local.id, ids));
      const ranged = hub.requests.filter((r) => r.path.startsWith('/cdn/') && r.path.endsWith('model.safetensors') && r.method === 'GET');
      expect(ranged.length).toBeGreaterThan(0);
      expect(ranged.every((r) => r.range?.startsWith('bytes='))).toBe(true);
      expect(hub.requests.some((r) => r.path === '/polyprune/stories260K/resolve/v1.0/config.json')).toBe(true);
    } finally {
      await engine.dispose();
    }
  });

  it('a gated model loads with its token, which is sent to the Hub', async () => {
    const folder = await hubFolder('polyprune/gated', { endpoint: hub.url, token: 'hf_good' });
    expect(JSON.parse(await folder.readText('config.json')).model_type).toBe('llama');
    expect(hub.requests.filter((r) => r.path.startsWith('/polyprune/gated/')).every((r) => r.auth === 'Bearer hf_good')).toBe(true);
  });

  it('missing, gated, private, revision and non-model repositories each get a message that says what to do', async () => {
    const cases: Array<[string, string | undefined, string, RegExp]> = [
      ['polyprune/nope', undefined, 'FILE_NOT_FOUND', /There is no Hugging Face model polyprune\/nope \(or it is private\)\. Check the spelling on .*\/models, or paste an access token into the page's "Hugging Face access token" field \(for the CLI: set the HF_TOKEN environment variable\) if it is private\./],
      ['polyprune/nope', 'hf_good', 'FILE_NOT_FOUND', /There is no Hugging Face model polyprune\/nope\. Check the spelling/],
      ['polyprune/gated', undefined, 'FETCH_FAILED', /polyprune\/gated is gated or private \(HTTP 401\)\. Accept its licence on .*\/polyprune\/gated and paste an access token into the page's "Hugging Face access token" field \(for the CLI: set the HF_TOKEN environment variable\)\./],
      ['polyprune/gated', 'hf_other', 'FETCH_FAILED', /this token has no access \(HTTP 403\)\. Accept its licence on .* with the account that owns the token/],
      ['polyprune/stories260K@v9', undefined, 'FILE_NOT_FOUND', /has no revision 'v9'\. Use a branch, tag or commit listed on/],
      ['polyprune/dataset', undefined, 'FILE_NOT_FOUND', /polyprune\/dataset@main has no config\.json; PolyPrune needs a transformers checkpoint/],
    ];
    for (const [id, token, code, msg] of cases) {
      const e = await errorOf(hubFolder(id, { endpoint: hub.url, token }));
      expect(e, id).toBeInstanceOf(PolyPruneError);
      expect(e.code, id).toBe(code);
      expect(e.message, id).toMatch(msg);
    }
    const down = await errorOf(hubFolder('org/name', { endpoint: 'http://127.0.0.1:9' }));
    expect(down.message).toMatch(/Cannot reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:9 for org\/name/);
  });

  it('the CLI takes Hub ids (HF_ENDPOINT, HF_TOKEN) and ends a gated one with one line', async () => {
    const run = (args: string[], env: Record<string, string>) => runCliAsync(args, { env });
    const ok = await run(['info', '--model', 'polyprune/gated', '--json'], { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_good' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).source).toBe('polyprune/gated@main (Hugging Face Hub)');
    const gated = await run(['info', '--model', 'hf:polyprune/gated'], { HF_ENDPOINT: hub.url, HF_TOKEN: '' });
    expect(gated.code).toBe(1);
    expect(gated.stderr.trim().split('\n')).toHaveLength(1);
    expect(gated.stderr).toMatch(/^polyprune: The Hugging Face repository polyprune\/gated is gated or private \(HTTP 401\)/);
  });
});
