/**
 * The SparseGPT calibration mixer through the Engine API (in-thread engine on lavapipe, stories260K):
 * one collection of per-source Hessians, slider moves without a calibration forward, confirm = the
 * sequential SparseGPT prune, readStats -> loadStats and the statistics file, and the size refusal.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import { blobSource } from '../../src/io/source';
import { safetensorsBytes } from '../../src/io/safetensors';
import { readStatsFile, statsFileChunks } from '../../src/engine/statsFile';
import type { ModelSummary, StatsSummary } from '../../src/engine/api';
import { mixStatsBytes } from '../../src/engine/mixSize';
import { fixtureWindows } from '../helpers/fixture';
import { outcome } from '../helpers/errors';
import { fixtureEngine } from '../helpers/engine';

let engine: LocalEngine;
let baseId: string;
let baseSummary: ModelSummary;
let stats: StatsSummary;
let en: { ids: Int32Array; n: number; seqlen: number };
let de: { ids: Int32Array; n: number; seqlen: number };
let evalWin: { ids: Int32Array; n: number; seqlen: number };

beforeAll(async () => {
  ({ engine, base: baseSummary } = await fixtureEngine());
  baseId = baseSummary.id;
  en = await fixtureWindows('calib-en.safetensors');
  de = await fixtureWindows('calib-de.safetensors');
  evalWin = await fixtureWindows('eval-en.safetensors');
});

afterAll(async () => {
  await engine.dispose();
});

const code = outcome;

describe('engine: calibration mixer with SparseGPT', () => {
  it('collects per-source Hessians once; slider moves re-prune the same model with no calibration forward', async () => {
    const c0 = await engine.counters();
    stats = await engine.collectStats(baseId, { method: 'sparsegpt', sources: [{ name: 'en', language: 'en', windows: en }, { name: 'de', language: 'de', windows: de }], nsamples: 16, seqlen: en.seqlen });
    const c1 = await engine.counters();
    expect(c1).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + stats.layers });
    expect(stats.method).toBe('sparsegpt');
    expect(stats.gpuBytes).toBe(2 * 5 * (3 * 64 * 64 + 172 * 172) * 4);
    // the page's estimate before collecting is the engine's figure (Wanda's: see the last test)
    expect(mixStatsBytes(baseSummary, 'sparsegpt', [16, 16])).toBe(stats.gpuBytes);
    const ppl: number[] = [];
    let id = '';
    for (const w of [[1, 0], [0.6, 0.4], [0, 1]]) {
      const r = await engine.mixPrune(stats.id, { weights: w, sparsity: 0.5 });
      if (id) expect(r.model.id).toBe(id);
      id = r.model.id;
      expect(r.model.name).toMatch(/-sparsegpt-0.5-mix$/);
      expect(Math.abs(r.overall - 0.5)).toBeLessThan(0.01);
      expect(r.record.method).toBe('sparsegpt');
      expect(r.record.mix).toMatchObject({ mode: 'instant', weights: w });
      ppl.push((await engine.perplexity(id, { windows: evalWin, seqlen: evalWin.seqlen })).ppl);
      console.log(`  SparseGPT mixer update (stories260K, lavapipe): ${r.updateMs.toFixed(0)} ms (mix ${r.phases.mixMs.toFixed(0)}, solve ${r.phases.selectMs.toFixed(0)}, record ${r.phases.recordMs.toFixed(0)})`);
    }
    expect(ppl.every(Number.isFinite)).toBe(true);
    expect(ppl[0]).not.toBe(ppl[2]);
    expect(await engine.counters()).toEqual(c1);
  });

  it('confirm runs the sequential SparseGPT prune: equal to prune() on the same windows, layer 0 identical to the instant masks', async () => {
    const c0 = await engine.counters();
    const r = await engine.confirmMix(stats.id, { weights: [1, 0], sparsity: 0.5 });
    expect(await engine.counters()).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + stats.layers });
    expect(r.windows).toEqual([16, 0]);
    expect(r.exact.record.method).toBe('sparsegpt');
    expect(r.overlap.iou[0].every((v) => v === 1)).toBe(true);
    expect(r.layerIou.slice(1).some((v) => v !== null && v < 1)).toBe(true);
    const direct = await engine.prune(baseId, { method: 'sparsegpt', sparsity: 0.5, calibration: { windows: en } });
    expect((await engine.maskOverlap(direct.model.id, r.exact.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    const a = await engine.perplexity(direct.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    const b = await engine.perplexity(r.exact.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    expect(b.ppl).toBe(a.ppl);
    for (const m of [direct.model.id, r.exact.model.id]) await engine.unloadModel(m);
  });

  it('readStats -> file -> loadStats gives the same masks with no calibration pass; another model is refused', async () => {
    const data = await engine.readStats(stats.id);
    expect(data.method).toBe('sparsegpt');
    expect(data.values.length).toBe(2 * stats.layers * 4);
    const bytes = new Blob(statsFileChunks(data));
    const back = await readStatsFile(blobSource(bytes, 'stats.safetensors'));
    expect(back.values).toEqual(data.values);
    expect(back.ids).toEqual(data.ids);
    const c0 = await engine.counters();
    const loaded = await engine.loadStats(baseId, back);
    const viaClone = await engine.loadStats(baseId, structuredClone(data));
    expect(await engine.counters()).toEqual(c0);
    expect(loaded.method).toBe('sparsegpt');
    const x = await engine.mixPrune(stats.id, { weights: [0.3, 0.7], nm: { n: 2, m: 4 } });
    const y = await engine.mixPrune(loaded.id, { weights: [0.3, 0.7], nm: { n: 2, m: 4 } });
    const z = await engine.mixPrune(viaClone.id, { weights: [0.3, 0.7], nm: { n: 2, m: 4 } });
    expect(y.sparsity).toEqual(x.sparsity);
    expect((await engine.maskOverlap(x.model.id, y.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    expect((await engine.maskOverlap(x.model.id, z.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    expect((await engine.perplexity(y.model.id, { windows: evalWin, seqlen: evalWin.seqlen })).ppl).toBe((await engine.perplexity(x.model.id, { windows: evalWin, seqlen: evalWin.seqlen })).ppl);
    expect(await engine.counters()).toEqual(c0);
    expect(await code(engine.loadStats(baseId, { ...data, modelSha256: 'f'.repeat(64) }))).toMatch(/BAD_ARGUMENT: These statistics were collected on another model/);
    const nan = data.values.map((v) => v.slice());
    nan[4 * 5 + 3][10] = Number.POSITIVE_INFINITY;
    expect(await code(engine.loadStats(baseId, { ...data, values: nan }))).toMatch(/NON_FINITE: Stored Hessian of source 2, layer 0 mlp.down_proj holds a non-finite value/);
    const other = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) }], { format: 'pt' });
    expect(await code(readStatsFile(blobSource(new Blob([other]), 'model.safetensors')))).toMatch(/BAD_ARGUMENT: model.safetensors is not a PolyPrune mixer statistics file: __metadata__.format is "pt"/);
    await engine.releaseStats(loaded.id);
    await engine.releaseStats(viaClone.id);
  });

  it('refuses SparseGPT statistics beyond the GPU budget, with the sizes and what to do instead', async () => {
    const { engine: small, base: smallBase } = await fixtureEngine({ gpuMemoryBytes: 2 ** 20 });
    try {
      const id = smallBase.id;
      const c0 = await small.counters();
      const msg = await code(small.collectStats(id, { method: 'sparsegpt', sources: [{ name: 'en', windows: en }, { name: 'de', windows: de }], nsamples: 16, seqlen: en.seqlen }));
      expect(msg).toMatch(/^BAD_ARGUMENT: SparseGPT mixer statistics keep one Hessian per source, layer and input group: 2 sources x 5 layers x \(3 x 64\^2 \+ 172\^2\) floats = 1\.6 MiB/);
      expect(msg).toMatch(/mix with Wanda instead/);
      expect(msg).toMatch(/polyprune prune --method sparsegpt/);
      expect(await small.counters()).toEqual(c0);
      // the same data offered through loadStats is refused too
      const data = await engine.readStats(stats.id);
      expect(await code(small.loadStats(id, data))).toMatch(/^BAD_ARGUMENT: SparseGPT mixer statistics keep one Hessian/);
    } finally {
      await small.dispose();
    }
    const w = await engine.collectStats(baseId, { method: 'wanda', sources: [{ name: 'en', windows: en }, { name: 'de', windows: { ...de, n: 5, ids: de.ids.subarray(0, 5 * de.seqlen) } }], nsamples: 16, seqlen: en.seqlen });
    expect(mixStatsBytes(baseSummary, 'wanda', [16, 5])).toBe(w.gpuBytes);
    await engine.releaseStats(w.id);
  });
});
