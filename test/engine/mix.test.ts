/**
 * The calibration mixer through the Engine API (in-thread engine on lavapipe, the stories260K
 * fixture): one collection pass, slider moves that run no calibration forward, the same model slot,
 * perplexity that follows the weights, and confirm = the exact sequential prune.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import { openSafetensors } from '../../src/io/safetensors';
import { blobSource } from '../../src/io/source';
import { readStatsFile, statsFileChunks } from '../../src/engine/statsFile';
import type { StatsSummary } from '../../src/engine/api';
import { fixtureWindows } from '../helpers/fixture';
import { outcome } from '../helpers/errors';
import { fixtureEngine } from '../helpers/engine';

let engine: LocalEngine;
let baseId: string;
let stats: StatsSummary;
let en: { ids: Int32Array; n: number; seqlen: number };
let de: { ids: Int32Array; n: number; seqlen: number };
let evalWin: { ids: Int32Array; n: number; seqlen: number };

beforeAll(async () => {
  const f = await fixtureEngine();
  engine = f.engine;
  baseId = f.base.id;
  en = await fixtureWindows('calib-en.safetensors');
  de = await fixtureWindows('calib-de.safetensors');
  evalWin = await fixtureWindows('eval-en.safetensors');
});

afterAll(async () => {
  await engine.dispose();
});

const code = outcome;

describe('engine: calibration mixer', () => {
  it('collects once, then every slider move re-masks the same model without a calibration forward', async () => {
    const c0 = await engine.counters();
    stats = await engine.collectStats(baseId, { method: 'wanda', sources: [{ name: 'en', language: 'en', windows: en }, { name: 'de', language: 'de', windows: de }], nsamples: 16, seqlen: en.seqlen });
    const c1 = await engine.counters();
    const L = stats.layers;
    expect(c1).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + L });
    expect(stats.sources.map((s) => s.windows)).toEqual([16, 16]);
    const ppl: number[] = [];
    const times: number[] = [];
    let id = '';
    for (const w of [[1, 0], [0.7, 0.3], [0.5, 0.5], [0, 1]]) {
      const r = await engine.mixPrune(stats.id, { weights: w, sparsity: 0.5 });
      if (id) expect(r.model.id).toBe(id);
      id = r.model.id;
      expect(Math.abs(r.overall - 0.5)).toBeLessThan(0.01);
      expect(r.record.mix).toMatchObject({ mode: 'instant', weights: w });
      times.push(r.updateMs);
      expect(r.phases.mixMs + r.phases.sqrtMs + r.phases.selectMs + r.phases.recordMs).toBeCloseTo(r.updateMs, 3);
      console.log(`  phases: mix+readback ${r.phases.mixMs.toFixed(0)} ms, sqrt ${r.phases.sqrtMs.toFixed(0)} ms, restore+select ${r.phases.selectMs.toFixed(0)} ms, record ${r.phases.recordMs.toFixed(0)} ms`);
      const p = await engine.perplexity(id, { windows: evalWin, seqlen: evalWin.seqlen });
      expect(Number.isFinite(p.ppl)).toBe(true);
      ppl.push(p.ppl);
    }
    expect(await engine.counters()).toEqual(c1);
    // perplexity follows the mix: en-only and de-only masks score the English text differently
    expect(ppl[0]).not.toBe(ppl[3]);
    // one pruned model for the mixer, besides the dense one
    expect((await engine.listModels()).length).toBe(2);
    // its export is the current mix (masks read back on demand): de only, 50 % zeros, the mix in pruning.json
    const files = await engine.exportModel(id);
    const rec = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'pruning.json')!.data));
    expect(rec.mix).toMatchObject({ mode: 'instant', weights: [0, 1], windows: [0, 16] });
    expect(rec.calibration.nsamples).toBe(16);
    const st = await openSafetensors(blobSource(new Blob([files.find((f) => f.name === 'model.safetensors')!.data as Uint8Array<ArrayBuffer>]), 'model.safetensors'));
    const w = await st.readF32('model.layers.2.mlp.up_proj.weight');
    expect(w.filter((x) => x === 0).length).toBe(w.length / 2);
    console.log(`mixer update on stories260K (lavapipe): ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  });

  it('confirm runs the exact sequential prune: equal to prune() on the same windows, layer 0 identical to the instant masks', async () => {
    const c0 = await engine.counters();
    const r = await engine.confirmMix(stats.id, { weights: [1, 0], sparsity: 0.5 });
    const c1 = await engine.counters();
    expect(c1).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + stats.layers });
    expect(r.windows).toEqual([16, 0]);
    expect((r.exact.record as { mix?: unknown }).mix).toMatchObject({ mode: 'confirm', windows: [16, 0] });
    // layer 0 sees the embeddings in both: the masks are identical; later layers may differ
    expect(r.overlap.iou[0].every((v) => v === 1)).toBe(true);
    expect(r.layerIou[0]).toBe(1);
    expect(r.layerIou.slice(1).some((v) => v !== null && v < 1)).toBe(true);
    // the exact run is prune() on those windows
    const direct = await engine.prune(baseId, { method: 'wanda', sparsity: 0.5, calibration: { windows: en } });
    const o = await engine.maskOverlap(direct.model.id, r.exact.model.id);
    expect(o.iou.flat().every((v) => v === 1)).toBe(true);
    const a = await engine.perplexity(direct.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    const b = await engine.perplexity(r.exact.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    expect(b.ppl).toBe(a.ppl);
    // a 0.7/0.3 confirm draws 11 + 5 windows
    const r2 = await engine.confirmMix(stats.id, { weights: [0.7, 0.3], sparsity: 0.5 });
    expect(r2.windows).toEqual([11, 5]);
    for (const m of [direct.model.id, r.exact.model.id, r2.exact.model.id]) await engine.unloadModel(m);
  });

  it('readStats -> loadStats: the same statistics again without a calibration pass; foreign or damaged data is refused', async () => {
    const data = await engine.readStats(stats.id);
    expect(data.values.length).toBe(stats.layers * 4);
    expect(data.ids.length).toBe(32 * en.seqlen);
    // the statistics file (polyprune mix --save-stats / --load-stats) holds the same data
    expect(await readStatsFile(blobSource(new Blob(statsFileChunks(data)), 'stats.safetensors'))).toEqual(data);
    // through a structured clone, as the page's IndexedDB and the worker boundary see it
    const copy = structuredClone(data);
    const c0 = await engine.counters();
    const loaded = await engine.loadStats(baseId, copy);
    expect(await engine.counters()).toEqual(c0);
    expect(loaded.id).not.toBe(stats.id);
    expect(loaded.sources).toEqual(stats.sources);
    const a = await engine.mixPrune(stats.id, { weights: [0.3, 0.7], sparsity: 0.5 });
    const b = await engine.mixPrune(loaded.id, { weights: [0.3, 0.7], sparsity: 0.5 });
    expect(b.model.id).not.toBe(a.model.id);
    expect(b.sparsity).toEqual(a.sparsity);
    expect((await engine.maskOverlap(a.model.id, b.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    const pa = await engine.perplexity(a.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    const pb = await engine.perplexity(b.model.id, { windows: evalWin, seqlen: evalWin.seqlen });
    expect(pb.ppl).toBe(pa.ppl);
    expect(await engine.counters()).toEqual(c0);
    // keepMix: the loaded handle's model stays as it is; the next mix makes a new model
    const kept = await engine.keepMix(loaded.id);
    expect(kept.id).toBe(b.model.id);
    const c = await engine.mixPrune(loaded.id, { weights: [1, 0], sparsity: 0.5 });
    expect(c.model.id).not.toBe(kept.id);
    expect((await engine.perplexity(kept.id, { windows: evalWin, seqlen: evalWin.seqlen })).ppl).toBe(pb.ppl);
    const files = await engine.exportModel(kept.id);
    expect(JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'pruning.json')!.data)).mix).toMatchObject({ mode: 'instant', weights: [0.3, 0.7] });
    await engine.keepMix(loaded.id);
    expect(await code(engine.keepMix(loaded.id))).toMatch(/BAD_ARGUMENT: There is no mix to keep/);
    for (const m of [kept.id, c.model.id]) await engine.unloadModel(m);
    await engine.releaseStats(loaded.id);
    // refused: another model's hash, a short array, a NaN, a token id past the vocabulary
    expect(await code(engine.loadStats(baseId, { ...data, modelSha256: 'f'.repeat(64) }))).toMatch(/BAD_ARGUMENT: These statistics were collected on another model/);
    expect(await code(engine.loadStats(baseId, { ...data, values: [data.values[0].subarray(1), ...data.values.slice(1)] }))).toMatch(/BAD_ARGUMENT: Stored statistics of layer 0 self_attn.q_proj: expected 32 x/);
    const nan = data.values.map((v) => v.slice());
    nan[5][7] = Number.NaN;
    expect(await code(engine.loadStats(baseId, { ...data, values: nan }))).toMatch(/NON_FINITE: Stored statistics of layer 1 self_attn.o_proj hold a non-finite value/);
    const ids = data.ids.slice();
    ids[3] = 1 << 20;
    expect(await code(engine.loadStats(baseId, { ...data, ids }))).toMatch(/BAD_ARGUMENT/);
    expect(await code(engine.loadStats(baseId, { ...data, format: 'x' as 'polyprune-mix-stats' }))).toMatch(/BAD_ARGUMENT: Not mixer statistics/);
  });

  it('an unloaded mixer model is made again; bad requests end in messages', async () => {
    const r = await engine.mixPrune(stats.id, { weights: [0.5, 0.5], nm: { n: 2, m: 4 } });
    await engine.unloadModel(r.model.id);
    const r2 = await engine.mixPrune(stats.id, { weights: [0.5, 0.5], nm: { n: 2, m: 4 } });
    expect(r2.model.id).not.toBe(r.model.id);
    expect(r2.overall).toBe(0.5);
    expect(await code(engine.mixPrune(stats.id, { weights: [0, 0], sparsity: 0.5 }))).toMatch(/BAD_ARGUMENT: The mix weights are all 0/);
    expect(await code(engine.mixPrune(stats.id, { weights: [1], sparsity: 0.5 }))).toMatch(/one mix weight per calibration source/);
    expect(await code(engine.mixPrune(stats.id, { weights: [1, 1] }))).toMatch(/BAD_ARGUMENT: Give a sparsity/);
    expect(await code(engine.mixPrune('s999', { weights: [1, 1], sparsity: 0.5 }))).toMatch(/No calibration statistics 's999'/);
    expect(await code(engine.collectStats(baseId, { method: 'magnitude' as 'wanda', sources: [{ name: 'en', windows: en }], nsamples: 16, seqlen: en.seqlen }))).toMatch(/BAD_ARGUMENT: Unknown mixer method 'magnitude'. Supported: wanda, sparsegpt/);
    expect(await code(engine.collectStats(baseId, { method: 'wanda', sources: [{ name: 'en', windows: en }], nsamples: 16, seqlen: 32 }))).toMatch(/windows must be n x 32 tokens/);
    await engine.releaseStats(stats.id);
    expect(await code(engine.mixPrune(stats.id, { weights: [1, 1], sparsity: 0.5 }))).toMatch(/No calibration statistics/);
  });
});
