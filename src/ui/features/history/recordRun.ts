/**
 * An experiment record as the experiment panel's view model (ExperimentRun), so a stored or shared
 * result is drawn by the same heatmaps as a live run: same rows, columns, per-seed values.
 */
import type { ExperimentRecord } from '../../../experiment/records';
import type { ExpCell, ExperimentRun, ExpTask } from '../experiment/experimentSlice';

const nums = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null);

/**
 * One heatmap per task name (the label the run gave it: "UDHR", "swapfar (clams)", a file name or an
 * lm-eval name) across the columns that have it; two tasks of one format are two heatmaps.
 */
const taskKey = (task: string, label: string): string => `${task}:${label}`;
const taskLabel = (task: string, label: string): string => (task === 'udhr' && label.toLowerCase() === 'udhr' ? 'UDHR' : label);

export function rowId(r: number): string {
  return r === 0 ? 'dense' : `row${r}`;
}

export function recordToRun(rec: ExperimentRecord, modelName = rec.model.name): ExperimentRun {
  const s = rec.spec;
  const langs = rec.columns.map((c) => c.language);
  const tasks: Record<string, ExpTask[]> = {};
  rec.columns.forEach((c) => (tasks[c.language] = c.tasks.map((t) => ({ key: taskKey(t.task, t.label), label: taskLabel(t.task, t.label), task: t.task, file: t.file.name }))));
  const cells: ExperimentRun['cells'] = {};
  rec.rows.forEach((row, r) => {
    const id = rowId(r);
    cells[id] = {};
    rec.columns.forEach((col, k) => {
      const c = rec.cells[r][k];
      const cell: ExpCell = { ppl: [...c.ppl], bpb: [...c.bpb], tasks: {} };
      col.tasks.forEach((t, j) => {
        const scores = c.acc[j].map((acc, si) => (acc === null ? null : { acc, stderr: c.se[j][si], n: t.n ?? 0 }));
        if (scores.some((x) => x !== null)) cell.tasks[taskKey(t.task, t.label)] = scores;
      });
      if (cell.ppl.some((x) => x !== null) || Object.keys(cell.tasks).length) cells[id][col.language] = cell;
    });
  });
  const languageOf = (r: number): string | null => {
    const ls = [...new Set(rec.rows[r].sources.map((x) => x.language).filter((x): x is string => !!x))];
    return ls.length === 1 ? ls[0] : null;
  };
  return {
    id: -1,
    modelName,
    settings: {
      method: s.method as ExperimentRun['settings']['method'],
      pattern: s.nm ? { kind: 'nm', n: s.nm.n, m: s.nm.m } : { kind: 'unstructured', sparsity: s.sparsity },
      nsamples: s.nsamples,
      seqlen: s.seqlen,
      evalWindows: s.evalMaxWindows ?? 0,
      seeds: s.seeds,
      evalLanguages: langs,
      taskLimit: s.taskLimit,
      ...(s.profile === 'owl' && s.owl ? { owl: { m: s.owl.m, lambda: s.owl.lambda } } : {}),
      ...(s.instant ? { instant: true } : {}),
      ...(s.confirm ? { confirm: true } : {}),
      ...(s.variants ? { variants: s.variants.map((v) => ({ method: v.method, ...(v.nm ? { nm: v.nm } : v.sparsity > 0 ? { sparsity: v.sparsity } : {}), ...(v.quantize ? { quantize: v.quantize } : {}) })) } : {}),
    },
    rows: rec.rows.map((row, r) => ({
      id: rowId(r),
      label: r === 0 ? 'dense' : row.label,
      language: r === 0 ? null : languageOf(r),
      sparsity: nums(row.sparsity),
      ...(row.size ? { size: row.size } : {}),
      ...(row.mix ? { mode: row.mix.mode === 'instant' ? ('instant' as const) : ('exact' as const), ...(row.mix.updateMs ? { updateMs: nums(row.mix.updateMs) } : {}), ...(row.mix.layerIou ? { layerIou: row.mix.layerIou.filter((x): x is (number | null)[] => x !== null) } : {}), ...(row.mix.layerCodes ? { layerCodes: row.mix.layerCodes.filter((x): x is (number | null)[] => x !== null) } : {}) } : {}),
    })),
    tasks,
    cells,
    textless: rec.columns.filter((c) => !c.text).map((c) => c.language),
    status: rec.complete ? 'done' : 'cancelled',
    current: null,
    layerTraces: rec.rows.flatMap((row, r) =>
      row.recon.flatMap((recon, seed) => {
        // OWL: the sparsity each layer reached (the per-layer chart), with or without reconstruction error
        const ls = row.layerSparsity?.[seed]?.filter((x): x is number => x !== null);
        if (!recon && !ls?.length) return [];
        const layers = recon?.length ?? ls!.length;
        return [{ rowId: rowId(r), seed, layers, finishedAt: Array.from({ length: layers }, () => 0), matrices: rec.matrices, recon: recon ?? Array.from({ length: layers }, () => rec.matrices.map(() => null)), ...(ls?.length ? { layerSparsity: ls } : {}) }];
      }),
    ),
    masks: rec.iou.map((m) => ({ a: rowId(m.a), b: rowId(m.b), seed: m.s, matrices: rec.matrices, iou: m.v })),
    record: rec,
    startedAt: Date.parse(rec.created) || 0,
    elapsedMs: 0,
  };
}

/** The task heatmaps of a run: key, label and the file of each language, in first-seen order. */
export function runTasks(run: Pick<ExperimentRun, 'tasks' | 'settings'>): { key: string; label: string; files: { language: string; file: string }[] }[] {
  const out = new Map<string, { key: string; label: string; files: { language: string; file: string }[] }>();
  for (const l of run.settings.evalLanguages) {
    for (const t of run.tasks[l] ?? []) {
      const e = out.get(t.key) ?? { key: t.key, label: t.label, files: [] };
      if (t.file) e.files.push({ language: l, file: t.file });
      out.set(t.key, e);
    }
  }
  return [...out.values()];
}

/**
 * Cells measured of all cells (rows x evaluation languages): a cell counts once every value of it is
 * measured (each seed's perplexity where the column has held-out text, each task's accuracy). The
 * Experiment panel's status line and the resume offer both count this way.
 */
export function cellProgress(run: Pick<ExperimentRun, 'rows' | 'cells' | 'tasks' | 'settings'> & { textless?: string[] }): { done: number; total: number } {
  let done = 0;
  let total = 0;
  for (const row of run.rows) {
    const seeds = row.id === 'dense' ? 1 : run.settings.seeds.length;
    for (const l of run.settings.evalLanguages) {
      total++;
      const c = run.cells[row.id]?.[l];
      if (!c) continue;
      const has = (xs: readonly unknown[] | undefined): boolean => Array.from({ length: seeds }, (_, s) => xs?.[s]).every((x) => x !== null && x !== undefined);
      const ppl = run.textless?.includes(l) || has(c.ppl);
      if (ppl && (run.tasks[l] ?? []).every((t) => has(c.tasks[t.key]))) done++;
    }
  }
  return { done, total };
}
