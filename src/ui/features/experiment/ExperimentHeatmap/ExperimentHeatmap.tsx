import type { ExperimentRun } from '../../../store';
import { mean, spread } from '../../../store/actions';
import { fmtNum } from '../../../format';
import './ExperimentHeatmap.css';

/** What one heatmap shows: perplexity, bits per byte, or one task's accuracy. */
export type HeatMetric = { kind: 'ppl' } | { kind: 'bpb' } | { kind: 'task'; key: string; label: string };

/**
 * Colour of a cell from how much worse than dense it is (`badness` >= 0, log ratio for perplexity,
 * accuracy points lost for tasks) relative to the largest in the table; green when better than dense.
 */
export function heatColor(badness: number, maxBadness: number): { background: string; color: string } {
  if (!Number.isFinite(badness)) return { background: 'var(--panel-alt)', color: 'var(--text)' };
  if (badness < 0) return { background: 'hsl(140 55% 88%)', color: 'var(--text)' };
  const t = maxBadness > 0 ? Math.min(1, badness / maxBadness) : 0;
  const lightness = 96 - 44 * t;
  return { background: `hsl(${48 - 44 * t} 85% ${lightness}%)`, color: lightness < 64 ? '#fff' : 'var(--text)' };
}

interface CellStat {
  value: number;
  /** Standard error (task accuracy) or spread over seeds; null when unknown. */
  err: number | null;
  seeds: number;
}

/** The statistic of one cell for a metric, or null while it is pending (or has no such task). */
export function cellStat(run: ExperimentRun, rowId: string, language: string, metric: HeatMetric): CellStat | null {
  const c = run.cells[rowId]?.[language];
  if (!c) return null;
  if (metric.kind === 'task') {
    const scores = (c.tasks[metric.key] ?? []).filter((x): x is NonNullable<typeof x> => !!x);
    if (!scores.length) return null;
    const accs = scores.map((s) => s.acc);
    return { value: mean(accs)!, err: scores.length > 1 ? spread(accs) : scores[0].stderr, seeds: scores.length };
  }
  const xs = metric.kind === 'ppl' ? c.ppl : c.bpb;
  const v = mean(xs);
  return v === null ? null : { value: v, err: spread(xs), seeds: xs.length };
}

/**
 * The best cells of one column and those within error of the best: every row with the best value is
 * best (ties share the star); a row is "within error" when its distance to the best value is below
 * the larger standard error (or spread) of the two. A best row is never also "within error".
 */
export function columnBest(cells: readonly { id: string; value: number; err: number | null }[], higherBetter: boolean): { best: Set<string>; near: Set<string> } {
  if (!cells.length) return { best: new Set(), near: new Set() };
  const top = cells.reduce((a, b) => ((higherBetter ? b.value > a.value : b.value < a.value) ? b : a));
  const best = cells.filter((c) => c.value === top.value);
  const near = cells.filter((c) => c.value !== top.value && best.some((b) => {
    const err = Math.max(c.err ?? 0, b.err ?? 0);
    return err > 0 && Math.abs(c.value - b.value) < err;
  }));
  return { best: new Set(best.map((c) => c.id)), near: new Set(near.map((c) => c.id)) };
}

export const metricName = (m: HeatMetric): string => (m.kind === 'ppl' ? 'perplexity' : m.kind === 'bpb' ? 'bits per byte' : `${m.label} accuracy`);
const fmtValue = (x: number, m: HeatMetric): string => (m.kind === 'ppl' ? fmtNum(x) : m.kind === 'bpb' ? x.toFixed(3) : `${(x * 100).toFixed(1)} %`);
const fmtErr = (x: number, m: HeatMetric): string => (m.kind === 'task' ? `${(x * 100).toFixed(1)}` : m.kind === 'bpb' ? x.toFixed(3) : fmtNum(x, 3));

/**
 * One heatmap of the experiment: rows = dense + one pruned model per calibration source, columns =
 * evaluation languages. Cells fill in as they are measured; pending cells say so. The best
 * calibration per column is starred; a pruned cell whose difference to the best is within the
 * standard error (accuracy) or the spread over seeds is marked "≈" (not a real difference).
 */
