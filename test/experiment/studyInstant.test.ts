import { describe, it, expect } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import { runStudy, type StudyInputs, type StudySpec } from '../../src/experiment/study';
import { StudyCheckpoint } from '../../src/experiment/checkpoint';
import { parseResultRecord, sig, type ExperimentRecord } from '../../src/experiment/records';
import type { ProgressEvent } from '../../src/common/progress';
import type { MixRequest, MixResult, StatsSummary } from '../../src/engine/api';
import { MIX_METHODS, type MixMethod } from '../../src/prune/methods';
import { useFixtureEngine } from '../helpers/engine';
import { handbookTexts } from '../helpers/handbook';

/**
 * Instant grid rows (spec.instant, docs/mixer.md "The grid") on the stories260K fixture: two
 * calibration texts (en, de) and a 2:1 mix of them, two evaluation languages.
 */
const { enText, deText, enEval, deEval } = handbookTexts();
const inputs: StudyInputs = {
  sources: [
    { label: 'en.txt', texts: [enText] },
    { label: 'de.txt', texts: [deText] },
    { label: 'en*2+de', texts: [{ ...enText, weight: 2 }, { ...deText, weight: 1 }] },
  ],
  columns: [
    { language: 'en', text: enEval },
    { language: 'de', text: deEval },
  ],
};
const spec: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 4, seqlen: 64, seeds: [0], evalSeqlen: 64, evalMaxWindows: 2, instant: true };
const evalReq = (k: number) => ({ text: inputs.columns[k].text!.text, seqlen: 64, maxWindows: 2 });

let engine: LocalEngine;
let base: string;
useFixtureEngine((f) => {
  engine = f.engine;
  base = f.base.id;
});

