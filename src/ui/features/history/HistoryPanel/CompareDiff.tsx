import { useId, useState } from 'react';
import type { ExperimentRun } from '../../../store';
import { runTasks } from '../recordRun';
import { fmtNum } from '../../../format';
import { cellStat, type HeatMetric } from '../../experiment/ExperimentHeatmap/ExperimentHeatmap';

/** One cell of the difference of two runs: b − a, with the combined error where both have one. */
export interface DiffCell {
  a: number;
  b: number;
  diff: number;
  /** √(errA² + errB²) of the two cells' standard errors (or spreads over seeds); null when either has none. */
  err: number | null;
  /** |b − a| is below the combined error: no real difference. */
  within: boolean;
}

export interface RunDiff {
  /** Rows in both runs, matched by label (the dense row as dense). */
  rows: { label: string; a: string; b: string }[];
  languages: string[];
  /** cells[row][language]; null where either run lacks the value. */
  cells: (DiffCell | null)[][];
}

/**
 * The difference of two experiments, cell by cell, for one metric: rows matched by their label
 * (calibration source), columns by evaluation language, tasks by name. The error of a difference is
 * the two errors added in quadrature (independent runs); a difference smaller than it is "within the
 * standard error".
 */
export function diffRuns(a: ExperimentRun, b: ExperimentRun, metric: HeatMetric): RunDiff {
  const label = (r: ExperimentRun['rows'][number]): string => (r.id === 'dense' ? 'dense' : r.label);
  const rows = a.rows.flatMap((ra) => {
    const rb = b.rows.find((x) => label(x) === label(ra));
    return rb ? [{ label: label(ra), a: ra.id, b: rb.id }] : [];
  });
  const languages = a.settings.evalLanguages.filter((l) => b.settings.evalLanguages.includes(l));
  const cells = rows.map((r) =>
    languages.map((l) => {
      const sa = cellStat(a, r.a, l, metric);
      const sb = cellStat(b, r.b, l, metric);
      if (!sa || !sb) return null;
      const diff = sb.value - sa.value;
      const err = sa.err !== null && sb.err !== null ? Math.sqrt(sa.err ** 2 + sb.err ** 2) : null;
      return { a: sa.value, b: sb.value, diff, err, within: err !== null && err > 0 && Math.abs(diff) < err };
    }),
  );
  return { rows, languages, cells };
}

