/**
 * The calibration mixer of every mixer method (the registry's MIX_METHODS) through the Engine API
 * (in-thread engine on lavapipe, the stories260K fixture): one collection pass, slider moves that run
 * no calibration forward on the same model slot, perplexity that follows the weights, confirm = the
 * exact sequential prune, readStats -> loadStats and the statistics file. A new mixer method is tested
 * by its entry in CASES (the compiler asks for it): its slider moves, its checks at each step, its own
 * tests.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import { openSafetensors, safetensorsBytes } from '../../src/io/safetensors';
import { blobSource } from '../../src/io/source';
import { readStatsFile, statsFileChunks } from '../../src/engine/statsFile';
import type { ConfirmMixResult, MixRequest, MixResult, ModelSummary, StatsData, StatsSummary } from '../../src/engine/api';
import { mixStatsBytes } from '../../src/engine/mixSize';
import { MIX_METHODS, type MixMethod } from '../../src/prune/methods';
import { fixtureWindows } from '../helpers/fixture';
import { outcome } from '../helpers/errors';
import { fixtureEngine } from '../helpers/engine';

type Windows = { ids: Int32Array; n: number; seqlen: number };
const code = outcome;

/** What a method's checks see: the engine, the dense model, the statistics of 16 en + 16 de windows, the windows. */
interface Ctx {
  readonly engine: LocalEngine;
  readonly baseId: string;
  readonly baseSummary: ModelSummary;
  readonly stats: StatsSummary;
  readonly en: Windows;
  readonly de: Windows;
  readonly evalWin: Windows;
  /** Perplexity of model `id` on the eval windows. */
  ppl(id: string): Promise<number>;
}

interface EngineMixCase {
  /** The slider moves of the first test (the first and the last must differ). */
  readonly moves: number[][];
  /** Checks right after the collection. */
  collected(c: Ctx): void;
  /** Checks of one slider move. */
  moved(c: Ctx, r: MixResult, w: number[]): void;
  /** Checks after the moves; `id` is the mixer's model, at the last move's mix. */
  afterMoves(c: Ctx, id: string): Promise<void>;
  /** Checks of the confirm of [1, 0] at 50 %. */
  confirmed(c: Ctx, r: ConfirmMixResult): Promise<void>;
  /** The mix request the round trip compares masks with. */
  readonly roundTripMix: MixRequest;
  /** Checks of the round trip: `data` read back, `back` through the statistics file, `loaded` from a structured clone, `a` and `b` the same mix from `stats` and from `loaded`. */
  roundTrip(c: Ctx, t: { data: StatsData; back: StatsData; loaded: StatsSummary; a: MixResult; b: MixResult }): Promise<void>;
  /** The method's own tests (run after the shared ones). */
  specific(c: () => Ctx): void;
}

/** A mixer method served by another method's collection (GPTQ: SparseGPT's Hessians): tested in that method's suite (its `specific`). */
interface SharedCase {
  readonly sharedWith: MixMethod;
}