export function ExperimentHeatmap({ run, metric }: { run: ExperimentRun; metric: HeatMetric }) {
  const langs = run.settings.evalLanguages.filter((l) => metric.kind !== 'task' || (run.tasks[l] ?? []).some((t) => t.key === metric.key));
  const higherBetter = metric.kind === 'task';
  const name = metricName(metric);
  const pruned = run.rows.filter((r) => r.id !== 'dense');
  const stats = new Map<string, CellStat | null>();
  for (const r of run.rows) for (const l of langs) stats.set(`${r.id}|${l}`, cellStat(run, r.id, l, metric));
  const stat = (rowId: string, l: string): CellStat | null => stats.get(`${rowId}|${l}`) ?? null;
  const badness = (rowId: string, l: string): number => {
    const s = stat(rowId, l);
    const d = stat('dense', l);
    if (!s || !d || rowId === 'dense') return NaN;
    return metric.kind === 'task' ? d.value - s.value : Math.log(s.value / d.value);
  };
  let maxBad = 0;
  for (const r of pruned) for (const l of langs) if (Number.isFinite(badness(r.id, l))) maxBad = Math.max(maxBad, badness(r.id, l));
  // Best per column among the pruned rows, once every pruned row of the column is measured.
  const marks: Record<string, { best: Set<string>; near: Set<string> }> = {};
  for (const l of langs) {
    const ss = pruned.map((r) => ({ id: r.id, s: stat(r.id, l) }));
    marks[l] = pruned.length < 2 || ss.some((x) => !x.s) ? { best: new Set(), near: new Set() } : columnBest(ss.map((x) => ({ id: x.id, ...x.s! })), higherBetter);
  }

  return (
    <div className="table-scroll">
      <table className="heatmap exp-heatmap" aria-label={`Experiment heatmap: ${name}`} data-metric={metric.kind === 'task' ? metric.key : metric.kind}>
        <thead>
          <tr>
            <th scope="col" className="heatmap-corner">
              calibration ↓ / evaluation →
            </th>
            {langs.map((l) => (
              <th key={l} scope="col">
                {l}
              </th>
            ))}
            <th scope="col" className="heatmap-sparsity">
              sparsity
            </th>
          </tr>
        </thead>
        <tbody>
          {run.rows.map((r) => (
            <tr key={r.id} data-row={r.id} className={r.id === 'dense' ? 'heatmap-dense' : undefined}>
              <th scope="row">
                {r.id === 'dense' ? 'dense (no pruning)' : r.label}
                {r.language && r.id !== 'dense' && <span className="exp-row-lang"> {r.language}</span>}
                {r.mode === 'instant' && (
                  <span className="exp-row-mode" data-mode="instant" title="masks mixed from one calibration pass (instant row)">
                    {' '}
                    instant
                  </span>
                )}
              </th>
              {langs.map((l) => {
                const s = stat(r.id, l);
                const source = r.id === 'dense' ? 'dense model' : `calibration ${r.label}`;
                const running = run.current?.rowId === r.id && (run.current.language === l || run.current.language === undefined);
                if (!s) {
                  const state = running && run.status === 'running' ? 'measuring' : run.status === 'running' ? 'pending' : 'not measured';
                  return (
                    <td key={l} data-col={l} data-state="pending" className="exp-pending" aria-label={`${source}, evaluation ${l}, ${name}: ${state}`}>
                      {state === 'measuring' ? '⋯' : '·'}
                    </td>
                  );
                }
                const bad = badness(r.id, l);
                const isBest = marks[l].best.has(r.id);
                const tied = isBest && marks[l].best.size > 1;
                const near = marks[l].near.has(r.id);
                const d = stat('dense', l);
                const change = r.id !== 'dense' && d ? (metric.kind === 'task' ? `${s.value >= d.value ? '+' : '−'}${Math.abs((s.value - d.value) * 100).toFixed(1)} pt` : `×${(s.value / d.value).toFixed(2)}`) : null;
                const err = s.err !== null && s.err > 0 ? ` ± ${fmtErr(s.err, metric)}` : '';
                const label = `${source}, evaluation ${l}, ${name} ${fmtValue(s.value, metric)}${err}${change ? `, ${change} vs dense` : ''}${isBest ? (tied ? ', best calibration for this language (tied)' : ', best calibration for this language') : ''}${near ? ', within the standard error of the best' : ''}`;
                return (
                  <td
                    key={l}
                    data-col={l}
                    data-state="done"
                    data-value={s.value}
                    className={[isBest ? 'heatmap-best' : '', near ? 'exp-near' : '', r.language === l ? 'heatmap-own' : ''].filter(Boolean).join(' ') || undefined}
                    style={r.id === 'dense' ? undefined : heatColor(bad, maxBad)}
                    aria-label={label}
                    title={label}
                  >
                    <span className="heatmap-value">
                      {isBest && <span aria-hidden="true">★ </span>}
                      {near && <span aria-hidden="true">≈ </span>}
                      {fmtValue(s.value, metric)}
                      {err && <span className="exp-err">{err}</span>}
                    </span>
                    {change && <span className="heatmap-ratio">{change}</span>}
                  </td>
                );
              })}
              <td className="heatmap-sparsity">{r.id === 'dense' ? '0 %' : r.sparsity.length ? `${((mean(r.sparsity) ?? 0) * 100).toFixed(1)} %` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
