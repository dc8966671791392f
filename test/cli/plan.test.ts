/**
 * `polyprune prune --plan` and the plan every prune run starts with: what the run needs against this
 * adapter, from config.json and the checkpoint headers only, and refusals before any weight is read.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, statSync } from 'node:fs';
import path from 'node:path';
import { FIXTURE, requireShared } from '../helpers/fixture';
import { tempDir } from '../helpers/shared';
import { startStaticServer, type StaticServer } from '../helpers/httpServer';
import { LLAMA3_8B_CONFIG, writeSparseCheckpoint } from '../helpers/bigCheckpoint';
import { describePlan, loadHostBytesOf, planRun, tokenizerHostBytesOf, TOKENIZER_HOST_BASE_BYTES, TOKENIZER_JSON_BYTES_PER_WORD } from '../../src/prune/plan';
import { parseModelConfig } from '../../src/io/config';
import { runCliAsync } from '../helpers/cli';

/** Runs the CLI without blocking this process (the test's HTTP server answers it). */
const cli = (args: string[]) => runCliAsync(args);

let tmp: { dir: string; remove: () => Promise<void> };
let big: string;
let bigBytes: number;
let server: StaticServer;
beforeAll(async () => {
  tmp = await tempDir('polyprune-plan-');
  big = path.join(tmp.dir, 'llama3-8b');
  bigBytes = writeSparseCheckpoint(big, LLAMA3_8B_CONFIG);
  server = await startStaticServer({ '/': tmp.dir });
});
afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});

describe('planRun', () => {
  const cfg = parseModelConfig(LLAMA3_8B_CONFIG, 'config.json');
  const env = { limits: { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 2 ** 31 }, checkpointBytes: 16e9, f32Bytes: 32e9, remote: true };
  it('Llama-3-8B, SparseGPT, 128 x 2048 on 128 MiB bindings: streamed, panels, about 12 GiB, nothing refused', () => {
    const p = planRun(cfg, { method: 'sparsegpt', nsamples: 128, seqlen: 2048 }, env);
    expect(p.resident).toBe(false);
    expect(p.problems).toEqual([]);
    const kinds = Object.fromEntries(p.gpu.map((i) => [i.kind, i.bytes]));
    expect(kinds['calibration activations']).toBe(128 * 2048 * 4096 * 4);
    expect(kinds['embeddings + head']).toBe(2 * 128256 * 4096 * 4 + 4096 * 4);
    expect(kinds.statistics).toBe((2 * 4096 * 4096 + 4096 * 4096 + 14336 * 14336) * 4);
    expect(p.gpuPeakBytes / 2 ** 30).toBeGreaterThan(10);
    expect(p.gpuPeakBytes / 2 ** 30).toBeLessThan(16);
    expect(p.biggestBinding.bytes).toBe(2048 * 14336 * 4);
    expect(p.downloadBytes).toBe(16e9);
    // what the browser's weight cache holds is read from there, not downloaded (never below 0)
    expect([planRun(cfg, { method: 'evaluate' }, { ...env, cachedBytes: 6e9 })].map((q) => [q.downloadBytes, q.cachedBytes])).toEqual([[10e9, 6e9]]);
    expect([planRun(cfg, { method: 'evaluate' }, { ...env, cachedBytes: 17e9 })].map((q) => [q.downloadBytes, q.cachedBytes])).toEqual([[0, 16e9]]);
    expect(planRun(cfg, { method: 'evaluate' }, { ...env, remote: false, cachedBytes: 6e9 }).cachedBytes).toBe(0);
  });
  it('Llama-3-8B pruned matrices (about 13 GiB in BF16): spilled to disk above the threshold, so 8 GiB of RAM is no refusal; too little disk keeps them in memory and says so', () => {
    const q = { method: 'wanda' as const, nsamples: 8, seqlen: 512 };
    const ram = { ...env, hostMemoryBytes: 8 * 2 ** 30 };
    const inMem = planRun(cfg, q, ram);
    expect(inMem.prunedBytes / 2 ** 30).toBeGreaterThan(12);
    expect([inMem.prunedOnDisk, inMem.hostBytes]).toEqual([false, inMem.prunedBytes]);
    expect(inMem.problems.join(' ')).toMatch(/^Exporting holds the pruned matrices in memory \(about 1[2-4]\.\d+ GiB\); this machine has 8\.00 GiB\.$/);
    const spilled = planRun(cfg, q, { ...ram, spillAboveBytes: 2 ** 30, spillFreeBytes: 100 * 2 ** 30 });
    expect([spilled.prunedOnDisk, spilled.hostBytes, spilled.prunedBytes, spilled.problems]).toEqual([true, 0, inMem.prunedBytes, []]);
    expect(describePlan(spilled).join('\n')).toMatch(/pruned matrices on disk \(spilled\): 1[2-4]\.\d+ GiB; host memory: 0 B of 8\.00 GiB/);
    // below the threshold: memory, as before
    expect(planRun(cfg, q, { ...ram, spillAboveBytes: 20 * 2 ** 30 }).prunedOnDisk).toBe(false);
    const noDisk = planRun(cfg, q, { ...ram, spillAboveBytes: 2 ** 30, spillFreeBytes: 2 ** 30 });
    expect([noDisk.prunedOnDisk, noDisk.hostBytes]).toEqual([false, inMem.prunedBytes]);
    expect(noDisk.notes).toContain(noDisk.spillNote);
    expect(noDisk.spillNote).toMatch(/^Not enough free disk space to spill the pruned matrices \(1[2-4]\.\d+ GiB; 1\.00 GiB free\): they are kept in host memory\.$/);
    expect(noDisk.problems.join(' ')).toMatch(/Exporting holds the pruned matrices in memory/);
  });

  it("a load's host memory: the weights in slices plus the tokenizer, from tokenizer.json's size or else the vocabulary", () => {
    expect(tokenizerHostBytesOf(0)).toBe(0);
    expect(tokenizerHostBytesOf(Number.NaN)).toBe(0);
    expect(tokenizerHostBytesOf(2705898)).toBe(TOKENIZER_HOST_BASE_BYTES + 64 * 2705898); // the ladder's 128256-word file: 197 MiB
    expect(tokenizerHostBytesOf(2 * 2705898)).toBeGreaterThan(tokenizerHostBytesOf(2705898));
    const withFile = planRun(cfg, { method: 'evaluate' }, { ...env, largestTensorBytes: 128256 * 4096 * 2, tokenizerJsonBytes: 9e6 });
    expect(withFile.loadTokenizerBytes).toBe(tokenizerHostBytesOf(9e6));
    expect(withFile.loadHostBytes).toBe(loadHostBytesOf(128256 * 4096 * 2) + tokenizerHostBytesOf(9e6));
    // no size known: the vocabulary's words at a generous size each
    const guessed = planRun(cfg, { method: 'evaluate' }, { ...env, largestTensorBytes: 128256 * 4096 * 2 });
    expect(guessed.loadTokenizerBytes).toBe(tokenizerHostBytesOf(128256 * TOKENIZER_JSON_BYTES_PER_WORD));
    expect(describePlan(withFile).join('\n')).toMatch(/\(loading: 1\.57 GiB: tensors in slices of at most 64\.0 MiB, the tokenizer about 581\.3 MiB\)/);
  });
  it('refuses a window wider than a binding, a too small GPU, and SparseGPT panels that cannot fit', () => {
    expect(planRun(cfg, { method: 'wanda', nsamples: 128, seqlen: 4096 }, env).problems.join(' ')).toMatch(/One window of 4096 tokens .* hold 2340 tokens. Use --seqlen 2340 or less/);
    expect(planRun(cfg, { method: 'wanda', nsamples: 128, seqlen: 2048 }, { ...env, gpuMemoryBytes: 8 * 2 ** 30 }).problems.join(' ')).toMatch(/needs about .* GiB of GPU memory; 8.00 GiB are available/);
    const tiny = { ...env, limits: { maxStorageBufferBindingSize: 4 * 2 ** 20, maxBufferSize: 4 * 2 ** 20 } };
    expect(planRun(cfg, { method: 'sparsegpt', nsamples: 8, seqlen: 64, blocksize: 128 }, tiny).problems.join(' ')).toMatch(/SparseGPT on 14336-wide inputs needs panels of 128 rows/);
  });
});