const scale = (m: HeatMetric): number => (m.kind === 'task' ? 100 : 1);
const unit = (m: HeatMetric): string => (m.kind === 'task' ? ' pt' : '');
const signed = (x: number, m: HeatMetric): string => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${fmtNum(Math.abs(x * scale(m)), 3)}`;

/** The difference as a bar from zero, with its error bar (whiskers at ± the combined error). */
function ErrorBar({ c, max, higherBetter }: { c: DiffCell; max: number; higherBetter: boolean }) {
  const x = (v: number): number => 50 + (45 * v) / max;
  return (
    <svg className="diff-bar" viewBox="0 0 100 14" width="100" height="14" aria-hidden="true" preserveAspectRatio="none">
      <line x1="50" y1="0" x2="50" y2="14" className="diff-zero" />
      {c.diff !== 0 && <rect x={Math.min(x(0), x(c.diff))} y="4" width={Math.max(1, Math.abs(x(c.diff) - x(0)))} height="6" className={(c.diff > 0) === higherBetter ? 'diff-better' : 'diff-worse'} />}
      {c.err !== null && (
        <g className="diff-err">
          <line x1={x(c.diff - c.err)} y1="7" x2={x(c.diff + c.err)} y2="7" />
          <line x1={x(c.diff - c.err)} y1="3" x2={x(c.diff - c.err)} y2="11" />
          <line x1={x(c.diff + c.err)} y1="3" x2={x(c.diff + c.err)} y2="11" />
        </g>
      )}
    </svg>
  );
}

/**
 * Two experiments opened side by side in History: their difference (second − first) cell by cell,
 * for perplexity, bits per byte or a task both have, with error bars; "≈" marks a difference within
 * the standard error.
 */
export function CompareDiff({ a, b, nameA, nameB }: { a: ExperimentRun; b: ExperimentRun; nameA: string; nameB: string }) {
  const [kind, setKind] = useState<string>('ppl');
  const group = useId();
  const tasksB = new Set(runTasks(b).map((t) => t.key));
  const tasks = runTasks(a).filter((t) => tasksB.has(t.key));
  const task = tasks.find((t) => t.key === kind);
  const metric: HeatMetric = task ? { kind: 'task', key: task.key, label: task.label } : kind === 'bpb' ? { kind: 'bpb' } : { kind: 'ppl' };
  const name = metric.kind === 'ppl' ? 'perplexity' : metric.kind === 'bpb' ? 'bits per byte' : `${metric.label} accuracy`;
  const d = diffRuns(a, b, metric);
  const measured = d.cells.flat().filter((c): c is DiffCell => c !== null);
  const max = Math.max(1e-12, ...measured.map((c) => Math.abs(c.diff) + (c.err ?? 0)));
  return (
    <section className="history-diff" aria-label={`Difference: ${nameB} minus ${nameA}`}>
      <h3>
        Difference: <em>{nameB}</em> − <em>{nameA}</em>
      </h3>
      <div className="row">
        <fieldset className="exp-metric">
          <legend className="visually-hidden">Metric of the difference</legend>
          {[
            ['ppl', 'perplexity'],
            ['bpb', 'bits per byte'],
            ...tasks.map((t) => [t.key, `${t.label} accuracy`]),
          ].map(([k, text]) => (
            <label key={k}>
              <input type="radio" name={group} aria-label={`Difference of ${text}`} checked={(task ? task.key : metric.kind) === k} onChange={() => setKind(k)} /> {text}
            </label>
          ))}
        </fieldset>
      </div>
      {!d.rows.length || !d.languages.length ? (
        <p className="hint">These two runs share no calibration source or no evaluation language, so there is no cell to subtract.</p>
      ) : (
        <>
          <div className="table-scroll">
            <table className="heatmap diff-table" aria-label={`Difference of ${name}`} data-metric={metric.kind === 'task' ? metric.key : metric.kind}>
              <thead>
                <tr>
                  <th scope="col" className="heatmap-corner">
                    calibration ↓ / evaluation →
                  </th>
                  {d.languages.map((l) => (
                    <th key={l} scope="col">
                      {l}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.rows.map((r, i) => (
                  <tr key={r.label} data-row={r.label}>
                    <th scope="row">{r.label === 'dense' ? 'dense (no pruning)' : r.label}</th>
                    {d.languages.map((l, k) => {
                      const c = d.cells[i][k];
                      if (!c) {
                        return (
                          <td key={l} data-col={l} data-state="missing" aria-label={`${r.label}, evaluation ${l}: not measured in both runs`}>
                            ·
                          </td>
                        );
                      }
                      const err = c.err === null ? '' : ` ± ${fmtNum(c.err * scale(metric), 3)}`;
                      const text = `${r.label}, evaluation ${l}, ${name}: ${signed(c.diff, metric)}${unit(metric)}${err} (${fmtNum(c.a * scale(metric))} → ${fmtNum(c.b * scale(metric))})${c.within ? ', within the standard error' : c.err === null ? ', no error estimate' : ''}`;
                      return (
                        <td key={l} data-col={l} data-state="done" data-diff={c.diff} data-err={c.err ?? ''} data-within={c.within || undefined} className={c.within ? 'diff-within' : undefined} aria-label={text} title={text}>
                          <span className="heatmap-value">
                            {c.within && <span aria-hidden="true">≈ </span>}
                            {signed(c.diff, metric)}
                            {unit(metric)}
                            {err && <span className="exp-err">{err}</span>}
                          </span>
                          <ErrorBar c={c} max={max} higherBetter={metric.kind === 'task'} />
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="hint">
            Each cell: {nameB} minus {nameA}
            {metric.kind === 'task' ? ' in accuracy points' : ''}; the bar runs from zero to the difference (green: the second run is better, orange: worse), the whiskers span ± the combined standard error (√(a² + b²) of the two cells&apos; standard errors, or spreads over seeds). ≈: the difference is within the
            standard error (not a real difference). No whiskers: one of the runs has no error estimate for that cell (perplexity with one seed).
          </p>
        </>
      )}
    </section>
  );
}
