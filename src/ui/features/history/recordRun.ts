/**
 * An experiment record as the experiment panel's view model (ExperimentRun), so a stored or shared
 * result is drawn by the same heatmaps as a live run: same rows, columns, per-seed values.
 */
import type { ExperimentRecord } from '../../../experiment/records';
import type { ExpCell, ExperimentRun, ExpTask } from '../experiment/experimentSlice';

const nums = (xs: readonly (number | null)[]): number[] => xs.filter((x): x is number => x !== null);

/** One heatmap per task slot: the j-th task of every column, by format. */
const taskKey = (task: string, j: number): string => `${task}:${j}`;
const taskLabel = (task: string): string => (task === 'udhr' ? 'UDHR' : task);

export function rowId(r: number): string {
  return r === 0 ? 'dense' : `row${r}`;
}

export function recordToRun(rec: ExperimentRecord, modelName = rec.model.name): ExperimentRun {
  const s = rec.spec;
  const langs = rec.columns.map((c) => c.language);
  const tasks: Record<string, ExpTask[]> = {};
  rec.columns.forEach((c) => (tasks[c.language] = c.tasks.map((t, j) => ({ key: taskKey(t.task, j), label: taskLabel(t.task), task: t.task }))));
  const cells: ExperimentRun['cells'] = {};
  rec.rows.forEach((row, r) => {
    const id = rowId(r);
    cells[id] = {};
    rec.columns.forEach((col, k) => {
      const c = rec.cells[r][k];
      const cell: ExpCell = { ppl: [...c.ppl], bpb: [...c.bpb], tasks: {} };
      col.tasks.forEach((t, j) => {
        const scores = c.acc[j].map((acc, si) => (acc === null ? null : { acc, stderr: c.se[j][si], n: t.n ?? 0 }));
        if (scores.some((x) => x !== null)) cell.tasks[taskKey(t.task, j)] = scores;
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
      ...(s.instant ? { instant: true } : {}),
      ...(s.confirm ? { confirm: true } : {}),
    },
    rows: rec.rows.map((row, r) => ({
      id: rowId(r),
      label: r === 0 ? 'dense' : row.label,
      language: r === 0 ? null : languageOf(r),
      sparsity: nums(row.sparsity),
      ...(row.mix ? { mode: row.mix.mode === 'instant' ? ('instant' as const) : ('exact' as const), ...(row.mix.updateMs ? { updateMs: nums(row.mix.updateMs) } : {}), ...(row.mix.layerIou ? { layerIou: row.mix.layerIou.filter((x): x is (number | null)[] => x !== null) } : {}) } : {}),
    })),
    tasks,
    cells,
    status: rec.complete ? 'done' : 'cancelled',
    current: null,
    layerTraces: rec.rows.flatMap((row, r) =>
      row.recon.flatMap((recon, seed) => (recon ? [{ rowId: rowId(r), seed, layers: recon.length, finishedAt: recon.map(() => 0), matrices: rec.matrices, recon }] : [])),
    ),
    masks: rec.iou.map((m) => ({ a: rowId(m.a), b: rowId(m.b), seed: m.s, matrices: rec.matrices, iou: m.v })),
    record: rec,
    startedAt: Date.parse(rec.created) || 0,
    elapsedMs: 0,
  };
}

/** Task columns of a record: key and label of each task (for the task heatmaps). */
export function recordTasks(rec: ExperimentRecord): { key: string; label: string }[] {
  const out = new Map<string, string>();
  rec.columns.forEach((c) => c.tasks.forEach((t, j) => out.set(taskKey(t.task, j), taskLabel(t.task))));
  return [...out].map(([key, label]) => ({ key, label }));
}
