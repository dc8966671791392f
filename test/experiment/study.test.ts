import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalEngine } from '../../src/engine/local';
import { runStudy, studyMarkdown, type StudyInputs, type StudySpec } from '../../src/experiment/study';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';
import type { ProgressEvent } from '../../src/common/progress';
import { SHARED, requireShared } from '../helpers/fixture';
import { useFixtureEngine } from '../helpers/engine';
import { handbookTexts } from '../helpers/handbook';

/**
 * runStudy on the stories260K fixture: 2 calibration sources (en, de) x 2 evaluation languages
 * (en with held-out text and an xwinograd task, de with text), two seeds.
 */
const { enText, deText, enEval, deEval } = handbookTexts();
const winograd = readFileSync(requireShared(path.join(SHARED, 'data/tasks/xwinograd/xwinograd.en.jsonl')), 'utf8');

const inputs: StudyInputs = {
  sources: [
    { label: 'en.txt', texts: [enText] },
    { label: 'de.txt', texts: [deText] },
  ],
  columns: [
    { language: 'en', text: enEval, tasks: [{ label: 'xwinograd_en', request: { task: 'xwinograd', text: winograd } }] },
    { language: 'de', text: deEval },
  ],
};
const spec: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 4, seqlen: 64, seeds: [0, 1], evalSeqlen: 64, evalMaxWindows: 2, taskLimit: 6 };

let engine: LocalEngine;
let base: string;
useFixtureEngine((f) => {
  engine = f.engine;
  base = f.base.id;
});

