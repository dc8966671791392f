/**
 * The results view's pure parts: a stored experiment as the view model (task heatmaps named by task
 * and file, OWL's per-layer sparsity kept), cells counted one way for the panel and the resume offer,
 * ties, clean CSV numbers, and History names that tell different runs apart.
 */
import { describe, expect, it } from 'vitest';
import { planStudy, studyMarkdown, type StudyInputs, type StudySpec } from '../../src/experiment/study';
import type { ExperimentRecord } from '../../src/experiment/records';
import { StudyCheckpoint } from '../../src/experiment/checkpoint';
import { cellProgress, recordToRun, runTasks } from '../../src/ui/features/history/recordRun';
import { columnBest } from '../../src/ui/features/experiment/ExperimentHeatmap/ExperimentHeatmap';
import { experimentCsv, experimentTable } from '../../src/ui/features/experiment/actions';
import { distinctName, recordTitle } from '../../src/ui/features/history/names';
import { diffRuns } from '../../src/ui/features/history/HistoryPanel/CompareDiff';

const model = { source: 'models/polyprune-ml/', name: 'polyprune-ml', sha256: 'a'.repeat(64) };
const text = (s: string): string => `${s} `.repeat(50);
const inputs: StudyInputs = {
  sources: [
    { label: 'de', texts: [{ name: 'calib/de.txt', text: text('Ein Text'), language: 'de' }] },
    { label: 'en', texts: [{ name: 'calib/en.txt', text: text('A text'), language: 'en' }] },
  ],
  columns: ['de', 'en'].map((l) => ({
    language: l,
    text: { name: `eval/${l}.txt`, text: text(`held out ${l}`) },
    tasks: [
      { label: 'swapfar (clams)', fileName: `${l}.swapfar.txt`, request: { task: 'clams' as const, text: text(`swapfar ${l}`) } },
      { label: 'replace (clams)', fileName: `${l}.replace.txt`, request: { task: 'clams' as const, text: text(`replace ${l}`) } },
    ],
  })),
};
const spec: StudySpec = { method: 'wanda', sparsity: 0.5, nsamples: 2, seqlen: 8, seeds: [0], evalSeqlen: 8, taskLimit: 200 };

/** Fill every cell: perplexity 10 + r + k, accuracies 0.5 (so tasks tie). */
function filled(rec: ExperimentRecord): ExperimentRecord {
  const out = structuredClone(rec);
  out.cells.forEach((row, r) => row.forEach((c, k) => {
    c.ppl = c.ppl.map(() => 10 + r + k);
    c.bpb = c.bpb.map(() => 1 + r / 10);
    c.acc = c.acc.map((a) => a.map(() => 0.5));
    c.se = c.se.map((a) => a.map(() => 0.03));
  }));
  out.complete = true;
  return out;
}

describe('a stored experiment in the results view', () => {
  it('names each task heatmap by its task and files: two clams tasks are two titles', async () => {
    const run = recordToRun(filled(await planStudy(model, 'test', spec, inputs)));
    const tasks = runTasks(run);
    expect(tasks.map((t) => t.label)).toEqual(['swapfar (clams)', 'replace (clams)']);
    expect(tasks[1].files).toEqual([{ language: 'de', file: 'de.replace.txt' }, { language: 'en', file: 'en.replace.txt' }]);
    // every cell of both tasks is there under its own key
    expect(run.cells.row1.en.tasks[tasks[0].key]![0]!.acc).toBe(0.5);
    expect(run.cells.row1.en.tasks[tasks[1].key]![0]!.acc).toBe(0.5);
  });

  it('keeps the OWL profile and the sparsity each layer reached (the per-layer chart)', async () => {
    const rec = filled(await planStudy(model, 'test', { ...spec, profile: 'owl', owlM: 5, owlLambda: 0.08 }, inputs));
    rec.rows[1].layerSparsity = [[0.45, 0.55]];
    rec.rows[2].layerSparsity = [[0.5, 0.5]];
    rec.rows[1].recon = [[[0.1], [0.2]]];
    const run = recordToRun(rec);
    expect(run.settings.owl).toEqual({ m: 5, lambda: 0.08 });
    expect(run.layerTraces.map((t) => [t.rowId, t.layerSparsity])).toEqual([
      ['row1', [0.45, 0.55]],
      ['row2', [0.5, 0.5]],
    ]);
  });

  it('keeps OWL per-layer sparsity in the resume checkpoint, so a resumed run still has its chart', async () => {
    const cp = new StudyCheckpoint(await planStudy(model, 'test', { ...spec, profile: 'owl', owlM: 5, owlLambda: 0.08 }, inputs));
    const matrices = cp.record.matrices;
    for (const layer of [0, 1]) cp.apply({ kind: 'layerDone', layer, layers: 2, matrices, sparsity: matrices.map(() => 0.5), recon: matrices.map(() => 0.1), row: 1, seed: 0, layerSparsity: layer ? 0.5612345678 : 0.44 });
    cp.apply({ kind: 'rowDone', row: 1, seed: 0, sparsity: 0.5 });
    expect(cp.record.rows[1].layerSparsity).toEqual([[0.44, 0.561235]]);
    expect(recordToRun(cp.record).layerTraces[0].layerSparsity).toEqual([0.44, 0.561235]);
  });

  it('counts cells as the Experiment panel does: a cell is measured when all of its values are', async () => {
    const rec = await planStudy(model, 'test', spec, inputs);
    expect(cellProgress(recordToRun(rec))).toEqual({ done: 0, total: 6 });
    const c = rec.cells[0][0];
    c.ppl[0] = 10;
    c.bpb[0] = 1;
    expect(cellProgress(recordToRun(rec))).toEqual({ done: 0, total: 6 }); // its two tasks are missing
    c.acc = [[0.5], [0.6]];
    c.se = [[0.1], [0.1]];
    rec.cells[1][1].ppl[0] = 12;
    expect(cellProgress(recordToRun(rec))).toEqual({ done: 1, total: 6 });
    expect(cellProgress(recordToRun(filled(rec)))).toEqual({ done: 6, total: 6 });
  });
});

