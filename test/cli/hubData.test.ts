/**
 * The CLI with Hub data from a local server in the Hub's layout: `eval --task xcopa_it` without
 * --data scores the same as the same items from a JSONL file; `prune --calib hub:mc4:de` gives the
 * same calibration text (SHA-256) on a second run with --offline, from the disk cache.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';
import { startFakeHub, type FakeHub } from '../helpers/fakeHub';
import { jsonGz, makeDocs, write, writeCorpusFixture, writeXcopaFixture } from '../helpers/hubDatasets';
import { requireCliBundle, runCliAsync } from '../helpers/cli';

const MODEL = FIXTURE; // stories260K: any model scores the same items the same way from both sources
let hub: FakeHub;
let tmp: string;
let jsonlFile: string;

const cli = (args: string[], env: Record<string, string> = {}) => runCliAsync(args, { env: { HF_ENDPOINT: hub.url, HF_TOKEN: '', ...env }, timeout: 240_000 });

beforeAll(async () => {
  requireCliBundle();
  const xcopa = path.join(SHARED, 'data/tasks/xcopa/data/it/test.it.jsonl');
  requireShared(xcopa);
  const fx = writeCorpusFixture();
  tmp = fx.root;
  const x = writeXcopaFixture(tmp, readFileSync(xcopa, 'utf8'), 24);
  jsonlFile = path.join(tmp, 'xcopa-it.jsonl');
  writeFileSync(jsonlFile, x.jsonl);
  hub = await startFakeHub({}, { ...fx.datasets, ...x.datasets });
});
afterAll(async () => {
  await hub?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('polyprune with Hub data', () => {
  it('eval --task xcopa_it without --data equals the same items from a JSONL file', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'pp-cli-cache-'));
    const hubRun = await cli(['eval', '--model', MODEL, '--task', 'xcopa_it', '--json', '--cache-dir', cacheDir]);
    expect(hubRun.code, hubRun.stderr).toBe(0);
    expect(hubRun.stderr).toMatch(/xcopa_it: 24 items from cambridgeltl\/xcopa it\/test@[0-9a-f]{12}, \d+ bytes downloaded/);
    const fileRun = await cli(['eval', '--model', MODEL, '--task', 'xcopa_it', '--data', jsonlFile, '--json']);
    expect(fileRun.code, fileRun.stderr).toBe(0);
    const a = JSON.parse(hubRun.stdout);
    const b = JSON.parse(fileRun.stdout);
    expect(a.n).toBe(24);
    for (const k of ['n', 'acc', 'acc_norm', 'acc_bytes', 'acc_stderr']) expect(a[k], k).toBe(b[k]);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('prune --calib hub:mc4:de: the same windows (SHA-256) on a second run, offline, from the cache', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const run = async (out: string, extra: string[] = [], env: Record<string, string> = {}) => {
      const r = await cli(['prune', '--model', MODEL, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'hub:mc4:de', '--nsamples', '2', '--seqlen', '32', '--cache-dir', cacheDir, '--out', path.join(tmp, out), ...extra], env);
      expect(r.code, r.stderr).toBe(0);
      return { r, pruning: JSON.parse(readFileSync(path.join(tmp, out, 'pruning.json'), 'utf8')) };
    };
    const first = await run('p1');
    expect(first.r.stderr).toMatch(/mc4:de: \d+ documents from allenai\/c4@[0-9a-f]{12} \(multilingual\/c4-de\.tfrecord-00000-of-02048\.json\.gz from document 0\)/);
    const second = await run('p2', ['--offline'], { HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(second.r.stderr).toMatch(/from the cache/);
    expect(JSON.stringify(second.pruning.calibration)).toBe(JSON.stringify(first.pruning.calibration));
    expect(JSON.stringify(first.pruning.calibration)).toMatch(/hub:mc4:de@[0-9a-f]{12}\+0/);
    const missing = await cli(['prune', '--model', MODEL, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'hub:mc4:sw', '--nsamples', '2', '--seqlen', '32', '--cache-dir', cacheDir, '--offline', '--out', path.join(tmp, 'p3')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/Offline, and text of mc4:sw .* is not in the dataset cache/);
    const noLang = await cli(['prune', '--model', MODEL, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'hub:mc4:xx', '--nsamples', '2', '--seqlen', '32', '--out', path.join(tmp, 'p4'), '--no-cache']);
    expect(noLang.code, noLang.stderr).toBe(2); // a bad argument
    expect(noLang.stderr).toMatch(/mC4 has no language 'xx'\. It has: af, am, ar/);
  });

  it('grid: Hub calibration rows and held-out columns; --preset kurz2026 --plan prints the design before anything runs', async () => {
    const gridArgs = ['grid', '--model', MODEL, '--method', 'wanda', '--sparsity', '0.5', '--calib', 'hub:mc4:de', 'hub:fineweb2:de', '--eval', 'hub:mc4:de:validation', '--nsamples', '2', '--seqlen', '32', '--eval-seqlen', '32', '--eval-max-windows', '2', '--no-recon', '--json', '--no-cache'];
    const first = path.join(tmp, 'grid-hub.json');
    const r = await cli([...gridArgs, '--out', first]);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout);
    expect(rec.rows.map((x: { label: string }) => x.label)).toEqual(['dense', 'mc4:de', 'fineweb2:de']);
    expect(rec.columns[0].language).toBe('de');
    expect(rec.columns[0].text.name).toMatch(/^hub:mc4:de:validation@[0-9a-f]{12}\+0$/);
    expect(rec.cells[1][0].ppl[0]).toBeGreaterThan(1);
    // the time on this adapter, before the first prune: the run plan at a forward rate measured on the loaded model
    expect(r.stderr).toMatch(/estimated time: about \d+ (s|min) on this adapter \([\d,]+ tokens\/s measured; 2 prunes, 3 perplexity and 0 task cells\)/);
    const plan = await cli(['grid', '--preset', 'kurz2026', '--plan', '--nsamples', '64']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain('model        meta-llama/Meta-Llama-3-8B-Instruct');
    expect(plan.stderr).toContain('method       wanda 50 %');
    expect(plan.stderr).toContain('hub:mc4:ar hub:mc4:de hub:mc4:en hub:mc4:es hub:mc4:ru hub:mc4:sw hub:mc4:zh: 64 x 2048 tokens, seeds 0,42,1234');
    expect(plan.stderr).toMatch(/tasks +xnli_ar .*xcopa_sw .*belebele_zho_Hans/);
    expect(plan.stderr).toContain('time on this adapter: needs the model loaded');
    expect(plan.stderr).toContain('polyprune grid --preset kurz2026 --model CohereForAI/aya-23-8B --method sparsegpt --nm 2:4');
    expect(hub.requests.length).toBeGreaterThan(0);

    // --resume reads the record's Hub texts again from their provenance (commit sha, offset, bytes), not the branch
    hub.requests.length = 0;
    const resumed = await cli([...gridArgs, '--resume', first, '--out', path.join(tmp, 'grid-hub-2.json')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/mc4:de: the record's text again from allenai\/c4@[0-9a-f]{12} \(documents from offset 0, \d+ bytes\), \d+ bytes downloaded, SHA-256 [0-9a-f]{16} as recorded/);
    const again = JSON.parse(resumed.stdout);
    expect(again.rows).toEqual(rec.rows);
    expect(again.columns[0].text).toEqual(rec.columns[0].text);
    const sha = rec.rows[1].sources[0].hub.sha;
    expect(hub.requests.filter((q) => /\/revision\//.test(q.path)).map((q) => q.path.replace(/^.*\/revision\//, ''))).toEqual([sha, sha, rec.columns[0].text.hub.sha]);
    // the held-out shard now holds other documents at that commit: refused in one line before any model work, nothing written
    write(path.join(tmp, 'c4'), 'multilingual/c4-de-validation.tfrecord-00000-of-00016.json.gz', jsonGz(makeDocs('de', 40, 120, 33)));
    const changed = await cli([...gridArgs, '--resume', first, '--out', path.join(tmp, 'grid-hub-3.json')]);
    expect(changed.code).not.toBe(0);
    const msg = changed.stderr.trim().split('\n').pop()!;
    expect(msg).toMatch(new RegExp(`^polyprune: --resume ${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: The text of hub:mc4:de:validation fetched again from allenai/c4@[0-9a-f]{12} .* but the record needs [0-9a-f]{12}…: those files are not the ones the record read\\. Give the text as a file instead\\.$`));
    expect(changed.stderr).not.toMatch(/load layer/);
    expect(existsSync(path.join(tmp, 'grid-hub-3.json'))).toBe(false);
  });
});