describe('runStudy with instant rows', () => {
  let full: ExperimentRecord;

  it('collects the statistics in ONE calibration pass: three instant rows, their overlaps, one collection step', async () => {
    const before = await engine.counters();
    const events: ProgressEvent[] = [];
    full = await runStudy(engine, base, spec, inputs, { onEvent: (e) => events.push(e) });
    const after = await engine.counters();
    expect(full.complete, full.note).toBe(true);
    expect(after.calibrationRuns - before.calibrationRuns).toBe(1);
    expect(after.calibrationForwards - before.calibrationForwards).toBe(5); // one pass over the 5 decoder layers
    expect(parseResultRecord(JSON.parse(JSON.stringify(full)))).toEqual(full);
    expect(full.spec.instant).toBe(true);
    expect(full.rows.map((r) => [r.label, r.mix?.mode, r.mix?.weights, r.mix?.windows])).toEqual([
      ['dense', undefined, undefined, undefined],
      ['en.txt', 'instant', [1], [4]],
      ['de.txt', 'instant', [1], [4]],
      ['en*2+de', 'instant', [2 / 3, 1 / 3], [4, 4]],
    ]);
    for (const row of full.rows.slice(1)) {
      expect(row.mix!.updateMs![0]).toBeGreaterThan(0);
      expect(Math.abs(row.sparsity[0]! - 0.5)).toBeLessThan(0.01);
      expect(row.recon).toEqual([null]);
    }
    for (const row of full.cells) for (const c of row) expect(c.ppl[0]).toBeGreaterThan(1);
    // the three rows are three different models
    expect(new Set(full.cells.slice(1).map((r) => r[0].ppl[0])).size).toBe(3);
    // mask overlaps between the three instant rows (their masks were kept)
    expect(full.iou.map((m) => [m.a, m.b])).toEqual([
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    // the mix is closer to English (weight 2/3) than German calibration is
    const meanIou = (a: number, b: number) => {
      const v = full.iou.find((m) => m.a === a && m.b === b)!.v.flat() as number[];
      return v.reduce((x, y) => x + y, 0) / v.length;
    };
    expect(meanIou(1, 3)).toBeGreaterThan(meanIou(2, 3));
    // one collection step, then the rows: no sequential prune, no layerDone events
    const steps = events.filter((e): e is Extract<ProgressEvent, { kind: 'step' }> => e.kind === 'step');
    expect(steps[0].message).toMatch(/collected the statistics of 2 calibration texts in one pass \(seed 0\)/);
    expect(steps.map((e) => e.done)).toEqual(steps.map((_, i) => i + 1));
    expect(steps.every((e) => e.total === steps.length)).toBe(true);
    expect(events.some((e) => e.kind === 'layerDone')).toBe(false);
    expect(events.filter((e) => e.kind === 'rowDone').every((e) => e.kind === 'rowDone' && e.updateMs! > 0)).toBe(true);
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);

  }, 600_000);

  /**
   * Every mixer method's grid row of one source equals the mixer on that source alone with weight 1
   * (its own collection). A new mixer method needs its entry in `rows` (the compiler asks for it).
   */
  const rows: { readonly [K in MixMethod]: { record(): Promise<ExperimentRecord>; check(rec: ExperimentRecord, st: StatsSummary, one: MixResult): Promise<void>; /** the row's mix request besides the weights (default: 50 %) */ req?: Omit<MixRequest, 'weights'> } } = {
    // Wanda: the first test's grid
    wanda: {
      record: async () => full,
      async check(rec, _st, one) {
        expect(sig((await engine.perplexity(one.model.id, evalReq(1))).ppl, 6)).toBe(rec.cells[1][1].ppl[0]);
        // and the mix row equals mixPrune with the mix's weights
        const st2 = await engine.collectStats(base, { method: 'wanda', sources: [{ name: 'en', text: enText.text }, { name: 'de', text: deText.text }], nsamples: 4, seqlen: 64, seed: 0 });
        const mixed = await engine.mixPrune(st2.id, { weights: [2, 1], sparsity: 0.5 });
        expect(sig((await engine.perplexity(mixed.model.id, evalReq(1))).ppl, 6)).toBe(rec.cells[3][1].ppl[0]);
        await engine.unloadModel(mixed.model.id);
        await engine.releaseStats(st2.id);
      },
    },
    // SparseGPT: a grid of that one source; one pass keeps the per-source Hessians
    sparsegpt: {
      async record() {
        const one: StudyInputs = { sources: [inputs.sources[0]], columns: [inputs.columns[0]] };
        const before = await engine.counters();
        const rec = await runStudy(engine, base, { ...spec, method: 'sparsegpt' }, one);
        const after = await engine.counters();
        expect(rec.complete, rec.note).toBe(true);
        expect(after.calibrationRuns - before.calibrationRuns).toBe(1);
        expect(rec.rows[1].mix).toMatchObject({ mode: 'instant', weights: [1], windows: [4] });
        return rec;
      },
      async check(rec, st) {
        expect(st.method).toBe('sparsegpt');
        // SparseGPT also updates the kept weights: not the Wanda row's model
        expect(rec.cells[1][0].ppl[0]).not.toBe(full.cells[1][0].ppl[0]);
      },
    },
    // ---- GPTQ (gptqmix, issue 23): 4-bit instant rows from the per-source Hessians, with confirm ----
    gptq: {
      req: { method: 'gptq', quantize: { bits: 4 } },
      async record() {
        const one: StudyInputs = { sources: [inputs.sources[0]], columns: [inputs.columns[0]] };
        const before = await engine.counters();
        const rec = await runStudy(engine, base, { ...spec, variants: [{ method: 'gptq', quantize: { bits: 4 } }], confirm: true }, one);
        const after = await engine.counters();
        expect(rec.complete, rec.note).toBe(true);
        expect(parseResultRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
        // one collection pass + the exact sequential quantize of the confirm row
        expect(after.calibrationRuns - before.calibrationRuns).toBe(2);
        expect(rec.rows.map((r) => [r.label, r.mix?.mode])).toEqual([
          ['dense', undefined],
          ['en.txt', 'instant'],
          ['en.txt (exact)', 'confirm'],
        ]);
        // confirm of a quantizer: the share of equal integer codes per layer, no mask IoU; layer 0 sees the embeddings in both
        const codes = rec.rows[2].mix!.layerCodes![0]!;
        expect(rec.rows[2].mix!.layerIou).toBeUndefined();
        expect(codes).toHaveLength(5);
        expect(codes[0]).toBe(1);
        expect(codes.every((v) => v! > 0.5 && v! <= 1)).toBe(true);
        expect(rec.iou).toEqual([]);
        return rec;
      },
      async check(rec, st, one) {
        expect(st.method).toBe('gptq');
        expect(one.record.quantization).toMatchObject({ bits: 4, group_size: 128 });
        // the exact row is another model than the instant one (its later layers see quantized inputs)
        expect(rec.cells[2][0].ppl[0]).not.toBe(rec.cells[1][0].ppl[0]);
      },
    },
  };

  it.each(MIX_METHODS)('%s: a single-source row equals collectStats + mixPrune with weight 1 on that source', async (method) => {
    const rec = await rows[method].record();
    const st = await engine.collectStats(base, { method, sources: [{ name: 'en', text: enText.text, language: 'en' }], nsamples: 4, seqlen: 64, seed: 0 });
    const one = await engine.mixPrune(st.id, { weights: [1], ...(rows[method].req ?? { sparsity: 0.5 }) });
    expect(sig(one.overall, 6)).toBe(rec.rows[1].sparsity[0]);
    expect(sig((await engine.perplexity(one.model.id, evalReq(0))).ppl, 6)).toBe(rec.cells[1][0].ppl[0]);
    await rows[method].check(rec, st, one);
    await engine.unloadModel(one.model.id);
    await engine.releaseStats(st.id);
    expect((await engine.listModels()).map((x) => x.id)).toEqual([base]);
  }, 600_000);

  it('interrupted, it resumes without losing finished rows: the statistics are collected again (one pass), the record equals the uninterrupted one', async () => {
    const ctrl = new AbortController();
    const cp = { current: null as StudyCheckpoint | null };
    const part = await runStudy(engine, base, spec, inputs, {
      signal: ctrl.signal,
      onEvent: (e) => {
        // row 1 is derived and measured; stop when row 2 starts measuring
        if (e.kind === 'cell' && e.row === 2) ctrl.abort();
      },
    });
    expect(part.complete).toBe(false);
    expect(part.note).toMatch(/Cancelled/);
    expect(part.cells[1][1].ppl[0]).toBe(full.cells[1][1].ppl[0]);
    expect(part.rows[1].mix!.updateMs![0]).toBeGreaterThan(0);
    expect(part.cells[3][0].ppl[0]).toBeNull();
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);

    const before = await engine.counters();
    const steps: string[] = [];
    const cells: string[] = [];
    cp.current = new StudyCheckpoint(part);
    const resumed = await runStudy(engine, base, spec, inputs, {
      resume: part,
      onEvent: (e) => {
        cp.current!.apply(e);
        if (e.kind === 'step') steps.push(e.message);
        if (e.kind === 'cell') cells.push(`${e.row}:${e.col}`);
      },
    });
    expect(resumed.complete, resumed.note).toBe(true);
    expect((await engine.counters()).calibrationRuns - before.calibrationRuns).toBe(1);
    expect(steps[0]).toMatch(/collected the statistics/);
    // row 1 keeps its cells; it is derived again only for its mask
    expect(steps.some((m) => /masks of 'en.txt' again for its mask/.test(m))).toBe(true);
    expect(cells.some((c) => c.startsWith('1:'))).toBe(false);
    expect(resumed.rows[1].mix).toEqual(part.rows[1].mix);
    expect(resumed.cells).toEqual(full.cells);
    expect(resumed.iou).toEqual(full.iou);
    expect(resumed.rows.map((r) => r.sparsity)).toEqual(full.rows.map((r) => r.sparsity));
    // the page's checkpoint, rebuilt from the events, carries the rows' update times too
    expect(cp.current.record.rows[3].mix!.updateMs![0]).toBe(resumed.rows[3].mix!.updateMs![0]);
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
  }, 600_000);

  it('confirm adds the exact sequential prune of each row, with the per-layer IoU; for one source it is the ordinary prune', async () => {
    const two = { ...inputs, sources: inputs.sources.slice(0, 1) };
    const rec = await runStudy(engine, base, { ...spec, confirm: true }, two);
    expect(rec.complete, rec.note).toBe(true);
    expect(parseResultRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    expect(rec.rows.map((r) => [r.label, r.mix?.mode, r.mix?.windows])).toEqual([
      ['dense', undefined, undefined],
      ['en.txt', 'instant', [4]],
      ['en.txt (exact)', 'confirm', [4]],
    ]);
    const iou = rec.rows[2].mix!.layerIou![0]!;
    expect(iou).toHaveLength(5);
    // layer 0 sees the embeddings in both: the same masks; later layers differ a little
    expect(iou[0]).toBe(1);
    expect(iou.every((v) => v! > 0.5 && v! <= 1)).toBe(true);
    // the instant row is the same as without confirm
    expect(rec.cells[1]).toEqual(full.cells[1]);
    // the exact row is prune() on the same windows: the same perplexity
    const exact = await engine.prune(base, { method: 'wanda', sparsity: 0.5, calibration: { texts: [enText], nsamples: 4, seqlen: 64, seed: 0 } });
    expect(sig((await engine.perplexity(exact.model.id, evalReq(0))).ppl, 6)).toBe(rec.cells[2][0].ppl[0]);
    expect(sig(exact.report.overall, 6)).toBe(rec.rows[2].sparsity[0]);
    await engine.unloadModel(exact.model.id);
    // the mask overlap instant vs exact is measured like any pair of rows; its layer means are the row's IoU
    expect(rec.iou).toHaveLength(1);
    const layerMean = rec.iou[0].v.map((l) => (l as number[]).reduce((a, b) => a + b, 0) / l.length);
    layerMean.forEach((v, i) => expect(v).toBeCloseTo(iou[i]!, 3));
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
  }, 600_000);

  it('refuses what the instant mode cannot do, before anything runs', async () => {
    const events: ProgressEvent[] = [];
    const bad = (s: Partial<StudySpec>) => runStudy(engine, base, { ...spec, ...s } as StudySpec, inputs, { onEvent: (e) => events.push(e) });
    await expect(bad({ method: 'wanda-lang' })).rejects.toThrow(/wanda-lang's score needs their spread/);
    await expect(bad({ method: 'magnitude' })).rejects.toThrow(/no statistics to mix/);
    await expect(bad({ profile: 'owl' })).rejects.toThrow(/OWL layer-wise sparsity is not supported there/);
    await expect(bad({ instant: false, confirm: true })).rejects.toThrow(/needs the instant mode too/);
    // a text shorter than one window (more windows than it holds end to end only overlap, as in wanda)
    const tiny: StudyInputs = { ...inputs, sources: [{ label: 'tiny', texts: [{ name: 'tiny.txt', text: 'Once upon a time.', language: 'en' }] }] };
    const badTiny = (s: Partial<StudySpec>) => runStudy(engine, base, { ...spec, ...s } as StudySpec, tiny, { onEvent: (e) => events.push(e) });
    await expect(badTiny({})).rejects.toThrow(/too short/);
    // a method collectStats refuses is refused with its message, before anything runs
    await expect(badTiny({ method: 'sparsegpt' })).rejects.toThrow(/too short/);
    expect(events.filter((e) => e.kind === 'cell' || e.kind === 'step')).toEqual([]);
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
  }, 120_000);

});