describe('ties and within error', () => {
  it('gives every tied best cell the star and none of them "within error"', () => {
    const r = columnBest([{ id: 'a', value: 0.5, err: 0.03 }, { id: 'b', value: 0.5, err: 0.03 }, { id: 'c', value: 0.48, err: 0.03 }, { id: 'd', value: 0.3, err: 0.03 }], true);
    expect([...r.best].sort()).toEqual(['a', 'b']);
    expect([...r.near]).toEqual(['c']);
    const ppl = columnBest([{ id: 'a', value: 10, err: null }, { id: 'b', value: 11, err: null }], false);
    expect([...columnBest([{ id: 'a', value: 10, err: null }, { id: 'b', value: 10, err: null }], false).best]).toEqual(['a', 'b']);
    expect([...ppl.best]).toEqual(['a']);
    expect(ppl.near.size).toBe(0);
  });
});

describe('the CLI markdown table', () => {
  it('puts every tied best cell in bold', async () => {
    const rec = filled(await planStudy(model, 'test', spec, inputs));
    const md = studyMarkdown(rec, { task: 0 }); // both rows score 0.5 everywhere: a tie in each column
    expect(md.split('\n').filter((l) => /^\| (de|en) \|/.test(l)).every((l) => (l.match(/\*\*/g) ?? []).length === 4)).toBe(true);
    expect(studyMarkdown(rec, 'ppl').match(/\*\*/g)).toHaveLength(4); // row de is lower in both columns: two bold cells
  });
});

describe('the table of every number', () => {
  it('prints clean numbers: no float noise in change_vs_dense', async () => {
    const rec = filled(await planStudy(model, 'test', spec, inputs));
    rec.cells[0][0].acc[0] = [0.4];
    rec.cells[1][0].acc[0] = [0.1];
    const run = recordToRun(rec);
    expect(0.1 - 0.4).not.toBe(-0.3);
    const row = experimentTable(run).find((x) => x.source === 'de' && x.language === 'de' && x.metric === 'swapfar (clams) accuracy');
    expect(row?.change).toBe(-0.3);
    const csv = experimentCsv(run);
    expect(csv).toContain('de,de,swapfar (clams) accuracy,0.1,0.03,1,-0.3,sequential');
    expect(csv).not.toMatch(/\d{9,}/);
  });
});

describe('History names', () => {
  it('gives two different runs two names, saying what differs; the same settings again get #2', async () => {
    const a = filled(await planStudy(model, 'test', spec, inputs));
    const b = filled(await planStudy(model, 'test', { ...spec, seeds: [0, 1], instant: true }, inputs));
    expect(recordTitle(a)).toBe('wanda 50 %: 2 × 2 on polyprune-ml');
    expect(recordTitle(b)).toBe('wanda 50 % (instant rows): 2 × 2 on polyprune-ml');
    const c = filled(await planStudy(model, 'test', { ...spec, nsamples: 4 }, { ...inputs, sources: [inputs.sources[0]] }));
    const base = 'Experiment on polyprune-ml';
    const first = distinctName(base, a, []);
    expect(first).toBe(base);
    const second = distinctName(base, c, [{ name: first, record: a }]);
    expect(second).toBe(`${base} (calibration de; 4 × 8 calibration tokens)`);
    const third = distinctName(base, a, [{ name: first, record: a }, { name: second, record: c }]);
    expect(third).not.toBe(first);
    expect(third).not.toBe(second);
    expect(distinctName(base, a, [{ name: first, record: a }])).toBe(`${base} #2`);
  });
});

describe('the difference of two runs', () => {
  it('subtracts cell by cell, adds the errors in quadrature and marks what is within them', async () => {
    const a = filled(await planStudy(model, 'test', spec, inputs));
    const b = structuredClone(a);
    b.rows[2].label = 'fr'; // a row only one run has is left out
    b.cells[1][0].acc[0] = [0.53]; // de row, de column, swapfar: +3 points, within √(0.03² + 0.03²) = 4.2
    b.cells[1][1].acc[0] = [0.6]; // +10 points: a real difference
    b.cells[0][1].ppl = [12.5];
    const ra = recordToRun(a);
    const rb = recordToRun(b);
    const key = runTasks(ra)[0].key;
    const d = diffRuns(ra, rb, { kind: 'task', key, label: 'swapfar (clams)' });
    expect(d.rows.map((r) => r.label)).toEqual(['dense', 'de']);
    expect(d.languages).toEqual(['de', 'en']);
    const near = d.cells[1][0]!;
    expect(near.diff).toBeCloseTo(0.03, 12);
    expect(near.err).toBeCloseTo(Math.sqrt(2) * 0.03, 12);
    expect(near.within).toBe(true);
    expect(d.cells[1][1]).toMatchObject({ within: false });
    expect(d.cells[1][1]!.diff).toBeCloseTo(0.1, 12);
    const ppl = diffRuns(ra, rb, { kind: 'ppl' });
    expect(ppl.cells[0][1]).toEqual({ a: 11, b: 12.5, diff: 1.5, err: null, within: false }); // one seed: no error estimate
  });
});