describe('polyprune prune --plan', () => {
  it('prints the needs of a fixture run and exits 0', async () => {
    const r = await cli(['prune', '--model', requireShared(FIXTURE), '--method', 'sparsegpt', '--sparsity', '0.5', '--calib-tokens', path.join(FIXTURE, 'calib-en.safetensors'), '--plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/GPU memory at the peak/);
    expect(r.stdout).toMatch(/calibration activations +\d/);
    expect(r.stdout).toMatch(/download: nothing \(local files\)/);
  });

  it('an 8B model over HTTP: the plan reads only headers; a too-long window and a too-small GPU are refused before any weight is downloaded', async () => {
    const url = `${server.url}/llama3-8b/`;
    const text = path.join(tmp.dir, 'calib.txt');
    cpSync(path.join(FIXTURE, 'config.json'), text); // any UTF-8 text; never read that far
    const ok = await cli(['prune', '--model', url, '--method', 'wanda', '--sparsity', '0.5', '--calib', text, '--nsamples', '128', '--seqlen', '2048', '--plan', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const plan = JSON.parse(ok.stdout);
    expect(plan.downloadBytes).toBeGreaterThan(16e9);
    expect(plan.downloadBytes).toBeLessThan(bigBytes);
    const long = await cli(['prune', '--model', url, '--method', 'wanda', '--sparsity', '0.5', '--calib', text, '--seqlen', '4096', '--out', path.join(tmp.dir, 'x')]);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/polyprune: Refused before loading the weights: One window of 4096 tokens/);
    const small = await cli(['prune', '--model', url, '--method', 'sparsegpt', '--sparsity', '0.5', '--calib', text, '--gpu-memory', '8', '--out', path.join(tmp.dir, 'y')]);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/GiB of GPU memory; 8.00 GiB are available/);
    // Only config.json, tokenizer probes and the safetensors header were fetched.
    const ranges = server.requests.filter((q) => q.path.endsWith('model.safetensors') && q.method === 'GET');
    for (const q of ranges) {
      const m = /bytes=(\d+)-(\d+)/.exec(q.range ?? '');
      expect(m, `whole-file GET of ${q.path}`).not.toBeNull();
      expect(Number(m![2])).toBeLessThan(1 << 20);
    }
  });
});

describe('packed 16-bit weights in the plan (issue 22)', () => {
  it('Llama-3-8B shape with 2 layers: the engine counts BF16 weights packed, half their f32 bytes, and says when a run fits only packed', async () => {
    const { LocalEngine } = await import('../../src/engine/engine');
    const { nodeGpu } = await import('../../src/gpu/node');
    const { dirFolder } = await import('../../src/io/node');
    const two = path.join(tmp.dir, 'llama3-8b-2l');
    writeSparseCheckpoint(two, { ...LLAMA3_8B_CONFIG, num_hidden_layers: 2 });
    const engine = new LocalEngine({ gpu: nodeGpu, politeWait: true });
    try {
      const spec = { kind: 'folder' as const, folder: dirFolder(two) };
      const evalPlan = await engine.plan(spec, { method: 'evaluate', seqlen: 128 });
      expect(evalPlan.packed).toBe(true);
      expect(evalPlan.weightBytes / evalPlan.f32WeightBytes).toBeGreaterThan(0.5);
      expect(evalPlan.weightBytes / evalPlan.f32WeightBytes).toBeLessThan(0.5001);
      // 2 x 128256 x 4096 (embeddings, head) + 2 x 218M (layers) at 2 bytes, the norms at 4
      expect(evalPlan.gpu.find((i) => i.kind === 'embeddings + head')!.bytes).toBe(2 * 128256 * 4096 * 2 + 4096 * 4);
      // A 4 GiB GPU holds the packed evaluation (3.3 GiB) but not the f32 one (6.1 GiB).
      const fits = await engine.plan(spec, { method: 'evaluate', seqlen: 128, gpuMemoryBytes: 4 * 2 ** 30 });
      expect(fits.problems).toEqual([]);
      expect(fits.notes.join(' ')).toMatch(/Fits only because the 16-bit weights stay packed on the GPU: about 3\.\d+ GiB of 4\.00 GiB; unpacked to f32 the run would need 6\.\d+ GiB/);
      const not = await engine.plan(spec, { method: 'evaluate', seqlen: 128, gpuMemoryBytes: 2 * 2 ** 30 });
      expect(not.problems.join(' ')).toMatch(/needs about 3\.\d+ GiB of GPU memory; 2\.00 GiB are available \(counting its 16-bit weights packed/);
      // A loaded model's plan by its id (the page's Prune panel): the same needs as its plan before it
      // was loaded (its own weights counted once), nothing to download.
      const q = { method: 'sparsegpt' as const, nsamples: 4, seqlen: 32 };
      const bySpec = await engine.plan({ kind: 'folder', folder: dirFolder(requireShared(FIXTURE)) }, q);
      const fixture = await engine.loadModel({ kind: 'folder', folder: dirFolder(requireShared(FIXTURE)) });
      const byId = await engine.plan(fixture.id, q);
      expect({ ...byId, downloadBytes: 0 }).toEqual({ ...bySpec, downloadBytes: 0 });
      // the tokenizer counted from its file's size, before the load (stat) and after it (the text it read)
      expect(bySpec.loadTokenizerBytes).toBe(tokenizerHostBytesOf(statSync(path.join(FIXTURE, 'tokenizer.json')).size));
      expect(byId.downloadBytes).toBe(0);
    } finally {
      await engine.dispose();
    }
  });
});

describe('GPU submit budget and a lost device in the CLI (issue 22)', () => {
  it('--gpu-submit-budget 0 or -1 is refused with what to give', async () => {
    for (const bad of ['0', '-1', 'lots']) {
      const r = await cli(['--gpu-submit-budget', bad, 'info', '--model', requireShared(FIXTURE)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--gpu-submit-budget must be a positive number of flops per submit \(for example 1e12/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a device lost mid-prune: one clear line, exit 1, no output folder, no hang', async () => {
    const out = path.join(tmp.dir, 'lost-out');
    const args = ['prune', '--model', requireShared(FIXTURE), '--method', 'wanda', '--sparsity', '0.5', '--calib-tokens', path.join(FIXTURE, 'calib-en.safetensors'), '--out', out];
    const r = await runCliAsync(args, { env: { POLYPRUNE_TEST_LOSE_DEVICE_AFTER_SUBMITS: '80' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/polyprune: The GPU device was lost \(destroyed.*Run it again on a new device \(the command line: the same command/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const { existsSync, readdirSync } = await import('node:fs');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('lost-out'))).toEqual([]);
  });
});