const CASES: { readonly [K in MixMethod]: EngineMixCase | SharedCase } = {
  wanda: {
    moves: [
      [1, 0],
      [0.7, 0.3],
      [0.5, 0.5],
      [0, 1],
    ],
    collected({ stats }) {
      expect(stats.sources.map((s) => s.windows)).toEqual([16, 16]);
    },
    moved(_c, r) {
      expect(r.phases.mixMs + r.phases.sqrtMs + r.phases.selectMs + r.phases.recordMs).toBeCloseTo(r.updateMs, 3);
      console.log(`  mixer update on stories260K (lavapipe): ${r.updateMs.toFixed(0)} ms; phases: mix+readback ${r.phases.mixMs.toFixed(0)} ms, sqrt ${r.phases.sqrtMs.toFixed(0)} ms, restore+select ${r.phases.selectMs.toFixed(0)} ms, record ${r.phases.recordMs.toFixed(0)} ms`);
    },
    async afterMoves({ engine }, id) {
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
    },
    async confirmed({ engine, stats }, r) {
      expect((r.exact.record as { mix?: unknown }).mix).toMatchObject({ mode: 'confirm', windows: [16, 0] });
      // layer 0 sees the embeddings in both: the masks are identical
      expect(r.layerIou[0]).toBe(1);
      // a 0.7/0.3 confirm draws 11 + 5 windows
      const r2 = await engine.confirmMix(stats.id, { weights: [0.7, 0.3], sparsity: 0.5 });
      expect(r2.windows).toEqual([11, 5]);
      await engine.unloadModel(r2.exact.model.id);
    },
    roundTripMix: { weights: [0.3, 0.7], sparsity: 0.5 },
    async roundTrip({ engine, stats, en, ppl }, { data, back, loaded, a, b }) {
      expect(data.values.length).toBe(stats.layers * 4);
      expect(data.ids.length).toBe(32 * en.seqlen);
      expect(back).toEqual(data);
      expect(loaded.id).not.toBe(stats.id);
      expect(loaded.sources).toEqual(stats.sources);
      expect(b.model.id).not.toBe(a.model.id);
      // keepMix: the loaded handle's model stays as it is; the next mix makes a new model
      const kept = await engine.keepMix(loaded.id);
      expect(kept.id).toBe(b.model.id);
      const c = await engine.mixPrune(loaded.id, { weights: [1, 0], sparsity: 0.5 });
      expect(c.model.id).not.toBe(kept.id);
      expect(await ppl(kept.id)).toBe(await ppl(b.model.id));
      const files = await engine.exportModel(kept.id);
      expect(JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'pruning.json')!.data)).mix).toMatchObject({ mode: 'instant', weights: [0.3, 0.7] });
      await engine.keepMix(loaded.id);
      expect(await code(engine.keepMix(loaded.id))).toMatch(/BAD_ARGUMENT: There is no mix to keep/);
      for (const m of [kept.id, c.model.id]) await engine.unloadModel(m);
    },
    specific(ctx) {
      it('damaged or foreign statistics are refused', async () => {
        const { engine, baseId, stats } = ctx();
        const data = await engine.readStats(stats.id);
        // refused: a short array, a NaN, a token id past the vocabulary, another format
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
        const { engine, baseId, stats, en } = ctx();
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
    },
  },

  sparsegpt: {
    moves: [
      [1, 0],
      [0.6, 0.4],
      [0, 1],
    ],
    collected({ stats, baseSummary }) {
      expect(stats.method).toBe('sparsegpt');
      expect(stats.gpuBytes).toBe(2 * 5 * (3 * 64 * 64 + 172 * 172) * 4);
      // the page's estimate before collecting is the engine's figure (Wanda's: see the budget test)
      expect(mixStatsBytes(baseSummary, 'sparsegpt', [16, 16])).toBe(stats.gpuBytes);
    },
    moved(_c, r) {
      expect(r.model.name).toMatch(/-sparsegpt-0.5-mix$/);
      expect(r.record.method).toBe('sparsegpt');
      console.log(`  SparseGPT mixer update (stories260K, lavapipe): ${r.updateMs.toFixed(0)} ms (mix ${r.phases.mixMs.toFixed(0)}, solve ${r.phases.selectMs.toFixed(0)}, record ${r.phases.recordMs.toFixed(0)})`);
    },
    async afterMoves() {},
    async confirmed(_c, r) {
      expect(r.exact.record.method).toBe('sparsegpt');
    },
    roundTripMix: { weights: [0.3, 0.7], nm: { n: 2, m: 4 } },
    async roundTrip({ engine, baseId, stats, ppl }, { data, back, a }) {
      expect(data.method).toBe('sparsegpt');
      expect(data.values.length).toBe(2 * stats.layers * 4);
      expect(back.values).toEqual(data.values);
      expect(back.ids).toEqual(data.ids);
      // loaded from the file as well: the same masks, no calibration pass
      const c0 = await engine.counters();
      const fromFile = await engine.loadStats(baseId, back);
      expect(fromFile.method).toBe('sparsegpt');
      const y = await engine.mixPrune(fromFile.id, { weights: [0.3, 0.7], nm: { n: 2, m: 4 } });
      expect(y.sparsity).toEqual(a.sparsity);
      expect((await engine.maskOverlap(a.model.id, y.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
      expect(await ppl(y.model.id)).toBe(await ppl(a.model.id));
      expect(await engine.counters()).toEqual(c0);
      await engine.releaseStats(fromFile.id);
      const nan = data.values.map((v) => v.slice());
      nan[4 * 5 + 3][10] = Number.POSITIVE_INFINITY;
      expect(await code(engine.loadStats(baseId, { ...data, values: nan }))).toMatch(/NON_FINITE: Stored Hessian of source 2, layer 0 mlp.down_proj holds a non-finite value/);
      const other = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) }], { format: 'pt' });
      expect(await code(readStatsFile(blobSource(new Blob([other]), 'model.safetensors')))).toMatch(/BAD_ARGUMENT: model.safetensors is not a PolyPrune mixer statistics file: __metadata__.format is "pt"/);
    },
    specific(ctx) {
      it('refuses SparseGPT statistics beyond the GPU budget, with the sizes and what to do instead', async () => {
        const { engine, baseId, baseSummary, stats, en, de } = ctx();
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

      // ---- GPTQ from the same Hessians (gptqmix, issue 23) ----
      it('GPTQ from the SparseGPT collection: instant quantize without a forward pass, the record names the quantizer; Wanda statistics and bad settings refused', async () => {
        const { engine, baseId, stats, en, ppl } = ctx();
        const c0 = await engine.counters();
        const quantize = { bits: 4, groupSize: 32 };
        const r = await engine.mixPrune(stats.id, { method: 'gptq', weights: [0.6, 0.4], quantize });
        expect(await engine.counters()).toEqual(c0);
        expect(r.method).toBe('gptq');
        expect(r.model.name).toMatch(/-gptq-4bit-g32-mix$/);
        expect(r.record.quantization).toMatchObject({ method: 'gptq', bits: 4, group_size: 32 });
        expect(r.record.mix).toMatchObject({ mode: 'instant', weights: [0.6, 0.4] });
        expect(Number.isFinite(await ppl(r.model.id))).toBe(true);
        await engine.unloadModel(r.model.id);
        // (confirm of a GPTQ mix, compared by equal integer codes: test/experiment/studyInstant.test.ts)
        // refused with one line each: pruning settings or bad bits with GPTQ, bits with SparseGPT in the mixer, Wanda statistics
        expect(await code(engine.mixPrune(stats.id, { method: 'gptq', weights: [1, 0], quantize: { bits: 5 } }))).toMatch(/^BAD_ARGUMENT: GPTQ quantizes to 2, 3, 4 or 8 bits, got 5/);
        expect(await code(engine.mixPrune(stats.id, { method: 'gptq', weights: [1, 0], quantize: { bits: 4, groupSize: 0 } }))).toMatch(/^BAD_ARGUMENT: The GPTQ group size must be a positive number/);
        expect(await code(engine.mixPrune(stats.id, { method: 'gptq', weights: [1, 0] }))).toMatch(/^BAD_ARGUMENT: gptq quantizes: give the bits/);
        expect(await code(engine.mixPrune(stats.id, { method: 'gptq', weights: [1, 0], sparsity: 0.5, quantize }))).toMatch(/^BAD_ARGUMENT: gptq quantizes and prunes nothing/);
        expect(await code(engine.mixPrune(stats.id, { weights: [1, 0], sparsity: 0.5, quantize: { bits: 4 } }))).toMatch(/^BAD_ARGUMENT: The mixer's sparsegpt prunes and takes no bits/);
        const w = await engine.collectStats(baseId, { method: 'wanda', sources: [{ name: 'en', windows: { ...en, n: 2, ids: en.ids.subarray(0, 2 * en.seqlen) } }], nsamples: 2, seqlen: en.seqlen });
        expect(await code(engine.mixPrune(w.id, { method: 'gptq', weights: [1], quantize }))).toMatch(/^BAD_ARGUMENT: These statistics are Wanda statistics, which serve wanda; gptq needs GPTQ Hessians: collect them with method gptq\.$/);
        await engine.releaseStats(w.id);
      });
    },
  },

  gptq: { sharedWith: 'sparsegpt' },
};

const OWN = MIX_METHODS.filter((m) => !('sharedWith' in CASES[m]));

describe.each(OWN)('engine: calibration mixer (%s)', (method) => {
  const kase = CASES[method] as EngineMixCase;
  let engine: LocalEngine;
  let baseId: string;
  let baseSummary: ModelSummary;
  let stats: StatsSummary;
  let en: Windows;
  let de: Windows;
  let evalWin: Windows;
  const ppl = async (id: string) => (await engine.perplexity(id, { windows: evalWin, seqlen: evalWin.seqlen })).ppl;
  const ctx = (): Ctx => ({ engine, baseId, baseSummary, stats, en, de, evalWin, ppl });

  beforeAll(async () => {
    ({ engine, base: baseSummary } = await fixtureEngine());
    baseId = baseSummary.id;
    en = await fixtureWindows('calib-en.safetensors');
    de = await fixtureWindows('calib-de.safetensors');
    evalWin = await fixtureWindows('eval-en.safetensors');
  });

  afterAll(async () => {
    await engine?.dispose();
  });

  it('collects once, then every slider move re-masks the same model without a calibration forward; perplexity follows the mix', async () => {
    const c0 = await engine.counters();
    stats = await engine.collectStats(baseId, { method, sources: [{ name: 'en', language: 'en', windows: en }, { name: 'de', language: 'de', windows: de }], nsamples: 16, seqlen: en.seqlen });
    const c1 = await engine.counters();
    expect(c1).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + stats.layers });
    kase.collected(ctx());
    const ppls: number[] = [];
    let id = '';
    for (const w of kase.moves) {
      const r = await engine.mixPrune(stats.id, { weights: w, sparsity: 0.5 });
      if (id) expect(r.model.id).toBe(id);
      id = r.model.id;
      expect(Math.abs(r.overall - 0.5)).toBeLessThan(0.01);
      expect(r.record.mix).toMatchObject({ mode: 'instant', weights: w });
      kase.moved(ctx(), r, w);
      ppls.push(await ppl(id));
    }
    expect(ppls.every(Number.isFinite)).toBe(true);
    expect(await engine.counters()).toEqual(c1);
    // perplexity follows the mix: en-only and de-only masks score the English text differently
    expect(ppls[0]).not.toBe(ppls[ppls.length - 1]);
    await kase.afterMoves(ctx(), id);
  });

  it('confirm runs the exact sequential prune: equal to prune() on the same windows, layer 0 identical to the instant masks', async () => {
    const c0 = await engine.counters();
    const r = await engine.confirmMix(stats.id, { weights: [1, 0], sparsity: 0.5 });
    expect(await engine.counters()).toEqual({ calibrationRuns: c0.calibrationRuns + 1, calibrationForwards: c0.calibrationForwards + stats.layers });
    expect(r.windows).toEqual([16, 0]);
    // layer 0 sees the embeddings in both: the masks are identical; later layers may differ
    expect(r.overlap.iou[0].every((v) => v === 1)).toBe(true);
    expect(r.layerIou.slice(1).some((v) => v !== null && v < 1)).toBe(true);
    await kase.confirmed(ctx(), r);
    // the exact run is prune() on those windows
    const direct = await engine.prune(baseId, { method, sparsity: 0.5, calibration: { windows: en } });
    expect((await engine.maskOverlap(direct.model.id, r.exact.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    expect(await ppl(r.exact.model.id)).toBe(await ppl(direct.model.id));
    for (const m of [direct.model.id, r.exact.model.id]) await engine.unloadModel(m);
  });

  it('readStats -> file -> loadStats gives the same statistics again without a calibration pass; another model is refused', async () => {
    const data = await engine.readStats(stats.id);
    // the statistics file (polyprune mix --save-stats / --load-stats)
    const back = await readStatsFile(blobSource(new Blob(statsFileChunks(data)), 'stats.safetensors'));
    // through a structured clone, as the page's IndexedDB and the worker boundary see it
    const c0 = await engine.counters();
    const loaded = await engine.loadStats(baseId, structuredClone(data));
    expect(await engine.counters()).toEqual(c0);
    const a = await engine.mixPrune(stats.id, kase.roundTripMix);
    const b = await engine.mixPrune(loaded.id, kase.roundTripMix);
    expect(b.sparsity).toEqual(a.sparsity);
    expect((await engine.maskOverlap(a.model.id, b.model.id)).iou.flat().every((v) => v === 1)).toBe(true);
    expect(await ppl(b.model.id)).toBe(await ppl(a.model.id));
    expect(await engine.counters()).toEqual(c0);
    expect(await code(engine.loadStats(baseId, { ...data, modelSha256: 'f'.repeat(64) }))).toMatch(/BAD_ARGUMENT: These statistics were collected on another model/);
    await kase.roundTrip(ctx(), { data, back, loaded, a, b });
    await engine.releaseStats(loaded.id);
  });

  kase.specific(ctx);
});