describe('runStudy', () => {
  let full: ExperimentRecord;
  let events: ProgressEvent[];

  it('measures every cell, reports each one as it comes, and returns a valid record', async () => {
    events = [];
    full = await runStudy(engine, base, spec, inputs, { onEvent: (e) => events.push(e) });
    expect(full.complete).toBe(true);
    expect(parseResultRecord(JSON.parse(JSON.stringify(full)))).toEqual(full);
    expect(full.rows.map((r) => r.label)).toEqual(['dense', 'en.txt', 'de.txt']);
    expect(full.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    // cells: dense once, pruned rows per seed; every value measured
    expect(full.cells[0][0].ppl).toHaveLength(1);
    expect(full.cells[1][0].ppl).toHaveLength(2);
    for (const row of full.cells) for (const c of row) for (const v of [...c.ppl, ...c.bpb, ...c.acc.flat(), ...c.se.flat()]) expect(Number.isFinite(v)).toBe(true);
    expect(full.cells[1][1].acc).toEqual([]);
    expect(full.columns[0].tasks[0].n).toBe(6);
    // the dense perplexity is the engine's own number
    const direct = await engine.perplexity(base, { text: inputs.columns[0].text!.text, seqlen: 64, maxWindows: 2 });
    expect(full.cells[0][0].ppl[0]).toBeCloseTo(direct.ppl, 4);
    // different seeds draw different windows: different models
    expect(full.cells[1][0].ppl[0]).not.toBe(full.cells[1][0].ppl[1]);
    expect(full.rows[1].sparsity.every((s) => Math.abs(s! - 0.5) < 0.01)).toBe(true);
    // reconstruction error per seed, layer and matrix; mask IoU between the two pruned rows (seed 0)
    expect(full.rows[1].recon[1]).toHaveLength(5);
    expect(full.rows[1].recon[1]![0].every((x) => x! > 0 && x! < 1)).toBe(true);
    expect(full.iou).toHaveLength(1);
    expect(full.iou[0]).toMatchObject({ a: 1, b: 2, s: 0 });
    expect(full.iou[0].v.flat().every((x) => x! > 0.3 && x! < 1)).toBe(true);
    // events: cells in order (dense, then seed 0 rows, then seed 1 rows), one per measured value
    const cells = events.filter((e): e is Extract<ProgressEvent, { kind: 'cell' }> => e.kind === 'cell');
    expect(cells.map((e) => `${e.seed}:${e.row}:${e.col}`)).toEqual(['0:0:0', '0:0:0', '0:0:1', '0:1:0', '0:1:0', '0:1:1', '0:2:0', '0:2:0', '0:2:1', '1:1:0', '1:1:0', '1:1:1', '1:2:0', '1:2:0', '1:2:1']);
    const last = cells.filter((e) => e.row === 1 && e.col === 0).at(-1)!;
    expect(last.summary.ppl!.n).toBe(2);
    expect(last.summary.ppl!.mean).toBeCloseTo((full.cells[1][0].ppl[0]! + full.cells[1][0].ppl[1]!) / 2, 9);
    expect(last.summary.ppl!.sd).toBeGreaterThan(0);
    const steps = events.filter((e): e is Extract<ProgressEvent, { kind: 'step' }> => e.kind === 'step');
    expect(steps.map((e) => e.done)).toEqual(steps.map((_, i) => i + 1));
    expect(steps.every((e) => e.total === steps.length)).toBe(true);
    expect(steps.at(-1)!.etaMs).toBe(0);
    const layers = events.filter((e): e is Extract<ProgressEvent, { kind: 'layerDone' }> => e.kind === 'layerDone');
    expect(layers).toHaveLength(5 * 4);
    expect(layers[0]).toMatchObject({ row: 1, seed: 0, layer: 0 });
    expect(events.some((e) => e.kind === 'maskOverlap')).toBe(true);
    // only the base model stays loaded
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
    const md = studyMarkdown(full, 'ppl');
    expect(md.split('\n')).toHaveLength(5);
    expect(md).toMatch(/± /);
    expect(studyMarkdown(full, { task: 0 })).toMatch(/en \(xwinograd_en\)/);
  }, 600_000);

  it('cancelled in the middle keeps what it measured; resuming finishes with the same numbers', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    const part = await runStudy(engine, base, spec, inputs, {
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.kind === 'cell' && ++seen === 5) ctrl.abort();
      },
    });
    expect(part.complete).toBe(false);
    expect(part.note).toMatch(/Cancelled/);
    expect(parseResultRecord(JSON.parse(JSON.stringify(part)))).toEqual(part);
    expect(part.cells[0][0].ppl[0]).toBe(full.cells[0][0].ppl[0]);
    expect(part.cells[2][1].ppl[1]).toBeNull();
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
    const measuredBefore = part.cells.flat().flatMap((c) => c.ppl).filter((x) => x !== null).length;
    expect(measuredBefore).toBeGreaterThanOrEqual(3);

    const cells: string[] = [];
    const resumed = await runStudy(engine, base, spec, inputs, { resume: part, onEvent: (e) => e.kind === 'cell' && cells.push(`${e.seed}:${e.row}:${e.col}`) });
    expect(resumed.complete).toBe(true);
    expect(cells).not.toContain('0:0:0');
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 2; c++) {
        const a = resumed.cells[r][c];
        const b = full.cells[r][c];
        a.ppl.forEach((v, s) => expect(v).toBeCloseTo(b.ppl[s]!, 3));
        a.acc.forEach((v, t) => v.forEach((x, s) => expect(x).toBe(b.acc[t][s])));
      }
    await expect(runStudy(engine, base, { ...spec, seeds: [0, 2] }, inputs, { resume: part })).rejects.toThrow(/Cannot resume from that result: its settings differ/);
  }, 600_000);

  it('a row finished before the interruption is pruned again for its mask: the resumed IoU equals the uninterrupted one', async () => {
    const ctrl = new AbortController();
    const part = await runStudy(engine, base, { ...spec, seeds: [0] }, inputs, {
      signal: ctrl.signal,
      onEvent: (e) => {
        // Row 1 (seed 0) is pruned and measured; stop when row 2 starts measuring.
        if (e.kind === 'cell' && e.row === 2) ctrl.abort();
      },
    });
    expect(part.complete).toBe(false);
    expect(part.rows[1].sparsity[0]).not.toBeNull();
    expect(part.iou).toEqual([]);
    const steps: string[] = [];
    const layerRows: number[] = [];
    const resumed = await runStudy(engine, base, { ...spec, seeds: [0] }, inputs, {
      resume: part,
      onEvent: (e) => {
        if (e.kind === 'step') steps.push(e.message);
        if (e.kind === 'layerDone') layerRows.push(e.row!);
      },
    });
    expect(resumed.complete).toBe(true);
    expect(steps.some((m) => /pruned 'en.txt' again for its mask/.test(m))).toBe(true);
    // The re-prune reports no layers (its reconstruction errors are in the record already).
    expect(new Set(layerRows)).toEqual(new Set([2]));
    expect(resumed.rows[1].recon).toEqual(part.rows[1].recon);
    expect(resumed.iou).toHaveLength(1);
    expect(resumed.iou[0]).toMatchObject({ a: 1, b: 2, s: 0 });
    // full ran seeds [0, 1]; its overlap is of seed 0, the same pruned models.
    expect(resumed.iou[0].v).toEqual(full.iou[0].v);
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
  }, 600_000);

  it('refuses bad experiments before running anything', async () => {
    const bad = async (s: Partial<StudySpec>, i: Partial<StudyInputs> = {}) => runStudy(engine, base, { ...spec, ...s } as StudySpec, { ...inputs, ...i });
    await expect(bad({ sparsity: undefined })).rejects.toThrow(/there is no default/);
    await expect(bad({ sparsity: 1 })).rejects.toThrow(/strictly between 0 and 1/);
    await expect(bad({ nm: { n: 1, m: 4 } })).rejects.toThrow(/contradicts N:M 1:4/);
    await expect(bad({ method: 'obs' as never })).rejects.toThrow(/Unknown pruning method 'obs'/);
    await expect(bad({ seeds: [1, 1] })).rejects.toThrow(/seed list lists '1' twice/);
    await expect(bad({}, { sources: [inputs.sources[0], inputs.sources[0]] })).rejects.toThrow(/calibration sources lists 'en.txt' twice/);
    await expect(bad({}, { sources: [inputs.sources[0], { ...inputs.sources[0], label: 'copy' }] })).rejects.toThrow(/'en.txt' and 'copy' have the same text/);
    await expect(bad({}, { columns: [inputs.columns[0], inputs.columns[0]] })).rejects.toThrow(/evaluation languages lists 'en' twice/);
    await expect(bad({}, { columns: [{ language: 'fr' }] })).rejects.toThrow(/'fr' has neither held-out text nor a task/);
    await expect(bad({}, { sources: [{ label: 'e', texts: [{ name: 'e.txt', text: '' }] }] })).rejects.toThrow(/'e.txt' is empty/);
    expect((await engine.listModels()).map((m) => m.id)).toEqual([base]);
  }, 60_000);
});
